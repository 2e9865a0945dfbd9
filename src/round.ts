import type { CallTurn } from './callOptions.js';
import type { IntervalName } from './discovery/endpoints.js';
import type { ClusterRef } from './discovery/model.js';
import type { Skip, TaskContext, Warning } from './discovery/resolveTargets.js';
import type { GroupsByInterval, PublishedGroup } from './discovery/targetGroups.js';

/**
 * The vocabulary of a discovery round, shared by the orchestrator that makes it, the AWS
 * reader that feeds it and the outputs (files, HTTP, `check`) that show it.
 */

/** What one reading of a cluster found. */
export interface ClusterReading {
  readonly cluster: ClusterRef;
  /** RUNNING tasks, with what resolution needs. */
  readonly tasks: readonly TaskContext[];
  /** Listed tasks that are not RUNNING yet: described again next round. */
  readonly pendingTasks: number;
}

/** What a round needs of one region's AWS reader: one per account and region. */
export interface RegionReader {
  readonly region: string;
  /**
   * The AWS account it reads: its role's, else the caller's identity, else the account of the
   * first cluster it listed; undefined until known.
   */
  readonly account?: string | undefined;
  /** The IAM role it reads through (`aws.roles`); undefined: the process's own credentials. */
  readonly role?: string | undefined;
  listClusters(signal?: AbortSignal): Promise<ClusterRef[]>;
  /**
   * Reads one cluster. `signal` is this cluster's deadline and the round's; `roundSignal` the
   * round's alone, for calls whose answer other clusters may wait on too (a task definition, an
   * EC2 instance): a cluster that is abandoned must not fail another that shares its call.
   * `turn` says how its calls wait when calls must (callOptions.ts): `priority` orders them
   * against other clusters' (lower first); `together` lets them go out a few at once.
   */
  readCluster(cluster: ClusterRef, signal?: AbortSignal, roundSignal?: AbortSignal, turn?: CallTurn): Promise<ClusterReading>;
  /** Forget these tasks, so that the next reading describes them again (their runtime data was incomplete). */
  describeAgain(cluster: ClusterRef, taskArns: Iterable<string>): void;
  /** Reads a cluster from what is cached (after events changed its tasks); only what is not cached is asked of AWS. */
  readCached?(cluster: ClusterRef, signal?: AbortSignal): Promise<ClusterReading>;
  /** Entries per cache, for the cache size metric. */
  cacheSizes(): Record<string, number>;
  /** Tasks and task definitions described so far (progress of a long first round). */
  described?(): { tasks: number; taskDefinitions: number };
}

/** A cluster's last good resolution, and how its last attempt went. Frozen: a later round replaces it. */
export interface ClusterState {
  readonly region: string;
  readonly cluster: ClusterRef;
  readonly tasks: number;
  readonly pendingTasks: number;
  /** One group per target. */
  readonly targets: readonly PublishedGroup[];
  readonly skips: readonly Skip[];
  readonly warnings: readonly Warning[];
  /** Containers of its RUNNING tasks that carry the marker. */
  readonly markedContainers?: number;
  /** Marker-like settings of its unmarked containers, with how many containers set each (see Resolution.markerHints). */
  readonly markerHints?: Readonly<Record<string, number>>;
  /** Unix ms of the last good reading; undefined when there has been none. */
  readonly lastSuccessAt: number | undefined;
  /** Why the last attempt failed; undefined when it succeeded. */
  readonly error: string | undefined;
  /** Its targets are what an earlier run published (read back from the files); not read afresh yet. */
  readonly restored?: boolean;
}

/** A listed cluster that has never been read, with nothing earlier to publish for it. */
export interface UnreadCluster {
  readonly name: string;
  readonly region: string;
  readonly account?: string;
  /** Rounds in a row it could not be read. */
  readonly rounds: number;
  readonly reason: string;
}

/** What a round publishes: served over HTTP and written to the files. */
export interface Snapshot {
  readonly finishedAt: number;
  readonly groups: GroupsByInterval;
  readonly clusters: readonly ClusterState[];
  /**
   * The clusters a first round has read so far, on a fresh output directory: for the files
   * alone. HTTP SD and readiness wait for the round's end, so that a Prometheus that holds
   * targets from before keeps them (503) rather than lose the clusters not read yet.
   */
  readonly soFar?: true;
}

/**
 * ok: everything was read and published. partial: some clusters (or a region's listing)
 * failed and kept their last good targets. failed: nothing was read afresh, or nothing could
 * be published.
 */
export type RoundOutcome = 'ok' | 'partial' | 'failed';

export interface RoundReport {
  readonly outcome: RoundOutcome;
  readonly startedAt: number;
  readonly durationMs: number;
  readonly apiCalls: number;
  readonly clusters: number;
  readonly tasks: number;
  readonly pendingTasks: number;
  readonly targets: Readonly<Record<IntervalName, number>>;
  /** One line per failure (a region's listing, a cluster, the publishing). */
  readonly failures: readonly string[];
  /** Listed clusters never read so far, with nothing earlier to publish: they have no targets. */
  readonly unreadClusters: readonly UnreadCluster[];
  /** Names or ARNs of the clusters setting that no region lists (a typo?). */
  readonly unknownClusters?: readonly string[];
  /** How each reader (account and region) fared. */
  readonly readers?: readonly ReaderOutcome[];
}

/** How one reader, one account and region, fared in a round. */
export interface ReaderOutcome {
  readonly account: string | undefined;
  readonly region: string;
  readonly role: string | undefined;
  /** Clusters it listed and selected; undefined when its listing failed. */
  readonly clusters: number | undefined;
  /** Why its listing failed (a role that cannot be assumed, ListClusters failing). */
  readonly error?: string;
}

/** A round's report and the snapshot it made (published or not). */
export interface RoundResult {
  readonly report: RoundReport;
  readonly snapshot: Snapshot;
}
