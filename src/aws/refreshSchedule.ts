/** The fraction of the golden ratio: k × it, modulo 1, spreads any number of points nearly evenly over [0, 1). */
const GOLDEN_FRACTION = (Math.sqrt(5) - 1) / 2;

/**
 * How much of each cluster's task refresh is owed, so that refreshes go out in whole
 * DescribeTasks calls (SEMANTICS.md, "Freshness"). Each reading adds the cluster's share
 * (tasks × interval / taskRefresh); once a whole call's worth is owed (`callSize` tasks, or the
 * whole cluster when it is smaller), that many of its stalest tasks are described again
 * together. A call costs the same in the tasks bucket however few tasks it carries: a cluster of
 * 20 tasks is refreshed by one call every taskRefresh, not by one call every round. Each cluster
 * starts at its own point of the cycle, so that the refresh calls of clusters alike fall in
 * different rounds rather than all in the same one.
 */
export class RefreshSchedule {
  readonly #callSize: number;
  /** By cluster: tasks' worth of refresh owed. */
  readonly #owed = new Map<string, number>();
  #clustersStarted = 0;

  constructor(callSize: number) {
    this.#callSize = callSize;
  }

  /**
   * Adds a reading's share to what a cluster of `cached` tasks is owed, and returns how many of
   * its tasks to describe again now: whole calls, or none.
   */
  due(clusterArn: string, cached: number, share: number): number {
    const callSize = Math.min(this.#callSize, cached);
    if (callSize <= 0) return 0;
    // The k-th cluster starts k × 0.618... of a call into its cycle.
    const owed = this.#owed.get(clusterArn) ?? ((this.#clustersStarted++ * GOLDEN_FRACTION) % 1) * callSize;
    // Never more than every task: with a refresh no longer than the interval, every task every round.
    const owedNow = Math.min(owed + share, cached);
    this.#owed.set(clusterArn, owedNow);
    if (owedNow === cached) return cached;
    // Sums of fractions (12.5 eight times) may fall a hair short of the whole they make.
    return Math.floor(owedNow / callSize + 1e-9) * callSize;
  }

  /** Takes off what a reading described again: due, overdue, or riding in a call that went anyway. */
  spend(clusterArn: string, described: number): void {
    const owed = this.#owed.get(clusterArn);
    if (owed !== undefined) this.#owed.set(clusterArn, Math.max(owed - described, 0));
  }

  /** Forgets every cluster but these. */
  retain(clusterArns: ReadonlySet<string>): void {
    for (const arn of this.#owed.keys()) if (!clusterArns.has(arn)) this.#owed.delete(arn);
  }
}
