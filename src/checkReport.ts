import { INTERVALS, type IntervalName } from './discovery/endpoints.js';
import { lastArnSegment } from './discovery/model.js';
import { EXIT } from './exitCodes.js';
import { countByInterval, toGroupsByInterval } from './discovery/targetGroups.js';
import type { ClusterState, RoundOutcome, RoundReport } from './round.js';

/** What `check` found in one cluster. */
export interface CheckedCluster {
  region: string;
  name: string;
  tasks: number;
  pendingTasks: number;
  targets: Record<IntervalName, number>;
  skipped: { task: string; container: string; reason: string; detail: string }[];
  /** Why the cluster could not be read, when it could not. */
  error?: string;
}

export interface CheckReport {
  outcome: RoundOutcome;
  failures: readonly string[];
  clusters: CheckedCluster[];
  totals: { clusters: number; tasks: number; targets: number; skipped: number };
}

export function toCheckReport(states: readonly ClusterState[], round: RoundReport): CheckReport {
  const clusters = states
    .map((state): CheckedCluster => {
      return {
        region: state.region,
        name: state.cluster.name,
        tasks: state.tasks,
        pendingTasks: state.pendingTasks,
        targets: countByInterval(toGroupsByInterval(state.targets)),
        skipped: state.skips.map((skip) => ({
          task: lastArnSegment(skip.taskArn),
          container: skip.container,
          reason: skip.reason,
          detail: skip.detail,
        })),
        ...(state.error !== undefined && { error: state.error }),
      };
    })
    .sort((a, b) => `${a.region}/${a.name}`.localeCompare(`${b.region}/${b.name}`));
  const sum = (count: (cluster: CheckedCluster) => number) => clusters.reduce((total, cluster) => total + count(cluster), 0);
  return {
    outcome: round.outcome,
    failures: round.failures,
    clusters,
    totals: {
      clusters: clusters.length,
      tasks: sum((cluster) => cluster.tasks),
      targets: sum((cluster) => Object.values(cluster.targets).reduce((total, count) => total + count, 0)),
      skipped: sum((cluster) => cluster.skipped.length),
    },
  };
}

/** The report for people: per cluster its tasks, its targets per interval and why containers were skipped. */
export function renderCheckReport(report: CheckReport): string {
  const lines: string[] = [];
  for (const cluster of report.clusters) {
    const pending = cluster.pendingTasks > 0 ? `, ${cluster.pendingTasks} not running yet` : '';
    lines.push(`cluster ${cluster.name} (${cluster.region}): ${cluster.tasks} tasks${pending}`);
    if (cluster.error !== undefined) lines.push(`  could not be read: ${cluster.error}`);
    const perInterval = INTERVALS.filter((interval) => cluster.targets[interval] > 0).map(
      (interval) => `${interval} ${cluster.targets[interval]}`,
    );
    lines.push(`  targets: ${perInterval.length > 0 ? perInterval.join(', ') : 'none'}`);
    for (const skip of cluster.skipped) {
      lines.push(`  skipped container ${skip.container} of task ${skip.task}: ${skip.reason}: ${skip.detail}`);
    }
  }
  for (const failure of report.failures) lines.push(`problem: ${failure}`);
  const { clusters, tasks, targets, skipped } = report.totals;
  lines.push(`total: ${clusters} clusters, ${tasks} tasks, ${targets} targets, ${skipped} skipped containers`);
  return `${lines.join('\n')}\n`;
}

/** 3 when AWS could not be read fully; 1 when marked containers were skipped (or, if asked, nothing was found); else 0. */
export function checkExitCode(report: CheckReport, failIfEmpty: boolean): number {
  if (report.outcome !== 'ok') return EXIT.unreadable;
  if (report.totals.skipped > 0 || (failIfEmpty && report.totals.targets === 0)) return EXIT.findings;
  return EXIT.ok;
}
