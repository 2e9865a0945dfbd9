import { setMaxListeners } from 'node:events';
import { ChangeLog, FindingsLog } from './changeLog.js';
import { ClusterStates } from './clusterStates.js';
import { INTERVALS } from './discovery/endpoints.js';
import { selectClusters, type ClusterSelection } from './discovery/clusters.js';
import type { ClusterRef } from './discovery/model.js';
import type { ResolveOptions, Skip, Warning } from './discovery/resolveTargets.js';
import { countByInterval, toGroupsByInterval, type PublishedGroup } from './discovery/targetGroups.js';
import { untilAborted } from './abort.js';
import { describeError } from './errors.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';
import { ResolutionCache } from './resolutionCache.js';
import type { ClusterReading, RegionReader, RoundOutcome, RoundReport, RoundResult, Snapshot } from './round.js';
import { recordRound } from './roundMetrics.js';

/** What the reads of one round have found so far. */
interface RoundProgress {
  /** Failures of the round as a whole (a region's listing): they go into the round's log line. */
  roundFailures: string[];
  /** One per failing cluster: each gets a log line of its own. */
  clusterFailures: string[];
  /** Clusters read afresh. */
  fresh: number;
  /** Every cluster that a region listed, before selection. */
  listed: ClusterRef[];
}

export interface DiscovererOptions {
  readers: readonly RegionReader[];
  resolveOptions: ResolveOptions;
  /** Which clusters to scan. @default every cluster */
  clusterSelection?: ClusterSelection;
  /** Hands the round's snapshot to the outputs; rejects when one of them failed. @default publishes nothing (`check`) */
  publish?: (snapshot: Snapshot) => Promise<void>;
  /**
   * How long one cluster may be read in a round: one still being read then is abandoned for the
   * round (it keeps its last good targets), so that it never holds the others. @default 60_000
   */
  clusterTimeoutMs?: number;
  /** AWS requests made so far (all regions): the round reports the difference. */
  countRequests: () => number;
  logger: Logger;
  metrics: Metrics;
  now?: () => number;
}

/**
 * Runs discovery rounds. Each cluster keeps the targets of its last good reading when
 * anything it needs fails; a cluster that ListClusters no longer returns is dropped. Until a
 * first complete round, nothing is published, so an error never replaces the files of an
 * earlier run with fewer targets.
 */
export class Discoverer {
  readonly #options: DiscovererOptions;
  readonly #now: () => number;
  readonly #states = new ClusterStates();
  readonly #resolutions: ResolutionCache;
  readonly #findings: FindingsLog;
  readonly #unknownClusterLog = new ChangeLog();
  /** Regions whose last listing answered no cluster at all, after one that listed some: not believed yet. */
  readonly #doubtedEmptyListings = new Set<string>();
  #published = false;

  constructor(options: DiscovererOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#resolutions = new ResolutionCache(options.resolveOptions);
    this.#findings = new FindingsLog(options.logger);
  }

  /** Runs one round. Never rejects: failures are logged, counted and reported. */
  async runRound(signal?: AbortSignal): Promise<RoundResult> {
    const { logger, publish } = this.#options;
    const startedAt = this.#now();
    const requestsBefore = this.#options.countRequests();
    const progress: RoundProgress = { roundFailures: [], clusterFailures: [], fresh: 0, listed: [] };

    await Promise.all(this.#options.readers.map((reader) => this.#readRegion(reader, progress, signal)));
    this.#warnOfUnknownClusters(progress);

    const { roundFailures, clusterFailures } = progress;
    const failed = roundFailures.length + clusterFailures.length > 0;
    const states = this.#states.list();
    this.#findings.log(states);
    let outcome: RoundOutcome = !failed ? 'ok' : progress.fresh > 0 ? 'partial' : 'failed';
    const snapshot: Snapshot = Object.freeze({
      finishedAt: this.#now(),
      groups: toGroupsByInterval(states.flatMap((state) => state.targets)),
      clusters: states,
    });
    if (publish !== undefined) {
      if (!this.#published && failed) {
        outcome = 'failed';
        roundFailures.push('nothing published: no complete round yet, so the previous files are kept');
      } else {
        try {
          await publish(snapshot);
          this.#published = true;
        } catch (error) {
          outcome = 'failed';
          roundFailures.push(`publishing failed: ${describeError(error)}`);
        }
      }
    }

    const report: RoundReport = Object.freeze({
      outcome,
      startedAt,
      durationMs: this.#now() - startedAt,
      apiCalls: this.#options.countRequests() - requestsBefore,
      clusters: states.length,
      tasks: states.reduce((sum, state) => sum + state.tasks, 0),
      pendingTasks: states.reduce((sum, state) => sum + state.pendingTasks, 0),
      targets: countByInterval(snapshot.groups),
      failures: [...roundFailures, ...clusterFailures],
    });
    recordRound(this.#options.metrics, report, states, this.#options.readers);
    // One line per failing cluster, one line for the round: a total outage logs one line per round.
    for (const failure of clusterFailures) logger.warn(failure);
    logger[outcome === 'ok' ? 'info' : 'warn']('round', {
      outcome,
      clusters: report.clusters,
      tasks: report.tasks,
      pending: report.pendingTasks,
      ...Object.fromEntries(INTERVALS.map((interval) => [`targets_${interval}`, report.targets[interval]])),
      api_calls: report.apiCalls,
      duration_ms: report.durationMs,
      ...(roundFailures.length > 0 && { error: roundFailures.join('; ') }),
    });
    return { report, snapshot };
  }

  async #readRegion(reader: RegionReader, progress: RoundProgress, signal?: AbortSignal): Promise<void> {
    let listed: ClusterRef[];
    try {
      const all = await reader.listClusters(signal);
      this.#doubtEmptyListing(reader.region, all);
      progress.listed.push(...all);
      listed = this.#options.clusterSelection ? selectClusters(all, this.#options.clusterSelection) : all;
    } catch (error) {
      const reason = describeError(error);
      progress.roundFailures.push(`region ${reader.region}: clusters kept from the last good round: ${reason}`);
      this.#states.markRegionFailed(reader.region, reason);
      return;
    }
    this.#states.retainListed(reader.region, listed);
    await Promise.all(listed.map((cluster) => this.#readCluster(reader, cluster, progress, signal)));
  }

  async #readCluster(reader: RegionReader, cluster: ClusterRef, progress: RoundProgress, signal?: AbortSignal) {
    const timeoutMs = this.#options.clusterTimeoutMs ?? 60_000;
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new Error(`still being read after ${timeoutMs / 1000} s (aws.clusterTimeout)`)), timeoutMs);
    const clusterSignal = signal === undefined ? deadline.signal : AbortSignal.any([signal, deadline.signal]);
    // Every AWS request of the cluster's reading listens to it.
    setMaxListeners(0, clusterSignal);
    let reading: ClusterReading;
    try {
      reading = await untilAborted(reader.readCluster(cluster, clusterSignal, signal), clusterSignal);
    } catch (error) {
      // The cluster's own deadline, not the round's end: say so, instead of "Request aborted".
      const abandoned = deadline.signal.aborted && !signal?.aborted;
      const reason = abandoned ? `abandoned for this round: ${(deadline.signal.reason as Error).message}` : describeError(error);
      const kept = this.#states.markFailed(cluster.arn, reason) !== undefined;
      const what = kept ? 'keeps its last good targets' : 'no targets yet';
      progress.clusterFailures.push(`cluster ${cluster.name} (${reader.region}): ${what}: ${reason}`);
      return;
    } finally {
      clearTimeout(timer);
    }
    const targets: PublishedGroup[] = [];
    const skips: Skip[] = [];
    const warnings: Warning[] = [];
    const incomplete = new Set<string>();
    for (const context of reading.tasks) {
      const resolution = this.#resolutions.resolve(context);
      targets.push(...resolution.targets);
      skips.push(...resolution.skips);
      warnings.push(...resolution.warnings);
      for (const skip of resolution.skips) if (skip.transient) incomplete.add(skip.taskArn);
    }
    // A RUNNING task whose bindings or address ECS has not filled in yet is described again, like a PENDING one.
    if (incomplete.size > 0) reader.describeAgain(cluster, incomplete);
    this.#states.set({
      region: reader.region,
      cluster,
      tasks: reading.tasks.length,
      pendingTasks: reading.pendingTasks,
      targets: Object.freeze(targets),
      skips: Object.freeze(skips),
      warnings: Object.freeze(warnings),
      lastSuccessAt: this.#now(),
      error: undefined,
    });
    progress.fresh += 1;
  }

  /**
   * Every cluster of a region gone at once is far more likely an odd answer than a fact: one
   * such listing after a round that had clusters is not believed (throws, so the region keeps
   * its clusters), the next one in a row is.
   */
  #doubtEmptyListing(region: string, all: readonly ClusterRef[]): void {
    const known = this.#states.countOf(region);
    if (all.length > 0 || known === 0 || this.#doubtedEmptyListings.has(region)) {
      this.#doubtedEmptyListings.delete(region);
      return;
    }
    this.#doubtedEmptyListings.add(region);
    throw new Error(`ListClusters answered no cluster at all, where the last good round had ${known}; not believed until the next answer agrees`);
  }

  /** Names of the clusters setting that no region lists: probably a typo; said once. */
  #warnOfUnknownClusters({ listed, roundFailures }: RoundProgress): void {
    const names = this.#options.clusterSelection?.names ?? [];
    if (roundFailures.length > 0) return; // A region's listing is missing: nothing to conclude.
    const unknown = names.filter((name) => !listed.some((cluster) => cluster.name === name || cluster.arn === name));
    for (const name of this.#unknownClusterLog.update(unknown.map((name) => [name, name]))) {
      this.#options.logger.warn(`cluster "${name}" of the clusters setting is not in any region's cluster list`);
    }
  }
}
