import { accountOfArn } from './discovery/model.js';
import { SKIP_REASONS } from './discovery/resolveTargets.js';
import { INTERVALS } from './discovery/endpoints.js';
import type { PublishedGroup } from './discovery/targetGroups.js';
import type { Metrics } from './metrics.js';
import type { ClusterState, RegionReader, RoundReport } from './round.js';

/** Sets the metrics that describe a round and the clusters it left. */
export function recordRound(
  metrics: Metrics,
  report: RoundReport,
  states: readonly ClusterState[],
  readers: readonly RegionReader[],
): void {
  metrics.rounds.inc({ outcome: report.outcome });
  metrics.roundDuration.observe(report.durationMs / 1000);
  if (report.outcome === 'ok') metrics.lastSuccess.set((report.startedAt + report.durationMs) / 1000);
  for (const interval of INTERVALS) metrics.targets.set({ interval }, report.targets[interval]);

  const skipsByReason = new Map<string, number>(SKIP_REASONS.map((reason) => [reason, 0]));
  for (const skip of states.flatMap((state) => state.skips)) skipsByReason.set(skip.reason, (skipsByReason.get(skip.reason) ?? 0) + 1);
  for (const [reason, count] of skipsByReason) metrics.skippedContainers.set({ reason }, count);

  // Reset first: clusters that are gone lose their series.
  metrics.clusterLastSuccess.reset();
  for (const state of states) {
    if (state.lastSuccessAt !== undefined) {
      metrics.clusterLastSuccess.set({ account: accountOfArn(state.cluster.arn), region: state.region, cluster: state.cluster.name }, state.lastSuccessAt / 1000);
    }
  }
  metrics.clusterTargets.reset();
  for (const state of states) {
    const byInterval = new Map<string, number>(INTERVALS.map((interval) => [interval, 0]));
    // By index: once a round over every target, mostly unoptimized, with no result object per item.
    for (let index = 0; index < state.targets.length; index++) {
      const { interval } = state.targets[index] as PublishedGroup;
      byInterval.set(interval, (byInterval.get(interval) ?? 0) + 1);
    }
    for (const [interval, count] of byInterval) metrics.clusterTargets.set({ account: accountOfArn(state.cluster.arn), region: state.region, cluster: state.cluster.name, interval }, count);
  }
  metrics.accountUp.reset();
  for (const outcome of report.readers ?? []) {
    // Until the caller's identity or a cluster ARN names it, the own account is "unknown".
    metrics.accountUp.set({ account: outcome.account ?? 'unknown', region: outcome.region }, outcome.error === undefined ? 1 : 0);
  }
  metrics.clusters.set(report.clusters);
  metrics.unreadClusters.set(report.unreadClusters.length);
  metrics.tasks.set(report.tasks);
  metrics.markedContainers.set(states.reduce((sum, state) => sum + (state.markedContainers ?? 0), 0));
  metrics.cacheSize.reset();
  for (const reader of readers) {
    for (const [cache, size] of Object.entries(reader.cacheSizes())) metrics.cacheSize.inc({ cache }, size);
  }
}
