import { INTERVALS } from '../discovery/endpoints.js';
import { lastArnSegment } from '../discovery/model.js';
import type { RoundReport, Snapshot } from '../round.js';

/** Whether the process serves fresh targets (`/-/ready`), and why not. */
export interface Readiness {
  ready: boolean;
  reason: string;
}

const escapeHtml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

const time = (ms: number | undefined): string => (ms === undefined ? 'never' : new Date(ms).toISOString());

function table(headers: string[], rows: (string | number)[][], empty: string): string {
  if (rows.length === 0) return `<p>${escapeHtml(empty)}</p>`;
  const head = headers.map((header) => `<th>${escapeHtml(header)}</th>`).join('');
  const body = rows
    .map((row) => `<tr>${row.map((cell) => `<td>${escapeHtml(String(cell))}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table>\n<tr>${head}</tr>\n${body}\n</table>`;
}

export interface StatusView {
  version: string;
  readiness: Readiness;
  lastRound: RoundReport | undefined;
  snapshot: Snapshot | undefined;
  /** The path of the page itself, ending in "/": its links are made under it, so that they work behind a route prefix or a proxy. @default "/" */
  base?: string;
}

/** The status page for people: the last round, the clusters, and why marked containers were skipped. */
export function renderStatusPage({ version, readiness, lastRound, snapshot, base = '/' }: StatusView): string {
  const link = (path: string) => `<a href="${escapeHtml(base + path)}">/${escapeHtml(path)}</a>`;
  const clusters = snapshot?.clusters ?? [];
  const skips = clusters.flatMap((state) => state.skips).sort((a, b) => (a.cluster + a.taskArn).localeCompare(b.cluster + b.taskArn));
  const round = lastRound
    ? table(
        ['Started', 'Duration', 'Outcome', 'AWS API calls', 'Clusters', 'Tasks', 'Pending tasks'],
        [[time(lastRound.startedAt), `${lastRound.durationMs} ms`, lastRound.outcome, lastRound.apiCalls, lastRound.clusters, lastRound.tasks, lastRound.pendingTasks]],
        '',
      ) + (lastRound.failures.length > 0 ? `\n<ul class="failures">${lastRound.failures.map((failure) => `<li>${escapeHtml(failure)}</li>`).join('')}</ul>` : '')
    : '<p>No round has run yet.</p>';
  const perInterval = table(
    INTERVALS.map((interval) => interval),
    [INTERVALS.map((interval) => snapshot?.groups[interval].length ?? 0)],
    '',
  );
  const clusterRows = clusters
    .map((state) => [
      state.region,
      state.cluster.name,
      state.tasks,
      state.pendingTasks,
      state.targets.length,
      state.skips.length,
      state.restored ? 'not yet: targets of an earlier run' : time(state.lastSuccessAt),
      state.error ?? '',
    ])
    .sort((a, b) => `${a[0]}/${a[1]}`.localeCompare(`${b[0]}/${b[1]}`));
  const skipRows = skips.map((skip) => [skip.cluster, lastArnSegment(skip.taskArn), skip.container, skip.reason, skip.detail]);

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>prometheus-ecs-discoverer</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin-bottom: 1em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; }
th { background: #f3f3f3; }
.ready { color: #1a7f37; } .unready { color: #b42318; }
</style>
</head>
<body>
<h1>prometheus-ecs-discoverer ${escapeHtml(version)}</h1>
<p class="${readiness.ready ? 'ready' : 'unready'}">${escapeHtml(readiness.ready ? 'Ready' : `Not ready: ${readiness.reason}`)}</p>
<p>${link('targets')} · ${link('metrics')} · ${link('-/ready')}</p>
<h2>Last round</h2>
${round}
<h2>Targets per interval</h2>
${perInterval}
<h2>Clusters</h2>
${table(['Region', 'Cluster', 'Tasks', 'Pending', 'Targets', 'Skipped', 'Last success', 'Error'], clusterRows, 'No clusters yet.')}
${lastRound && lastRound.unreadClusters.length > 0 ? `<h2>Clusters never read</h2>\n<p>Listed, but never read, and with no earlier targets: they have no targets.</p>\n${table(['Region', 'Cluster', 'Rounds', 'Why'], lastRound.unreadClusters.map((cluster) => [cluster.region, cluster.name, cluster.rounds, cluster.reason]), '')}` : ''}
<h2>Skipped containers</h2>
<p>Containers that carry the marker but yield no target, and why.</p>
${table(['Cluster', 'Task', 'Container', 'Reason', 'Detail'], skipRows, 'None.')}
</body>
</html>
`;
}
