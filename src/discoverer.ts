import type { ClusterReading } from './aws/ecsReader.js';
import { INTERVALS, type IntervalName } from './discovery/endpoints.js';
import { selectClusters, type ClusterSelection } from './discovery/clusters.js';
import type { ClusterRef, HostRecord, TaskDefinitionRecord, TaskRecord } from './discovery/model.js';
import {
  SKIP_REASONS,
  resolveTaskTargets,
  type ResolveOptions,
  type Skip,
  type TaskContext,
  type Warning,
} from './discovery/resolveTargets.js';
import { toGroupsByInterval, toPublishedGroup, type GroupsByInterval, type PublishedGroup } from './discovery/targetGroups.js';
import { describeError } from './errors.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';

/** What the discoverer needs of one region's AWS reader. */
export interface RegionReader {
  readonly region: string;
  listClusters(signal?: AbortSignal): Promise<ClusterRef[]>;
  readCluster(cluster: ClusterRef, signal?: AbortSignal): Promise<ClusterReading>;
  cacheSizes(): Record<string, number>;
}

/** A cluster's last good resolution, and how its last attempt went. */
export interface ClusterState {
  region: string;
  cluster: ClusterRef;
  tasks: number;
  pendingTasks: number;
  /** One group per target. */
  targets: PublishedGroup[];
  skips: Skip[];
  warnings: Warning[];
  /** Unix ms of the last good reading; undefined when there has been none. */
  lastSuccessAt: number | undefined;
  /** Why the last attempt failed; undefined when it succeeded. */
  error: string | undefined;
}

/** What a round publishes: served over HTTP and written to the files. */
export interface Snapshot {
  finishedAt: number;
  groups: GroupsByInterval;
  clusters: readonly ClusterState[];
}

/**
 * ok: everything was read and published. partial: some clusters (or a region's listing)
 * failed and kept their last good targets. failed: nothing was read afresh, or nothing could
 * be published.
 */
export type RoundOutcome = 'ok' | 'partial' | 'failed';

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

export interface RoundReport {
  outcome: RoundOutcome;
  startedAt: number;
  durationMs: number;
  apiCalls: number;
  clusters: number;
  tasks: number;
  pendingTasks: number;
  targets: Record<IntervalName, number>;
  /** One line per failure (a region's listing, a cluster, the publishing). */
  failures: string[];
}

export interface DiscovererOptions {
  readers: readonly RegionReader[];
  resolveOptions: ResolveOptions;
  /** Which clusters to scan. @default every cluster */
  clusterSelection?: ClusterSelection;
  /** Hands the round's result to the outputs; rejects when one of them failed. */
  publish: (snapshot: Snapshot) => Promise<void>;
  /** AWS requests made so far (all regions): the round reports the difference. */
  countRequests: () => number;
  logger: Logger;
  metrics: Metrics;
  now?: () => number;
}

/** Logs each skipped container and each warning once, and again only when it changes. */
class ChangeLog {
  #previous = new Map<string, string>();

  /** Returns the entries that are new or changed since the last call. */
  update(entries: Iterable<[key: string, text: string]>): string[] {
    const current = new Map(entries);
    const changed = [...current].filter(([key, text]) => this.#previous.get(key) !== text).map(([, text]) => text);
    this.#previous = current;
    return changed;
  }
}

const containerKey = (entry: Skip | Warning) => `${entry.cluster}|${entry.taskArn}|${entry.container}`;

/** A task's resolution, and the inputs it was made from. */
interface TaskResolution {
  definition: TaskDefinitionRecord | undefined;
  host: HostRecord | undefined;
  targets: PublishedGroup[];
  skips: Skip[];
  warnings: Warning[];
}

const sameHost = (a: HostRecord | undefined, b: HostRecord | undefined) =>
  a?.instanceId === b?.instanceId && a?.privateIp === b?.privateIp && a?.instanceType === b?.instanceType;

/**
 * Runs discovery rounds. Each cluster keeps the targets of its last good reading when
 * anything it needs fails; a cluster that ListClusters no longer returns is dropped. Until a
 * first complete round, nothing is published, so an error never replaces the files of an
 * earlier run with fewer targets.
 */
export class Discoverer {
  readonly #options: DiscovererOptions;
  readonly #now: () => number;
  /** Last state of each cluster, by cluster ARN. */
  readonly #clusters = new Map<string, ClusterState>();
  readonly #skipLog = new ChangeLog();
  readonly #warningLog = new ChangeLog();
  readonly #unknownClusterLog = new ChangeLog();
  /**
   * Resolutions by task. The reader hands out the same cached object for a RUNNING task, and a
   * RUNNING task does not change: it is resolved again only when its definition or host does.
   * Entries go with the tasks the reader forgets.
   */
  readonly #resolutions = new WeakMap<TaskRecord, TaskResolution>();
  #published = false;

  constructor(options: DiscovererOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** The clusters as of the last round. */
  get clusters(): readonly ClusterState[] {
    return [...this.#clusters.values()];
  }

  /** Runs one round. Never rejects: failures are logged, counted and reported. */
  async runRound(signal?: AbortSignal): Promise<RoundReport> {
    const { logger } = this.#options;
    const startedAt = this.#now();
    const requestsBefore = this.#options.countRequests();
    const progress: RoundProgress = { roundFailures: [], clusterFailures: [], fresh: 0, listed: [] };

    await Promise.all(this.#options.readers.map((reader) => this.#readRegion(reader, progress, signal)));
    this.#warnOfUnknownClusters(progress);

    const { roundFailures, clusterFailures } = progress;
    const failed = roundFailures.length + clusterFailures.length > 0;
    const states = this.clusters;
    this.#logChanges(states);
    let outcome: RoundOutcome = !failed ? 'ok' : progress.fresh > 0 ? 'partial' : 'failed';
    const groups = toGroupsByInterval(states.flatMap((state) => state.targets));
    if (!this.#published && failed) {
      outcome = 'failed';
      roundFailures.push('nothing published: no complete round yet, so the previous files are kept');
    } else {
      try {
        await this.#options.publish({ finishedAt: this.#now(), groups, clusters: states });
        this.#published = true;
      } catch (error) {
        outcome = 'failed';
        roundFailures.push(`publishing failed: ${describeError(error)}`);
      }
    }
    const failures = [...roundFailures, ...clusterFailures];

    const report: RoundReport = {
      outcome,
      startedAt,
      durationMs: this.#now() - startedAt,
      apiCalls: this.#options.countRequests() - requestsBefore,
      clusters: states.length,
      tasks: states.reduce((sum, state) => sum + state.tasks, 0),
      pendingTasks: states.reduce((sum, state) => sum + state.pendingTasks, 0),
      targets: Object.fromEntries(INTERVALS.map((interval) => [interval, groups[interval].length])) as Record<
        IntervalName,
        number
      >,
      failures,
    };
    this.#record(report, states);
    // One line per failing cluster, one line for the round: a total outage logs one line per round.
    for (const failure of clusterFailures) logger.warn(failure);
    const targetFields = Object.fromEntries(INTERVALS.map((interval) => [`targets_${interval}`, report.targets[interval]]));
    logger[outcome === 'ok' ? 'info' : 'warn']('round', {
      outcome,
      clusters: report.clusters,
      tasks: report.tasks,
      pending: report.pendingTasks,
      ...targetFields,
      api_calls: report.apiCalls,
      duration_ms: report.durationMs,
      ...(roundFailures.length > 0 && { error: roundFailures.join('; ') }),
    });
    return report;
  }

  async #readRegion(reader: RegionReader, progress: RoundProgress, signal?: AbortSignal): Promise<void> {
    let listed: ClusterRef[];
    try {
      const all = await reader.listClusters(signal);
      progress.listed.push(...all);
      listed = this.#options.clusterSelection ? selectClusters(all, this.#options.clusterSelection) : all;
    } catch (error) {
      const reason = describeError(error);
      progress.roundFailures.push(`region ${reader.region}: clusters kept from the last good round: ${reason}`);
      for (const state of this.#clusters.values()) if (state.region === reader.region) state.error = reason;
      return;
    }
    const listedArns = new Set(listed.map((cluster) => cluster.arn));
    for (const [arn, state] of this.#clusters) {
      if (state.region === reader.region && !listedArns.has(arn)) {
        this.#clusters.delete(arn);
        this.#options.metrics.clusterLastSuccess.remove({ region: state.region, cluster: state.cluster.name });
      }
    }
    await Promise.all(listed.map((cluster) => this.#readCluster(reader, cluster, progress, signal)));
  }

  async #readCluster(reader: RegionReader, cluster: ClusterRef, progress: RoundProgress, signal?: AbortSignal) {
    try {
      const reading = await reader.readCluster(cluster, signal);
      const resolution = this.#resolve(reading.tasks);
      const now = this.#now();
      this.#clusters.set(cluster.arn, {
        region: reader.region,
        cluster,
        tasks: reading.tasks.length,
        pendingTasks: reading.pendingTasks,
        ...resolution,
        lastSuccessAt: now,
        error: undefined,
      });
      this.#options.metrics.clusterLastSuccess.set({ region: reader.region, cluster: cluster.name }, now / 1000);
      progress.fresh += 1;
    } catch (error) {
      const reason = describeError(error);
      const previous = this.#clusters.get(cluster.arn);
      if (previous) {
        previous.error = reason;
        progress.clusterFailures.push(`cluster ${cluster.name} (${reader.region}): keeps its last good targets: ${reason}`);
      } else {
        progress.clusterFailures.push(`cluster ${cluster.name} (${reader.region}): no targets yet: ${reason}`);
      }
    }
  }

  /** Names of the clusters setting that no region lists: probably a typo; said once. */
  #warnOfUnknownClusters({ listed, roundFailures }: RoundProgress): void {
    const names = this.#options.clusterSelection?.names ?? [];
    if (roundFailures.length > 0) return; // A region's listing is missing: nothing to conclude.
    const unknown = names.filter((name) => !listed.some((cluster) => cluster.name === name || cluster.arn === name));
    const texts = this.#unknownClusterLog.update(unknown.map((name) => [name, name]));
    for (const name of texts) {
      this.#options.logger.warn(`cluster "${name}" of the clusters setting is not in any region's cluster list`);
    }
  }

  #resolve(contexts: TaskContext[]): Pick<ClusterState, 'targets' | 'skips' | 'warnings'> {
    const cluster: Pick<ClusterState, 'targets' | 'skips' | 'warnings'> = { targets: [], skips: [], warnings: [] };
    for (const context of contexts) {
      let resolution = this.#resolutions.get(context.task);
      if (resolution === undefined || resolution.definition !== context.definition || !sameHost(resolution.host, context.host)) {
        const resolved = resolveTaskTargets(context, this.#options.resolveOptions);
        resolution = {
          definition: context.definition,
          host: context.host,
          targets: resolved.targets.map(toPublishedGroup),
          skips: resolved.skips,
          warnings: resolved.warnings,
        };
        this.#resolutions.set(context.task, resolution);
      }
      cluster.targets.push(...resolution.targets);
      cluster.skips.push(...resolution.skips);
      cluster.warnings.push(...resolution.warnings);
    }
    return cluster;
  }

  #logChanges(states: readonly ClusterState[]): void {
    const skips = states.flatMap((state) => state.skips);
    const warnings = states.flatMap((state) => state.warnings);
    const skipTexts = this.#skipLog.update(
      skips.map((skip) => [
        containerKey(skip),
        `skipped container ${skip.container} of task ${skip.taskArn} (cluster ${skip.cluster}): ${skip.reason}: ${skip.detail}`,
      ]),
    );
    const warningTexts = this.#warningLog.update(
      warnings.map((warning) => [
        `${containerKey(warning)}|${warning.message}`,
        `container ${warning.container} of task ${warning.taskArn} (cluster ${warning.cluster}): ${warning.message}`,
      ]),
    );
    for (const text of [...skipTexts, ...warningTexts]) this.#options.logger.warn(text);
  }

  #record(report: RoundReport, states: readonly ClusterState[]): void {
    const { metrics } = this.#options;
    metrics.rounds.inc({ outcome: report.outcome });
    metrics.roundDuration.observe(report.durationMs / 1000);
    if (report.outcome === 'ok') metrics.lastSuccess.set(this.#now() / 1000);
    for (const interval of INTERVALS) metrics.targets.set({ interval }, report.targets[interval]);
    const skipsByReason = new Map<string, number>(SKIP_REASONS.map((reason) => [reason, 0]));
    for (const skip of states.flatMap((state) => state.skips)) {
      skipsByReason.set(skip.reason, (skipsByReason.get(skip.reason) ?? 0) + 1);
    }
    for (const [reason, count] of skipsByReason) metrics.skippedContainers.set({ reason }, count);
    metrics.clusters.set(report.clusters);
    metrics.tasks.set(report.tasks);
    metrics.cacheSize.reset();
    for (const reader of this.#options.readers) {
      for (const [cache, size] of Object.entries(reader.cacheSizes())) metrics.cacheSize.inc({ cache }, size);
    }
  }
}
