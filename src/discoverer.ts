import { setMaxListeners } from 'node:events';
import { FindingsLog } from './changeLog.js';
import { resolveReading } from './clusterResolution.js';
import { ClusterStates, isInScope } from './clusterStates.js';
import { selectClusters, type ClusterSelection } from './discovery/clusters.js';
import { accountOfArn, type ClusterRef } from './discovery/model.js';
import type { ResolveOptions } from './discovery/resolveTargets.js';
import { countByInterval } from './discovery/targetGroups.js';
import { untilAborted } from './abort.js';
import type { CallTurn } from './callOptions.js';
import { describeError } from './errors.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';
import { ResolutionCache } from './resolutionCache.js';
import { EmptyListingDoubt, UnknownClusterNames } from './listingChecks.js';
import { ReaderOutcomes, namesAccounts, placeOf } from './readerOutcomes.js';
import type { ClusterReading, ClusterState, RegionReader, RoundOutcome, RoundResult, Snapshot } from './round.js';
import { logRound, toRoundReport, type ClusterFailure } from './roundReport.js';
import { recordRound } from './roundMetrics.js';
import { LoopBlockWatch } from './loopBlocks.js';
import { reportProgress, type ProgressFigures } from './roundProgress.js';
import { SnapshotGroups } from './snapshotGroups.js';
import { UnreadClusters } from './unreadClusters.js';
import type { TimeSlicing } from './timeSlices.js';

/** What the reads of one round have found so far. */
interface RoundProgress {
  /** Failures of the round as a whole (a region's listing): they go into the round's log line. */
  roundFailures: string[];
  /** One per failing cluster: each gets a log line of its own. */
  clusterFailures: ClusterFailure[];
  /** How each reader (account and region) fared; a failing role gets a log line of its own. */
  readers: ReaderOutcomes;
  /** Clusters read afresh. */
  fresh: number;
  /** Every cluster that a region listed, before selection. */
  listed: ClusterRef[];
  /** Clusters selected for reading, and those whose reading ended (well or not). */
  selected: number;
  done: number;
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
  /** Of those, the ones AWS throttled. @default none counted */
  countThrottled?: () => number;
  /** How often a long first round logs its progress. @default 5000 */
  progressEveryMs?: number;
  /** The level of a failed round's line: error where the round is the whole run (--once). @default 'warn' */
  failedRoundLevel?: 'warn' | 'error';
  /** Gets how a first round goes while it runs, every second or so (the status page shows it). */
  onProgress?: (progress: ProgressFigures) => void;
  logger: Logger;
  metrics: Metrics;
  /** What an earlier run published, per cluster (read back from the files): the last good state until read afresh. */
  earlierStates?: readonly ClusterState[];
  /** Rounds after which a cluster that was never read is said, loudly, to be published without targets. @default 3 */
  unreadClusterRounds?: number;
  now?: () => number;
  /** How resolving a cluster gives way to other work. @default slices of 10 ms (DEFAULT_TIME_SLICING) */
  timeSlicing?: TimeSlicing;
}

/**
 * Runs discovery rounds. Each cluster keeps the targets of its last good reading when
 * anything it needs fails (at start: what an earlier run published for it); a cluster that
 * ListClusters no longer returns is dropped. So an error never replaces the files of an earlier
 * run with fewer targets, and healthy clusters are published from the first round.
 */
export class Discoverer {
  #options: DiscovererOptions;
  readonly #now: () => number;
  readonly #states = new ClusterStates();
  #resolutions: ResolutionCache;
  readonly #groups = new SnapshotGroups();
  readonly #findings: FindingsLog;
  readonly #unknownClusterNames: UnknownClusterNames;
  readonly #unread: UnreadClusters;
  /** Publish each cluster as soon as it is read: until a first round ends, when nothing earlier was published. */
  #publishAsRead: boolean;
  /** The publication under way while clusters are read, and whether another was asked for meanwhile. */
  #early: { running: Promise<void>; again: boolean } | undefined;
  #firstPublished = false;
  #roundsRun = 0;
  readonly #emptyListingDoubt = new EmptyListingDoubt();
  /** Texts name the account of each cluster: the process reads several (aws.roles). */
  readonly #namesAccounts: boolean;
  /** Per cluster ARN, how many times events changed what its reader holds (see refreshCluster). */
  readonly #eventChanges = new Map<string, number>();
  readonly #loopBlocks = new LoopBlockWatch();

  constructor(options: DiscovererOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    // What an earlier run published for an account or region no longer read is not kept.
    for (const state of options.earlierStates ?? []) if (options.readers.some((reader) => isInScope(state, reader))) this.#states.set(state);
    this.#namesAccounts = namesAccounts(options.readers);
    this.#publishAsRead = this.#states.list().length === 0;
    this.#resolutions = new ResolutionCache(options.resolveOptions);
    this.#findings = new FindingsLog(options.logger);
    this.#unknownClusterNames = new UnknownClusterNames(options.logger);
    this.#unread = new UnreadClusters(options.logger, options.unreadClusterRounds);
  }

  /** Takes new resolve options and cluster selection (a reloaded config) from the next round on. */
  reconfigure({ resolveOptions, clusterSelection }: Pick<DiscovererOptions, 'resolveOptions' | 'clusterSelection'>): void {
    this.#options = { ...this.#options, resolveOptions, ...(clusterSelection && { clusterSelection }) };
    this.#resolutions = new ResolutionCache(resolveOptions);
  }

  /** Runs one round. Never rejects: failures are logged, counted and reported. */
  async runRound(signal?: AbortSignal): Promise<RoundResult> {
    this.#loopBlocks.start();
    try {
      return await this.#readAndPublish(signal);
    } finally {
      // Also after an unexpected error: the sampler must not run on between rounds.
      this.#options.metrics.roundLoopBlock.set(this.#loopBlocks.stop());
    }
  }

  async #readAndPublish(signal: AbortSignal | undefined): Promise<RoundResult> {
    const { logger, publish } = this.#options;
    const startedAt = this.#now();
    const requestsBefore = this.#options.countRequests();
    const progress: RoundProgress = { roundFailures: [], clusterFailures: [], readers: new ReaderOutcomes(), fresh: 0, listed: [], selected: 0, done: 0 };

    // A first round describes everything: on a large account it takes a while; say how it goes.
    const stopProgress = this.#firstPublished || this.#roundsRun > 0 ? undefined : this.#reportProgress(progress, requestsBefore, startedAt);
    try {
      await Promise.all(this.#options.readers.map((reader) => this.#readRegion(reader, progress, signal)));
    } finally {
      stopProgress?.();
    }
    this.#roundsRun += 1;
    this.#publishAsRead = false;
    await this.#early?.running;
    const unknownClusters = this.#unknownClusterNames.find(this.#options.clusterSelection?.names ?? [], progress.listed, progress.roundFailures.length > 0);

    const { roundFailures, clusterFailures } = progress;
    // check publishes nothing, and keeps nothing: it says what could not be read.
    const roleFailures = progress.readers.roleFailures(publish === undefined ? 'clusters could not be listed' : 'clusters kept from the last good round');
    const failed = roundFailures.length + clusterFailures.length + roleFailures.length > 0;
    const states = this.#states.list();
    this.#findings.log(states);
    let outcome: RoundOutcome = !failed ? 'ok' : progress.fresh > 0 ? 'partial' : 'failed';
    this.#resolutions.retainClusters(new Set(states.map((state) => state.cluster.arn)));
    const snapshot: Snapshot = Object.freeze({
      finishedAt: this.#now(),
      groups: this.#groups.of(states),
      clusters: states,
    });
    const unreadClusters = this.#unread.report();
    if (publish !== undefined) {
      if (states.length === 0 && failed) {
        outcome = 'failed';
        roundFailures.push('nothing published: no cluster read yet, and no earlier targets in the output directory');
      } else {
        try {
          await publish(snapshot);
          this.#noteFirstPublished(snapshot);
        } catch (error) {
          outcome = 'failed';
          roundFailures.push(`publishing failed: ${describeError(error)}`);
        }
      }
    }

    const failures = { round: roundFailures, roles: roleFailures, clusters: clusterFailures };
    const report = toRoundReport({
      outcome,
      startedAt,
      durationMs: this.#now() - startedAt,
      apiCalls: this.#options.countRequests() - requestsBefore,
      states,
      groups: snapshot.groups,
      failures,
      unreadClusters,
      unknownClusters,
      readers: progress.readers.list(),
    });
    recordRound(this.#options.metrics, report, states, this.#options.readers);
    logRound(logger, report, failures, this.#options.failedRoundLevel);
    return { report, snapshot };
  }

  #reportProgress(progress: RoundProgress, requestsBefore: number, startedAt: number): () => void {
    const { logger, readers, countRequests, countThrottled, onProgress } = this.#options;
    const read = () => {
      const described = readers.map((reader) => reader.described?.() ?? { tasks: 0, taskDefinitions: 0 });
      return {
        startedAt,
        clustersListed: progress.selected,
        clustersDone: progress.done,
        tasksDescribed: described.reduce((sum, counts) => sum + counts.tasks, 0),
        taskDefinitionsDescribed: described.reduce((sum, counts) => sum + counts.taskDefinitions, 0),
        apiCalls: countRequests() - requestsBefore,
        throttled: countThrottled?.() ?? 0,
      };
    };
    return reportProgress({ read, logger, logEveryMs: this.#options.progressEveryMs ?? 5000, onProgress });
  }

  #noteFirstPublished(snapshot: Snapshot): void {
    if (this.#firstPublished) return;
    const targets = Object.values(countByInterval(snapshot.groups)).reduce((sum, count) => sum + count, 0);
    // A cluster without targets read first (an empty one) is no first target; the round's end says what there is.
    if (snapshot.soFar === true && targets === 0) return;
    this.#firstPublished = true;
    this.#options.logger.info('first targets published', { targets });
  }

  /**
   * On a fresh output directory, publishes what the round has read so far, so that Prometheus
   * can start scraping within seconds of the start, not after the last cluster of a long cold
   * round. Nothing earlier can shrink: there was nothing on disk (HTTP SD, which a Prometheus
   * may have read from an earlier process, takes only the round's end: Snapshot.soFar). Calls
   * while one publication runs collapse into one more.
   */
  #publishSoFar(): void {
    const { publish } = this.#options;
    if (publish === undefined || !this.#publishAsRead) return;
    if (this.#early !== undefined) {
      this.#early.again = true;
      return;
    }
    const early = { running: Promise.resolve(), again: false };
    early.running = (async () => {
      do {
        early.again = false;
        const clusters = this.#states.list();
        const snapshot: Snapshot = Object.freeze({
          finishedAt: this.#now(),
          groups: this.#groups.of(clusters),
          clusters,
          soFar: true,
        });
        try {
          await publish(snapshot);
          this.#noteFirstPublished(snapshot);
        } catch {
          // The round's own publication says why.
          return;
        }
      } while (early.again && this.#publishAsRead);
    })().finally(() => {
      this.#early = undefined;
    });
    this.#early = early;
  }

  async #readRegion(reader: RegionReader, progress: RoundProgress, signal?: AbortSignal): Promise<void> {
    let listed: ClusterRef[];
    try {
      const all = await reader.listClusters(signal);
      this.#emptyListingDoubt.check(reader, all, this.#states.countOf(reader));
      progress.listed.push(...all);
      listed = this.#options.clusterSelection ? selectClusters(all, this.#options.clusterSelection) : all;
    } catch (error) {
      const reason = describeError(error);
      progress.readers.failed(reader, reason);
      // check publishes nothing, and keeps nothing: it says what could not be read. A role's failure has a line of its own.
      const what = this.#options.publish === undefined ? 'clusters could not be listed' : 'clusters kept from the last good round';
      if (reader.role === undefined) progress.roundFailures.push(`region ${reader.region}: ${what}: ${reason}`);
      this.#states.markRegionFailed(reader, reason);
      return;
    }
    progress.readers.listed(reader, listed.length);
    progress.selected += listed.length;
    this.#states.retainListed(reader, listed);
    this.#unread.retainListed(reader, new Set(listed.map((cluster) => cluster.arn)));
    // In listing order when calls must wait (callOptions.ts): the clusters finish one after the
    // other. After the first round, whose clusters may be published as they are read, the calls
    // may go a few at once: nothing is published before the round ends.
    const together = this.#roundsRun > 0;
    await Promise.all(listed.map((cluster, rank) => this.#readCluster(reader, cluster, { priority: rank, together }, progress, signal)));
  }

  async #readCluster(reader: RegionReader, cluster: ClusterRef, turn: CallTurn, progress: RoundProgress, signal?: AbortSignal) {
    const timeoutMs = this.#options.clusterTimeoutMs ?? 60_000;
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new Error(`still being read after ${timeoutMs / 1000} s (aws.clusterTimeout)`)), timeoutMs);
    const clusterSignal = signal === undefined ? deadline.signal : AbortSignal.any([signal, deadline.signal]);
    // Every AWS request of the cluster's reading listens to it.
    setMaxListeners(0, clusterSignal);
    const eventChangesBefore = this.#eventChanges.get(cluster.arn) ?? 0;
    let reading: ClusterReading;
    try {
      reading = await untilAborted(reader.readCluster(cluster, clusterSignal, signal, turn), clusterSignal);
    } catch (error) {
      // The cluster's own deadline, not the round's end: say so, not only the abort's reason.
      const abandoned = deadline.signal.aborted && !signal?.aborted;
      const reason = abandoned ? `abandoned for this round: ${(deadline.signal.reason as Error).message}` : describeError(error);
      const kept = this.#states.markFailed(cluster.arn, reason) !== undefined;
      const account = this.#namesAccounts ? accountOfArn(cluster.arn) : undefined;
      if (!kept) this.#unread.failed(cluster, reader.region, account, reason);
      const what = this.#options.publish === undefined ? 'could not be read' : kept ? 'keeps its last good targets' : 'no targets yet';
      progress.clusterFailures.push({
        text: `cluster ${cluster.name} (${placeOf(reader.region, account, true)}): ${what}: ${reason}`,
        cluster: cluster.name,
        region: reader.region,
        ...(account !== undefined && { account }),
        error: reason,
      });
      progress.done += 1;
      return;
    } finally {
      clearTimeout(timer);
    }
    const { incomplete, ...resolved } = await resolveReading(this.#resolutions, reading, this.#options.timeSlicing);
    // A RUNNING task whose bindings or address ECS has not filled in yet is described again, like a PENDING one.
    if (incomplete.size > 0) reader.describeAgain(cluster, incomplete);
    this.#states.set({
      region: reader.region,
      cluster,
      tasks: reading.tasks.length,
      pendingTasks: reading.pendingTasks,
      ...resolved,
      lastSuccessAt: this.#now(),
      error: undefined,
    });
    this.#unread.read(cluster.arn);
    // Events changed the cluster while it was read: this reading may predate them, the caches do not.
    if ((this.#eventChanges.get(cluster.arn) ?? 0) !== eventChangesBefore) await this.refreshCluster(cluster.arn, signal).catch(() => {});
    progress.fresh += 1;
    progress.done += 1;
    this.#publishSoFar();
  }

  /** Whether the cluster has a state (it was listed and selected): events of other clusters are not for this discoverer, yet. */
  hasCluster(clusterArn: string): boolean {
    return this.#states.get(clusterArn) !== undefined;
  }

  /**
   * Resolves a cluster again from what its reader holds, after events changed it, so that the
   * change is published without a round (publishLatest). A cluster not read afresh yet is left
   * to its first reading; returns whether the cluster was resolved. Rejects when something its
   * tasks need cannot be read. Each state is made from the caches as they were when it was
   * made: one set meanwhile (a round's, another event's) makes it start again from the latest.
   */
  async refreshCluster(clusterArn: string, signal?: AbortSignal): Promise<boolean> {
    this.#eventChanges.set(clusterArn, (this.#eventChanges.get(clusterArn) ?? 0) + 1);
    for (;;) {
      const state = this.#states.get(clusterArn);
      if (state === undefined || state.restored === true || state.lastSuccessAt === undefined) return false;
      const reader = this.#options.readers.find((candidate) => isInScope(state, candidate));
      if (reader?.readCached === undefined) return false;
      const reading = await reader.readCached(state.cluster, signal);
      const { incomplete, ...resolved } = await resolveReading(this.#resolutions, reading, this.#options.timeSlicing);
      if (this.#states.get(clusterArn) !== state) continue;
      if (incomplete.size > 0) reader.describeAgain(state.cluster, incomplete);
      this.#states.set({ ...state, tasks: reading.tasks.length, ...resolved });
      return true;
    }
  }

  /** Publishes every cluster's current state (after refreshCluster), as a round would; rejects when an output failed. */
  async publishLatest(): Promise<void> {
    const { publish, metrics } = this.#options;
    // Before a first publication, the round publishes (or says why it could not).
    if (publish === undefined || !this.#firstPublished) return;
    const clusters = this.#states.list();
    const groups = this.#groups.of(clusters);
    await publish(Object.freeze({ finishedAt: this.#now(), groups, clusters }));
    for (const [interval, count] of Object.entries(countByInterval(groups))) metrics.targets.set({ interval }, count);
  }
}
