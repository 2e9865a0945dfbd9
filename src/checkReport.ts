import { INTERVALS, type IntervalName } from './discovery/endpoints.js';
import { accountOfArn, lastArnSegment } from './discovery/model.js';
import type { Skip, Warning } from './discovery/resolveTargets.js';
import { countByShard } from './discovery/shards.js';
import { countByInterval, toGroupsByInterval, type PublishedGroup, type TargetGroup } from './discovery/targetGroups.js';
import { EXIT } from './exitCodes.js';
import { placeOf } from './readerOutcomes.js';
import type { ClusterState, ReaderOutcome, RoundOutcome, RoundReport } from './round.js';
import { byText } from './discovery/text.js';

/**
 * What `check` found, as `check --json` prints it (README, "check"; the shape is tested by
 * test/unit/checkReport.test.ts). Nothing here speaks of files: check writes none.
 */
export interface CheckReport {
  outcome: RoundOutcome;
  /** What makes the check fail besides skipped containers: unreadable AWS, clusters that do not exist, nothing marked. */
  problems: string[];
  /** Each account and region that was read, and how (a role that cannot be assumed is failing). */
  accounts: CheckedAccount[];
  clusters: CheckedCluster[];
  /** Every target group, as Prometheus would get it. */
  targets: (TargetGroup & { interval: IntervalName; cluster: string })[];
  skipped: (Owner & { reason: string; detail: string })[];
  warnings: (Owner & { message: string })[];
  /** Settings of other markers that unmarked containers carry, and how many containers carry each. */
  markerHints: { setting: string; containers: number; suggestion: string }[];
  totals: { clusters: number; tasks: number; markedContainers: number; targets: number; skipped: number; warnings: number };
  /** The static targets directory (staticDir), when one is set: each file, and what is wrong with it. */
  static?: { directory: string; files: { name: string; groups: number; targets: number; error?: string }[] };
  /** With --shards N: how many targets (ECS and static) each shard of N takes. */
  shards?: { count: number; targets: number[] };
}

/** What check reads besides the round: the static targets directory, and the shard count asked for. */
export interface CheckExtras {
  staticTargets?: { directory: string; files: readonly { name: string; groups: readonly PublishedGroup[]; error: string | undefined }[] };
  shards?: number;
}

const addressesOf = (groups: Iterable<PublishedGroup>): string[] => [...groups].flatMap((group) => (JSON.parse(group.json) as TargetGroup).targets);


/** One account and region that `check` read. */
export interface CheckedAccount {
  /** Absent when it could not be known (the process's own credentials, nothing listed). */
  account?: string;
  region: string;
  /** The role read through; absent: the process's own credentials. */
  role?: string;
  /** Clusters listed and selected; absent when the listing failed. */
  clusters?: number;
  error?: string;
}

/** What `check` found in one cluster. */
export interface CheckedCluster {
  account: string;
  region: string;
  name: string;
  arn: string;
  tasks: number;
  pendingTasks: number;
  markedContainers: number;
  targets: Record<IntervalName, number>;
  /** Why the cluster could not be read, when it could not. */
  error?: string;
}

/** Whose a skipped container or a warning is. */
interface Owner {
  cluster: string;
  account: string;
  region: string;
  family: string;
  revision?: number;
  service?: string;
  /** The task id. */
  task: string;
  container: string;
}

const ownerOf = (entry: Skip | Warning, region: string): Owner => ({
  cluster: entry.cluster,
  account: accountOfArn(entry.taskArn),
  region,
  family: entry.family,
  ...(entry.revision !== undefined && { revision: entry.revision }),
  ...(entry.service !== undefined && { service: entry.service }),
  task: lastArnSegment(entry.taskArn),
  container: entry.container,
});

/** What to set when containers carry another convention's marker. */
const SUGGESTIONS: Record<string, string> = {
  PROMETHEUS: '--marker PROMETHEUS',
  PROMETHEUS_TARGET: '--marker PROMETHEUS_TARGET --marker-value true (or --preset prometheus-ecs-discoverer)',
  PROMETHEUS_SCRAPES: '--marker-source environment',
  'docker label PROMETHEUS': '--marker-source dockerLabels',
  'docker label PROMETHEUS_TARGET': '--marker-source prometheus-ecs-discoverer --marker PROMETHEUS_TARGET --marker-value true',
  'docker label PROMETHEUS_SCRAPES': '--marker-source dockerLabels (or --preset sepich, with its label set)',
  'docker label PROMETHEUS_EXPORTER_PORT': '--marker-source teralytics (or --preset teralytics)',
  'docker label ECS_PROMETHEUS_EXPORTER_PORT': '--marker-source ecs-observer (or --preset ecs-observer)',
};

const sum = <T>(items: readonly T[], count: (item: T) => number) => items.reduce((total, item) => total + count(item), 0);

const toCheckedAccount = ({ account, region, role, clusters, error }: ReaderOutcome): CheckedAccount => ({
  ...(account !== undefined && { account }),
  region,
  ...(role !== undefined && { role }),
  ...(clusters !== undefined && { clusters }),
  ...(error !== undefined && { error }),
});

export function toCheckReport(states: readonly ClusterState[], round: RoundReport, { staticTargets, shards }: CheckExtras = {}): CheckReport {
  const sorted = [...states].sort(
    (a, b) => byText(a.region, b.region) || byText(a.cluster.name, b.cluster.name) || byText(accountOfArn(a.cluster.arn), accountOfArn(b.cluster.arn)),
  );
  const clusters = sorted.map(
    (state): CheckedCluster => ({
      account: accountOfArn(state.cluster.arn),
      region: state.region,
      name: state.cluster.name,
      arn: state.cluster.arn,
      tasks: state.tasks,
      pendingTasks: state.pendingTasks,
      markedContainers: state.markedContainers ?? 0,
      targets: countByInterval(toGroupsByInterval(state.targets)),
      ...(state.error !== undefined && { error: state.error }),
    }),
  );
  const targets = sorted.flatMap((state) =>
    state.targets.map((group) => ({ interval: group.interval, cluster: group.cluster, ...(JSON.parse(group.json) as TargetGroup) })),
  );
  const skipped = sorted.flatMap((state) => state.skips.map((skip) => ({ ...ownerOf(skip, state.region), reason: skip.reason, detail: skip.detail })));
  const warnings = sorted.flatMap((state) => state.warnings.map((warning) => ({ ...ownerOf(warning, state.region), message: warning.message })));
  const markedContainers = sum(clusters, (cluster) => cluster.markedContainers);
  const hintCounts = new Map<string, number>();
  for (const state of sorted) for (const [setting, count] of Object.entries(state.markerHints ?? {})) hintCounts.set(setting, (hintCounts.get(setting) ?? 0) + count);
  const markerHints = [...hintCounts]
    .sort((a, b) => b[1] - a[1])
    .map(([setting, containers]) => ({ setting, containers, suggestion: SUGGESTIONS[setting] ?? '' }));

  const problems = round.failures.filter((failure) => !failure.startsWith('nothing published'));
  for (const name of round.unknownClusters ?? []) problems.push(`cluster "${name}" of --clusters does not exist in any region`);
  if (round.outcome === 'ok' && markedContainers === 0) {
    const [likely] = markerHints;
    problems.push(
      likely === undefined
        ? 'no container carries the marker'
        : `no container carries the marker; ${likely.containers} container${likely.containers === 1 ? ' sets' : 's set'} ${likely.setting}: did you mean ${likely.suggestion}?`,
    );
  }
  for (const file of staticTargets?.files ?? []) if (file.error !== undefined) problems.push(`static targets file ${file.name}: ${file.error}`);
  const staticGroups = staticTargets?.files.flatMap((file) => (file.error === undefined ? file.groups : [])) ?? [];
  return {
    outcome: round.outcome,
    problems,
    accounts: (round.readers ?? []).map(toCheckedAccount),
    clusters,
    targets,
    skipped,
    warnings,
    markerHints,
    ...(staticTargets !== undefined && {
      static: {
        directory: staticTargets.directory,
        files: staticTargets.files.map((file) => ({
          name: file.name,
          groups: file.error === undefined ? file.groups.length : 0,
          targets: file.error === undefined ? addressesOf(file.groups).length : 0,
          ...(file.error !== undefined && { error: file.error }),
        })),
      },
    }),
    ...(shards !== undefined && {
      shards: { count: shards, targets: countByShard([...targets.flatMap((group) => group.targets), ...addressesOf(staticGroups)], shards) },
    }),
    totals: {
      clusters: clusters.length,
      tasks: sum(clusters, (cluster) => cluster.tasks),
      markedContainers,
      targets: targets.length,
      skipped: skipped.length,
      warnings: warnings.length,
    },
  };
}

const ownerText = (owner: Owner) =>
  `${owner.family}${owner.revision === undefined ? '' : `:${owner.revision}`}${owner.service === undefined ? '' : ` (service ${owner.service})`}`;

/** Entries of one family, container and reason (or warning), in how many tasks, with an example. */
function grouped<T extends Owner>(entries: readonly T[], what: (entry: T) => string): { first: T; tasks: string[] }[] {
  const groups = new Map<string, { first: T; tasks: string[] }>();
  for (const entry of entries) {
    const key = `${entry.family}|${entry.container}|${what(entry)}`;
    const group = groups.get(key);
    if (group === undefined) groups.set(key, { first: entry, tasks: [entry.task] });
    else group.tasks.push(entry.task);
  }
  return [...groups.values()];
}

const inTasks = (tasks: string[]) => (tasks.length === 1 ? `task ${tasks[0]}` : `${tasks.length} tasks, e.g. ${tasks[0]}`);

/** The report for people: per cluster its tasks and targets, skipped containers and warnings grouped by family, and the problems. */
export function renderCheckReport(report: CheckReport): string {
  const lines: string[] = [];
  // Read through roles, several accounts: cluster names repeat, the account tells them apart.
  const namesAccounts = report.accounts.some((account) => account.role !== undefined);
  for (const cluster of report.clusters) {
    const pending = cluster.pendingTasks > 0 ? `, ${cluster.pendingTasks} not running yet` : '';
    const place = placeOf(cluster.region, cluster.account, namesAccounts);
    lines.push(`cluster ${cluster.name} (${place}): ${cluster.tasks} tasks${pending}, ${cluster.markedContainers} marked containers`);
    if (cluster.error !== undefined) lines.push(`  could not be read: ${cluster.error}`);
    const perInterval = INTERVALS.filter((interval) => cluster.targets[interval] > 0).map((interval) => `${interval} ${cluster.targets[interval]}`);
    lines.push(`  targets: ${perInterval.length > 0 ? perInterval.join(', ') : 'none'}`);
    const own = <T extends Owner>(entries: readonly T[]) =>
      entries.filter((entry) => entry.cluster === cluster.name && entry.region === cluster.region && entry.account === cluster.account);
    for (const { first, tasks } of grouped(own(report.skipped), (skip) => skip.reason)) {
      lines.push(`  skipped: ${ownerText(first)}, container ${first.container}, ${first.reason} in ${inTasks(tasks)}: ${first.detail}`);
    }
    for (const { first, tasks } of grouped(own(report.warnings), (warning) => warning.message)) {
      lines.push(`  warning: ${ownerText(first)}, container ${first.container}, in ${inTasks(tasks)}: ${first.message}`);
    }
  }
  if (report.static !== undefined) {
    lines.push(`static targets in ${report.static.directory}: ${report.static.files.length} files`);
    for (const file of report.static.files) {
      lines.push(file.error === undefined ? `  ${file.name}: ${file.groups} groups, ${file.targets} targets` : `  ${file.name}: skipped: ${file.error}`);
    }
  }
  if (report.shards !== undefined) {
    lines.push(`targets per shard of ${report.shards.count}: ${report.shards.targets.map((count, index) => `${index}: ${count}`).join(', ')}`);
  }
  for (const problem of report.problems) lines.push(`problem: ${problem}`);
  const { clusters, tasks, markedContainers, targets, skipped, warnings } = report.totals;
  lines.push(
    `total: ${clusters} clusters, ${tasks} tasks, ${markedContainers} marked containers, ${targets} targets, ${skipped} skipped containers, ${warnings} warnings`,
  );
  return `${lines.join('\n')}\n`;
}

export interface CheckExitOptions {
  /** Also fail when nothing at all was found. */
  failIfEmpty: boolean;
  /** Also fail on any warning. */
  strict: boolean;
}

/**
 * 3 when AWS could not be read fully; 1 when marked containers were skipped, a cluster asked
 * for does not exist, nothing is marked (or, if asked, nothing found, or any warning); else 0.
 * Tasks that the health filter leaves out are listed, but fail nothing: the setting asked for it.
 */
export function checkExitCode(report: CheckReport, { failIfEmpty, strict }: CheckExitOptions): number {
  if (report.outcome !== 'ok') return EXIT.unreadable;
  const skipped = report.skipped.some((skip) => skip.reason !== 'health_filtered');
  const failing =
    report.problems.length > 0 || skipped || (failIfEmpty && report.totals.targets === 0) || (strict && report.totals.warnings > 0);
  return failing ? EXIT.findings : EXIT.ok;
}
