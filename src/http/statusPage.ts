import { createHash } from 'node:crypto';
import { INTERVALS } from '../discovery/endpoints.js';
import { accountOfArn, lastArnSegment } from '../discovery/model.js';
import type { Skip, Warning } from '../discovery/resolveTargets.js';
import type { TargetGroup } from '../discovery/targetGroups.js';
import type { ClusterState, RoundReport, Snapshot } from '../round.js';
import type { ProgressFigures } from '../roundProgress.js';
import { byText, formatCount } from '../discovery/text.js';
import { toFindingGroups, type FindingGroup } from './findingGroups.js';

/** Whether the process serves fresh targets (`/-/ready`), and why not. */
export interface Readiness {
  ready: boolean;
  reason: string;
}

/**
 * Stands in the rendered page for the time it is served (Unix ms): the page is rendered once
 * per round, and the browser's script measures ages with the server's clock, not its own.
 */
export const SERVED_AT = '%SERVED_AT%';

/** Tasks listed under one group of skipped containers or warnings; the count says how many there are. */
const EXAMPLES_PER_GROUP = 100;
/** Targets listed per cluster; all of them are on `targets?cluster=…`. */
const TARGETS_PER_CLUSTER = 1000;
/** Up to this many targets in all, every cluster's list starts open. */
const OPEN_TARGETS_UP_TO = 200;

const escapeHtml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** Markup made here, not to be escaped again. */
interface Html {
  html: string;
}
type Cell = string | number | Html;
const html = (text: string): Html => ({ html: text });
const cell = (value: Cell): string => (typeof value === 'object' ? value.html : escapeHtml(String(value)));

/** A point in time: absolute in the markup, an age ("12 s ago") once the script runs. */
function at(ms: number | undefined): Html {
  if (ms === undefined) return html('never');
  const iso = new Date(ms).toISOString();
  return html(`<time datetime="${iso}" data-at="${ms}" title="${iso}">${iso.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}</time>`);
}

/** A relative link to a cluster's targets (its name repeats across accounts and regions): the page works under any path prefix. */
function targetsLink(state: ClusterState, text: Cell): Html {
  const query = new URLSearchParams({ cluster: state.cluster.name, region: state.region });
  const account = accountOfArn(state.cluster.arn);
  if (/^\d{12}$/.test(account)) query.set('account', account);
  return html(`<a href="targets?${escapeHtml(query.toString())}">${cell(text)}</a>`);
}

function table(headers: string[], rows: Cell[][], empty: string, className = ''): string {
  if (rows.length === 0) return `<p class="none">${escapeHtml(empty)}</p>`;
  const head = headers.map((header) => `<th>${escapeHtml(header)}</th>`).join('');
  const body = rows.map((row) => `<tr>${row.map((value) => `<td>${cell(value)}</td>`).join('')}</tr>`).join('\n');
  return `<table${className === '' ? '' : ` class="${className}"`}>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

const plural = (count: number, one: string, many = `${one}s`) => `${formatCount(count)} ${count === 1 ? one : many}`;

/** Event-driven discovery (events.queueUrl), as the status page shows it. */
export interface EventsView {
  readonly queueUrl: string;
  /** The queue answers: full rounds every resyncSeconds; otherwise every intervalSeconds. */
  readonly listening: boolean;
  /** Unix ms since when it is (or is not) listening. */
  readonly since: number | undefined;
  readonly lastError: string | undefined;
  /** Messages so far, by outcome. */
  readonly counts: Readonly<Record<string, number>>;
  /** Unix ms of the last change applied. */
  readonly lastAppliedAt: number | undefined;
  readonly resyncSeconds: number;
  readonly intervalSeconds: number;
}

export interface StatusView {
  version: string;
  readiness: Readiness;
  lastRound: RoundReport | undefined;
  snapshot: Snapshot | undefined;
  /** Unix ms when the process started. */
  startedAt: number;
  /** The settings in force, secrets left out (see shownSettings.ts). */
  settings: readonly (readonly [key: string, value: string])[];
  /** How a first round still running goes. */
  progress: ProgressFigures | undefined;
  /** The browser reloads the page this often, unless a person is filtering or reading details. */
  refreshSeconds: number;
  /** The files of the static targets directory, when one is set. */
  staticFiles?: readonly { name: string; groups: readonly unknown[]; error: string | undefined }[];
  /** Targets per shard, when the page was asked for them (`?shards=n`). */
  shards?: { count: number; targets: readonly number[] };
  /** The path of the page itself, ending in "/" (the route prefix, or the external URL's path): the base of its relative links, wherever the page is reached (a `<base>` when not "/"). @default "/" */
  base?: string;
  /** Undefined without events (or before they start). */
  events?: EventsView | undefined;
}

/** The events section: whether the queue answers, and what came of its messages. */
function renderEvents(events: EventsView): string {
  const since = events.since === undefined ? '' : ` since ${cell(at(events.since))}`;
  const mode = events.listening
    ? `Listening${since}: full rounds every ${events.resyncSeconds} s.`
    : `The queue does not answer${since}: full rounds every ${events.intervalSeconds} s until it does. ${escapeHtml(events.lastError ?? '')}`;
  return `<h2 id="events">Events</h2>
<p class="${events.listening ? 'ready' : 'unready'}">${mode.trim()}</p>
<p>Queue ${escapeHtml(events.queueUrl)}; last change applied: ${cell(at(events.lastAppliedAt))}.</p>
${table(Object.keys(events.counts), [Object.values(events.counts)], '')}`;
}

function renderStatic(files: StatusView['staticFiles']): string {
  if (files === undefined) return '';
  const rows = files.map((file): Cell[] => [file.name, file.groups.length, file.error === undefined ? 'ok' : html(`<span class="error">skipped: ${escapeHtml(file.error)}${file.groups.length > 0 ? '; its last good targets are kept' : ''}</span>`)]);
  return `<h2 id="static">Static targets</h2>\n${table(['File', 'Groups', 'State'], rows, 'No static target files.')}`;
}

function renderShards(shards: StatusView['shards']): string {
  const form = `<form method="get" action=""><label>Targets per shard of <input name="shards" type="number" min="1" max="1000" value="${shards?.count ?? ''}"></label> <button>Count</button> <span class="meta">(as <code>targets?shard=i&amp;of=n</code> serves them)</span></form>`;
  if (shards === undefined) return `<h2 id="shards">Shards</h2>\n${form}`;
  const rows = shards.targets.map((count, index): Cell[] => [html(`<a href="targets?shard=${index}&amp;of=${shards.count}">${index}</a>`), count]);
  return `<h2 id="shards">Shards</h2>\n${form}\n${table(['Shard', 'Targets'], rows, '')}`;
}

function renderProgress(progress: ProgressFigures): string {
  return `<section class="progress">
<h2>First round in progress</h2>
<p>Started ${cell(at(progress.startedAt))}. A first round describes every task and task definition; later rounds describe only what is new.</p>
<p><progress max="${Math.max(progress.clustersListed, 1)}" value="${progress.clustersDone}"></progress>
${escapeHtml(`${progress.clustersDone} of ${plural(progress.clustersListed, 'cluster')} read; ${plural(progress.tasksDescribed, 'task')} and ${plural(progress.taskDefinitionsDescribed, 'task definition')} described; ${plural(progress.apiCalls, 'AWS API call')} (${progress.throttled} throttled)`)}</p>
</section>`;
}

function renderLastRound(round: RoundReport | undefined): string {
  if (round === undefined) return '<p class="none">No round has ended yet.</p>';
  const rows = [[at(round.startedAt + round.durationMs), `${formatCount(round.durationMs)} ms`, round.outcome, round.apiCalls, round.clusters, round.tasks, round.pendingTasks]];
  const failures = round.failures.length === 0 ? '' : `\n<ul class="failures">${round.failures.map((failure) => `<li>${escapeHtml(failure)}</li>`).join('')}</ul>`;
  return table(['Ended', 'Duration', 'Outcome', 'AWS API calls', 'Clusters', 'Tasks', 'Pending tasks'], rows, '') + failures;
}

/**
 * One row per account and region: how its last listing went (a role that cannot be assumed shows
 * here, with its reason) and what its clusters hold.
 */
function renderAccounts(snapshot: Snapshot | undefined, lastRound: RoundReport | undefined): string {
  interface Place { account: string; region: string; role: string; listing: string; clusters: number; failing: number; tasks: number; targets: number; skipped: number; warnings: number; oldest: number | undefined }
  const places = new Map<string, Place>();
  const placeFor = (account: string, region: string): Place => {
    const key = `${account}/${region}`;
    let place = places.get(key);
    if (place === undefined) {
      place = { account, region, role: '', listing: '', clusters: 0, failing: 0, tasks: 0, targets: 0, skipped: 0, warnings: 0, oldest: undefined };
      places.set(key, place);
    }
    return place;
  };
  for (const reader of lastRound?.readers ?? []) {
    const place = placeFor(reader.account ?? 'unknown', reader.region);
    place.role = reader.role ?? 'own credentials';
    place.listing = reader.error === undefined ? 'ok' : `failing: ${reader.error}`;
  }
  for (const state of snapshot?.clusters ?? []) {
    const place = placeFor(accountOfArn(state.cluster.arn) || 'unknown', state.region);
    place.clusters += 1;
    if (state.error !== undefined) place.failing += 1;
    place.tasks += state.tasks;
    place.targets += state.targets.length;
    place.skipped += state.skips.length;
    place.warnings += state.warnings.length;
    if (state.lastSuccessAt !== undefined && (place.oldest === undefined || state.lastSuccessAt < place.oldest)) place.oldest = state.lastSuccessAt;
  }
  const rows = [...places.values()]
    .sort((a, b) => byText(a.account, b.account) || byText(a.region, b.region))
    .map((place): Cell[] => [
      place.account,
      place.region,
      place.role,
      place.listing === '' || place.listing === 'ok' ? place.listing : html(`<span class="error">${escapeHtml(place.listing)}</span>`),
      place.clusters,
      place.failing,
      place.tasks,
      place.targets,
      place.skipped,
      place.warnings,
      at(place.oldest),
    ]);
  return table(['Account', 'Region', 'Role', 'Last listing', 'Clusters', 'Failing', 'Tasks', 'Targets', 'Skipped', 'Warnings', 'Oldest last success'], rows, 'No account or region read yet.');
}

function renderClusters(snapshot: Snapshot | undefined): string {
  const rows = [...(snapshot?.clusters ?? [])]
    .sort((a, b) => byText(accountOfArn(a.cluster.arn), accountOfArn(b.cluster.arn)) || byText(a.region, b.region) || byText(a.cluster.name, b.cluster.name))
    .map((state): Cell[] => [
      accountOfArn(state.cluster.arn),
      state.region,
      targetsLink(state, state.cluster.name),
      state.tasks,
      state.pendingTasks,
      targetsLink(state, state.targets.length),
      state.skips.length,
      state.warnings.length,
      state.restored ? 'not yet: targets of an earlier run' : at(state.lastSuccessAt),
      state.error ?? '',
    ]);
  return table(['Account', 'Region', 'Cluster', 'Tasks', 'Pending', 'Targets', 'Skipped', 'Warnings', 'Last success', 'Error'], rows, 'No cluster read yet.', 'clusters');
}

/** One group of skipped containers or warnings: a line with the count, which opens to its tasks. */
function renderFindingGroup<T extends Skip | Warning>(group: FindingGroup<T>, kind: 'skip' | 'warning'): string {
  const revisions = group.revisions.length === 0 ? '' : `:${group.revisions.join(',')}`;
  const services = group.services.length === 0 ? '' : ` (service ${group.services.join(', ')})`;
  const first = group.examples[0];
  const detail = kind === 'skip' ? `: ${(first as Skip | undefined)?.detail ?? ''}` : '';
  const summary =
    `<span class="count">${formatCount(group.count)} ×</span> <span class="what">${escapeHtml(group.what)}</span>${escapeHtml(detail)}` +
    ` <span class="owner">— container ${escapeHtml(group.container)} of ${escapeHtml(`${group.family}${revisions}${services}`)} in ${escapeHtml(group.clusters.join(', '))}</span>`;
  const rows = group.examples.map((entry): Cell[] => [
    entry.cluster,
    lastArnSegment(entry.taskArn),
    entry.revision ?? '',
    kind === 'skip' ? (entry as Skip).detail : (entry as Warning).message,
  ]);
  const more = group.count > group.examples.length ? `<p class="none">and ${formatCount(group.count - group.examples.length)} more tasks (all of them: <code>prometheus-ecs-discoverer check --json</code>)</p>` : '';
  return `<details class="${kind}"><summary>${summary}</summary>\n${table(['Cluster', 'Task', 'Revision', kind === 'skip' ? 'Detail' : 'Warning'], rows, '')}${more}</details>`;
}

function renderFindings(snapshot: Snapshot | undefined): { skipped: string; warnings: string; skipCount: number; warningCount: number } {
  const states = snapshot?.clusters ?? [];
  const skips = toFindingGroups(
    states.flatMap((state) => state.skips),
    (skip) => skip.reason,
    EXAMPLES_PER_GROUP,
  );
  const warnings = toFindingGroups(
    states.flatMap((state) => state.warnings),
    (warning) => warning.message,
    EXAMPLES_PER_GROUP,
  );
  return {
    skipped: skips.length === 0 ? '<p class="none">None.</p>' : skips.map((group) => renderFindingGroup(group, 'skip')).join('\n'),
    warnings: warnings.length === 0 ? '<p class="none">None.</p>' : warnings.map((group) => renderFindingGroup(group, 'warning')).join('\n'),
    skipCount: skips.reduce((sum, group) => sum + group.count, 0),
    warningCount: warnings.reduce((sum, group) => sum + group.count, 0),
  };
}

/** `host:port` (or `[v6]:port`) as host and port; port 0 when there is none. */
function hostAndPort(address: string): [host: string, port: number] {
  const colon = address.lastIndexOf(':');
  return colon < 0 ? [address, 0] : [address.slice(0, colon), Number(address.slice(colon + 1))];
}

/** Orders addresses by host, then port as a number: 127.0.0.1:80 before 127.0.0.10:80. */
function byAddress(a: string, b: string): number {
  const [[aHost, aPort], [bHost, bPort]] = [hostAndPort(a), hostAndPort(b)];
  return byText(aHost, bHost) || aPort - bPort || byText(a, b);
}

/** The labels a person reads a target by: the custom ones and the placement ones, not the `__` ones nor those of other columns. */
const isShownLabel = (name: string) => !name.startsWith('__') && !['instance', 'job', 'metrics_path'].includes(name);

function renderTargets(snapshot: Snapshot | undefined): string {
  const states = [...(snapshot?.clusters ?? [])].sort((a, b) => byText(a.region, b.region) || byText(a.cluster.name, b.cluster.name));
  const total = states.reduce((sum, state) => sum + state.targets.length, 0);
  if (total === 0) return '<p class="none">No targets yet.</p>';
  const open = total <= OPEN_TARGETS_UP_TO;
  const clusters = states
    .filter((state) => state.targets.length > 0)
    .map((state) => {
      const groups = state.targets
        .slice(0, TARGETS_PER_CLUSTER)
        .map((group) => ({ interval: group.interval, ...(JSON.parse(group.json) as TargetGroup) }))
        .sort((a, b) => byAddress(a.targets[0] ?? '', b.targets[0] ?? '') || byText(a.interval, b.interval));
      const rows = groups.map(({ interval, targets, labels }): Cell[] => [
        targets.join(', '),
        interval,
        labels['job'] ?? '',
        labels['__metrics_path__'] ?? labels['metrics_path'] ?? '',
        labels['__meta_ecs_service'] ?? '',
        labels['__meta_ecs_container_name'] ?? '',
        html(
          Object.entries(labels)
            .filter(([name]) => isShownLabel(name))
            .map(([name, value]) => `<span class="label">${escapeHtml(name)}=${escapeHtml(value)}</span>`)
            .join(' '),
        ),
      ]);
      const cut = state.targets.length > TARGETS_PER_CLUSTER ? ` (the first ${formatCount(TARGETS_PER_CLUSTER)} here)` : '';
      const summary = `${escapeHtml(state.cluster.name)} <span class="owner">${escapeHtml(state.region)}: ${escapeHtml(plural(state.targets.length, 'target'))}${escapeHtml(cut)}</span>`;
      const json = `<p>${cell(targetsLink(state, 'All of them as HTTP SD JSON'))}</p>`;
      return `<details class="cluster"${open ? ' open data-open' : ''}><summary>${summary}</summary>\n${json}\n${table(['Address', 'Interval', 'Job', 'Path', 'Service', 'Container', 'Labels'], rows, '', 'targets')}</details>`;
    });
  return `<p><label>Filter <input id="filter" type="search" placeholder="address, job, service, label…" autocomplete="off"></label> <span id="matches"></span></p>\n${clusters.join('\n')}`;
}

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em 2em; color: #222; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { font-size: 1.15em; margin: 1.4em 0 0.4em; }
table { border-collapse: collapse; margin: 0.3em 0 0.8em; max-width: 100%; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
th { background: #f3f3f3; } td:nth-child(n+2) { font-variant-numeric: tabular-nums; }
details { margin: 0.2em 0; } summary { cursor: pointer; } details > table, details > p { margin-left: 1.5em; }
.ready { color: #1a7f37; } .unready { color: #b42318; } .none, .owner, .meta { color: #666; }
.count { font-weight: bold; } .what { font-family: ui-monospace, monospace; } .label { white-space: nowrap; font-size: 0.9em; }
.failures, .error { color: #b42318; } progress { width: 20em; }
table.targets td:nth-child(-n+3) { white-space: nowrap; }
#filter { width: 24em; }
`;

/** Ages, the reload, and the filter of the targets: all the page does in the browser. */
const SCRIPT = `(() => {
  const root = document.documentElement, skew = Number(root.dataset.servedAt) - Date.now(), loaded = Date.now(), every = Number(root.dataset.refresh) * 1000;
  const filter = document.getElementById('filter'), matches = document.getElementById('matches'), refreshed = document.getElementById('refreshed');
  const age = (ms) => { const s = Math.max(0, Math.round(ms / 1000)); return s < 120 ? s + ' s' : s < 7200 ? Math.round(s / 60) + ' min' : s < 172800 ? Math.round(s / 3600) + ' h' : Math.round(s / 86400) + ' d'; };
  const tick = () => {
    for (const time of document.querySelectorAll('[data-at]')) time.textContent = age(Date.now() + skew - Number(time.dataset.at)) + ' ago';
    const paused = (filter && filter.value !== '') || [...document.querySelectorAll('details')].some((details) => details.open !== details.hasAttribute('data-open'));
    refreshed.textContent = 'Page loaded ' + age(Date.now() - loaded) + ' ago; ' + (paused ? 'reloading paused while you filter or read details.' : 'reloads every ' + every / 1000 + ' s.');
    if (!paused && Date.now() - loaded >= every) location.reload();
  };
  if (filter) filter.addEventListener('input', () => {
    const text = filter.value.trim().toLowerCase();
    let shown = 0;
    for (const cluster of document.querySelectorAll('details.cluster')) {
      let hits = 0;
      for (const row of cluster.querySelectorAll('tbody tr')) { row.hidden = text !== '' && !row.textContent.toLowerCase().includes(text); hits += row.hidden ? 0 : 1; }
      cluster.hidden = hits === 0;
      cluster.open = text === '' ? cluster.hasAttribute('data-open') : hits > 0;
      shown += hits;
    }
    matches.textContent = text === '' ? '' : shown + (shown === 1 ? ' target matches' : ' targets match');
    tick();
  });
  tick();
  setInterval(tick, 1000);
})();`;

/** Only this script may run on the page: should a value ever slip through unescaped, it cannot run. */
const SCRIPT_HASH = createHash('sha256').update(SCRIPT).digest('base64');

/**
 * The status page for people: progress of a first round, the last round, regions and clusters,
 * skipped containers and warnings grouped by reason, family and container, the targets with a
 * filter, and the settings in force. Plain HTML; every value from ECS is escaped; every link is
 * relative, so that the page works under any path prefix. Rendered once per round (the server
 * puts in the time it is served, `SERVED_AT`).
 */
export function renderStatusPage({ version, readiness, lastRound, snapshot, startedAt, settings, progress, refreshSeconds, staticFiles, shards, events, base = '/' }: StatusView): string {
  const findings = renderFindings(snapshot);
  const perInterval = table(
    INTERVALS.map((interval) => interval),
    [INTERVALS.map((interval) => snapshot?.groups[interval].length ?? 0)],
    '',
  );
  const unread = lastRound?.unreadClusters ?? [];
  const settingsSummary = settings.find(([key]) => key === 'interval');
  return `<!doctype html>
<html lang="en" data-served-at="${SERVED_AT}" data-refresh="${refreshSeconds}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${base === '/' ? '' : `<base href="${escapeHtml(base)}">\n`}<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-${SCRIPT_HASH}'">
<title>prometheus-ecs-discoverer</title>
<style>${STYLE}</style>
</head>
<body>
<h1>prometheus-ecs-discoverer <span class="version">${escapeHtml(version)}</span></h1>
<p class="${readiness.ready ? 'ready' : 'unready'}">${escapeHtml(readiness.ready ? (readiness.reason === 'ready' ? 'Ready' : readiness.reason) : `Not ready: ${readiness.reason}`)}</p>
<p class="meta">Up since ${cell(at(startedAt))} · last round ended ${cell(lastRound === undefined ? html('not yet') : at(lastRound.startedAt + lastRound.durationMs))} · <span id="refreshed">Reload the page for news.</span></p>
<p><a href="targets">targets</a> · <a href="metrics">metrics</a> · <a href="-/ready">-/ready</a> · <a href="-/healthy">-/healthy</a></p>
${progress !== undefined && lastRound === undefined ? renderProgress(progress) : ''}
<h2>Last round</h2>
${renderLastRound(lastRound)}
<h2>Targets per interval</h2>
${perInterval}
${events === undefined ? '' : renderEvents(events)}
<h2>Accounts and regions</h2>
${renderAccounts(snapshot, lastRound)}
<h2>Clusters</h2>
${renderClusters(snapshot)}
${unread.length > 0 ? `<h2>Clusters never read</h2>\n<p>Listed, but never read, and with no earlier targets: they have no targets.</p>\n${table(['Account', 'Region', 'Cluster', 'Rounds', 'Why'], unread.map((cluster) => [cluster.account ?? '', cluster.region, cluster.name, cluster.rounds, cluster.reason]), '')}` : ''}
<h2 id="skipped">Skipped containers (${formatCount(findings.skipCount)})</h2>
<p class="meta">Containers that carry the marker but yield no target, by reason, task family and container; open a line for its tasks.</p>
${findings.skipped}
<h2 id="warnings">Warnings (${formatCount(findings.warningCount)})</h2>
${findings.warnings}
<h2 id="targets">Targets</h2>
${renderTargets(snapshot)}
${renderStatic(staticFiles)}
${renderShards(shards)}
<h2 id="settings">Settings</h2>
<details class="settings"><summary>Settings in force${settingsSummary === undefined ? '' : ` (interval ${escapeHtml(settingsSummary[1])} s)`}; secrets are never shown</summary>
${table(['Setting', 'Value'], settings.map(([key, value]) => [key, value]), 'None.')}</details>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
