import { INTERVALS } from './discovery/endpoints.js';
import { countByInterval, type GroupsByInterval } from './discovery/targetGroups.js';
import type { Logger } from './log.js';
import type { RoleFailure } from './readerOutcomes.js';
import type { ClusterState, ReaderOutcome, RoundOutcome, RoundReport, UnreadCluster } from './round.js';

/** A cluster that could not be read in a round: a log line of its own. */
export interface ClusterFailure {
  text: string;
  cluster: string;
  region: string;
  account?: string;
  error: string;
}

/** What went wrong in a round, by kind: each kind is logged its own way. */
export interface RoundFailures {
  /** Of the round as a whole (a region's listing, the publication): in the round's line. */
  round: readonly string[];
  /** Of a role that could not be assumed: one line per role, whatever its regions. */
  roles: readonly RoleFailure[];
  /** Of one cluster: one line each. */
  clusters: readonly ClusterFailure[];
}

export interface RoundFacts {
  outcome: RoundOutcome;
  startedAt: number;
  durationMs: number;
  apiCalls: number;
  states: readonly ClusterState[];
  groups: GroupsByInterval;
  failures: RoundFailures;
  unreadClusters: readonly UnreadCluster[];
  unknownClusters: readonly string[];
  readers: readonly ReaderOutcome[];
}

/** The report of a round, frozen: for the status page, the metrics, `check` and the loop. */
export function toRoundReport({ outcome, startedAt, durationMs, apiCalls, states, groups, failures, unreadClusters, unknownClusters, readers }: RoundFacts): RoundReport {
  return Object.freeze({
    outcome,
    startedAt,
    durationMs,
    apiCalls,
    clusters: states.length,
    tasks: states.reduce((sum, state) => sum + state.tasks, 0),
    pendingTasks: states.reduce((sum, state) => sum + state.pendingTasks, 0),
    targets: countByInterval(groups),
    failures: [...failures.round, ...failures.roles.map((failure) => failure.text), ...failures.clusters.map((failure) => failure.text)],
    unreadClusters,
    unknownClusters,
    readers,
  });
}

/**
 * One line per failing role and per failing cluster, then one line for the round: a total outage
 * of the process's own account logs one line per round.
 */
export function logRound(logger: Logger, report: RoundReport, failures: RoundFailures, failedLevel: 'warn' | 'error' = 'warn'): void {
  for (const { text, fields } of failures.roles) logger.warn(text, fields);
  for (const { text, ...fields } of failures.clusters) logger.warn(text, fields);
  logger[report.outcome === 'ok' ? 'info' : failedLevel]('round', {
    outcome: report.outcome,
    clusters: report.clusters,
    tasks: report.tasks,
    pending: report.pendingTasks,
    ...Object.fromEntries(INTERVALS.map((interval) => [`targets_${interval}`, report.targets[interval]])),
    api_calls: report.apiCalls,
    duration_ms: report.durationMs,
    ...(report.unreadClusters.length > 0 && { unread_clusters: report.unreadClusters.length }),
    ...(failures.round.length > 0 && { error: failures.round.join('; ') }),
  });
}
