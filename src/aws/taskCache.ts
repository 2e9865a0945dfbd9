import type { TaskRecord } from '../discovery/model.js';

interface CachedTask {
  readonly record: TaskRecord;
  /** When DescribeTasks last returned it (ms). */
  readonly describedAt: number;
  /** The cache's count of sets when it was set (see mark). */
  readonly setAt: number;
}

/**
 * The RUNNING tasks of each cluster as DescribeTasks last described them. Each cluster's tasks
 * are kept in the order they were described, so the stalest come first: that is the order in
 * which they are described again (SEMANTICS.md, "Freshness").
 */
export class TaskCache {
  readonly #clusters = new Map<string, Map<string, CachedTask>>();
  /** By cluster: tasks that events brought and no describe has seen yet (their health status is not known). */
  readonly #undescribed = new Map<string, Set<string>>();
  #sets = 0;

  #tasksOf(clusterArn: string): Map<string, CachedTask> {
    let tasks = this.#clusters.get(clusterArn);
    if (tasks === undefined) {
      tasks = new Map();
      this.#clusters.set(clusterArn, tasks);
    }
    return tasks;
  }

  get size(): number {
    let size = 0;
    for (const tasks of this.#clusters.values()) size += tasks.size;
    return size;
  }

  /** Tasks cached for a cluster. */
  countOf(clusterArn: string): number {
    return this.#clusters.get(clusterArn)?.size ?? 0;
  }

  get(clusterArn: string, taskArn: string): TaskRecord | undefined {
    return this.#clusters.get(clusterArn)?.get(taskArn)?.record;
  }

  /** Keeps a task as just described: it becomes the freshest of its cluster. */
  set(clusterArn: string, record: TaskRecord, describedAt: number): void {
    const tasks = this.#tasksOf(clusterArn);
    tasks.delete(record.arn);
    this.#undescribed.get(clusterArn)?.delete(record.arn);
    this.#sets += 1;
    tasks.set(record.arn, { record, describedAt, setAt: this.#sets });
  }

  /** Tasks set from events, never described: the next reading describes them (markUndescribed after set). */
  markUndescribed(clusterArn: string, taskArns: Iterable<string>): void {
    let undescribed = this.#undescribed.get(clusterArn);
    if (undescribed === undefined) {
      undescribed = new Set();
      this.#undescribed.set(clusterArn, undescribed);
    }
    for (const arn of taskArns) undescribed.add(arn);
  }

  /** A cluster's cached tasks that no describe has seen. */
  undescribed(clusterArn: string): string[] {
    const undescribed = this.#undescribed.get(clusterArn);
    if (undescribed === undefined) return [];
    const tasks = this.#clusters.get(clusterArn);
    // Forgotten tasks leave the set here, not in every method that forgets.
    for (const arn of undescribed) if (!tasks?.has(arn)) undescribed.delete(arn);
    return [...undescribed];
  }

  /** A mark of now: tasks set after it are newer than what was known then (retainListed, list). */
  mark(): number {
    return this.#sets;
  }

  /** Forgets tasks, so that the next reading describes them again. */
  delete(clusterArn: string, taskArns: Iterable<string>): void {
    const tasks = this.#clusters.get(clusterArn);
    if (tasks === undefined) return;
    for (const arn of taskArns) tasks.delete(arn);
  }

  /**
   * Forgets the tasks of a cluster that its listing no longer has, but those set (described, or
   * told of by an event) after the mark `keepSetAfter`: they are newer than the listing.
   */
  retainListed(clusterArn: string, listed: ReadonlySet<string>, keepSetAfter = Infinity): void {
    const tasks = this.#clusters.get(clusterArn);
    if (tasks === undefined) return;
    // forEach, not for...of over entries: no pair array for each of thousands of tasks every round.
    tasks.forEach((cached, arn) => {
      if (!listed.has(arn) && cached.setAt <= keepSetAfter) tasks.delete(arn);
    });
  }

  /** A cluster's tasks, stalest first; with `setAfter` (a mark), only those set after it. */
  list(clusterArn: string, setAfter = -Infinity): TaskRecord[] {
    const found: TaskRecord[] = [];
    // forEach, not for...of: once per cluster and round over all its tasks, mostly unoptimized, with no result object per task.
    this.#clusters.get(clusterArn)?.forEach((cached) => {
      if (cached.setAt > setAfter) found.push(cached.record);
    });
    return found;
  }

  /** Forgets every cluster but these (the others are gone, or no longer selected). */
  retainClusters(clusterArns: ReadonlySet<string>): void {
    for (const arn of this.#clusters.keys()) if (!clusterArns.has(arn)) this.#clusters.delete(arn);
    for (const arn of this.#undescribed.keys()) if (!clusterArns.has(arn)) this.#undescribed.delete(arn);
  }

  /**
   * Up to `count` of a cluster's tasks, stalest first, leaving out `except`; with
   * `describedBefore`, only tasks described before that time (ms).
   */
  stalest(clusterArn: string, count: number, except: ReadonlySet<string>, describedBefore = Infinity): string[] {
    const found: string[] = [];
    if (count <= 0) return found;
    for (const [arn, cached] of this.#clusters.get(clusterArn) ?? []) {
      // Insertion order is describe order: the first task that is too fresh ends the search.
      if (cached.describedAt >= describedBefore) break;
      if (except.has(arn)) continue;
      found.push(arn);
      if (found.length >= count) break;
    }
    return found;
  }
}
