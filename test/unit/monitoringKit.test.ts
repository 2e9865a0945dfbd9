import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createMetrics } from '../../src/metrics.js';

/**
 * The self-monitoring kit: examples/grafana-dashboard.json and examples/alerts.yml query only
 * metrics that the discoverer has, in valid PromQL, of the job that the examples scrape it as;
 * and the alert rules fire when they should (test/promtool/alerts.test.yml).
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
/** The job every examples/prometheus-*.yml scrapes the discoverer in (test/unit/examples.test.ts checks them). */
const SELF_JOB = 'ecs-discoverer';

/** Debian's prometheus package (installed by .ci/run) ships promtool. */
const PROMTOOL = '/usr/bin/promtool';
const hasPromtool = existsSync(PROMTOOL);
const inCi = Boolean(process.env['CI']);
if (!hasPromtool && !inCi) {
  console.warn(`\n*** SKIPPING promtool checks of the dashboard's queries and of examples/alerts.yml: ${PROMTOOL} is not installed (apt-get install prometheus) ***\n`);
}
const promtool = (...args: string[]) => spawnSync(PROMTOOL, args, { encoding: 'utf8', timeout: 30_000, cwd: ROOT });

interface Panel {
  title: string;
  type: string;
  datasource?: { uid?: string };
  targets?: { expr: string; datasource?: { uid?: string } }[];
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query?: unknown; current?: { value?: unknown } }[] };
}

const dashboard = JSON.parse(read('examples/grafana-dashboard.json')) as Dashboard;
const allPanels = (panels: Panel[]): Panel[] => panels.flatMap((panel) => [panel, ...allPanels(panel.panels ?? [])]);
const panels = allPanels(dashboard.panels);
const queries = panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })));

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const alertRules = (parse(read('examples/alerts.yml')) as { groups: { name: string; rules: Rule[] }[] }).groups.flatMap((group) => group.rules);

/** Our metrics as a query may name them: histograms with their _bucket, _sum and _count series. */
let known: Set<string>;
beforeAll(async () => {
  const metrics = createMetrics({ withProcessMetrics: true });
  const registered = await metrics.registry.getMetricsAsJSON();
  known = new Set(registered.flatMap(({ name, type }) => (String(type) === 'histogram' ? [name, `${name}_bucket`, `${name}_sum`, `${name}_count`] : [name])));
});
const metricsOf = (expr: string) => [...expr.matchAll(/\b(ecs_discoverer_[a-z0-9_]+)\b/g)].map((match) => match[1] as string);

/** The dashboard's template variables, as Grafana fills them, so that promtool can read the query. */
const withVariables = (expr: string) =>
  expr.replaceAll('$__rate_interval', '5m').replaceAll('$job', SELF_JOB).replaceAll('$instance', '.*');

describe('examples/grafana-dashboard.json', () => {
  it('has the panels an operator looks for', () => {
    const titles = panels.map((panel) => panel.title);

    expect(titles).toEqual(
      expect.arrayContaining([
        'Rounds by outcome',
        'Round duration',
        'AWS API calls by action and outcome',
        'Throttling and retries',
        'Cache hit ratio',
        'Targets by interval',
        'Targets by cluster and interval',
        'Skipped containers by reason',
        'Last success age per cluster',
        'Event loop blocked during a round (longest)',
      ]),
    );
    expect(new Set(titles).size).toBe(titles.length);
  });

  it('queries only metrics that the discoverer registers (src/metrics.ts, with the process metrics)', () => {
    const used = queries.flatMap(({ panel, expr }) => metricsOf(expr).map((metric) => ({ panel, metric })));
    const unknown = used.filter(({ metric }) => !known.has(metric));

    expect(used.length).toBeGreaterThan(15);
    expect(unknown, JSON.stringify(unknown)).toEqual([]);
    for (const { panel, expr } of queries) expect(metricsOf(expr).length + (/\bup\{/.test(expr) ? 1 : 0), `${panel}: ${expr}`).toBeGreaterThan(0);
  });

  it('reads from the data source variable, and selects the job and instance in every query', () => {
    const variables = new Map(dashboard.templating.list.map((variable) => [variable.name, variable]));

    expect(variables.get('datasource')?.type).toBe('datasource');
    expect(variables.get('job')?.current?.value).toBe(SELF_JOB);
    for (const panel of panels.filter((candidate) => candidate.targets !== undefined)) {
      expect(panel.datasource?.uid, panel.title).toBe('${datasource}');
      for (const target of panel.targets ?? []) {
        expect(target.datasource?.uid, panel.title).toBe('${datasource}');
        // Every selector of the query names the job and instance variables.
        for (const [selector] of target.expr.matchAll(/\b(?:ecs_discoverer_[a-z0-9_]+|up)\{[^}]*\}/g)) expect(selector, panel.title).toContain('job=~"$job", instance=~"$instance"');
      }
    }
  });

  it.skipIf(!hasPromtool && !inCi)('has queries that are valid PromQL (promtool check rules)', () => {
    expect(hasPromtool, `${PROMTOOL} is missing in CI: .ci/run should have installed Debian's prometheus package`).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'dashboard-'));
    try {
      const rules = queries.map(({ expr }, index) => ({ record: `dashboard:query_${index}`, expr: withVariables(expr) }));
      const file = join(dir, 'dashboard-queries.yml');
      writeFileSync(file, JSON.stringify({ groups: [{ name: 'dashboard', rules }] }));

      const result = promtool('check', 'rules', file);

      expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
      expect(result.stdout).toContain(`${rules.length} rules found`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('examples/alerts.yml', () => {
  it('alerts on a discoverer that is down or absent, rounds or clusters that go stale, sustained throttling and rising skips', () => {
    const byName = new Map(alertRules.map((rule) => [rule.alert, rule]));

    expect([...byName.keys()].sort()).toEqual([
      'EcsDiscovererAbsent',
      'EcsDiscovererClusterStale',
      'EcsDiscovererDown',
      'EcsDiscovererNoSuccessfulRound',
      'EcsDiscovererSkippedContainersRising',
      'EcsDiscovererThrottled',
    ]);
    expect(byName.get('EcsDiscovererDown')?.expr).toBe(`up{job="${SELF_JOB}"} == 0`);
    expect(byName.get('EcsDiscovererAbsent')?.expr).toBe(`absent(up{job="${SELF_JOB}"})`);
    for (const rule of alertRules) {
      expect(rule.labels?.['severity'], rule.alert).toMatch(/^(critical|warning|info)$/);
      expect(rule.annotations?.['summary'], rule.alert).toBeTruthy();
      expect(rule.annotations?.['description'], rule.alert).toBeTruthy();
    }
  });

  it('queries only metrics that the discoverer registers', () => {
    const unknown = alertRules.flatMap((rule) => metricsOf(rule.expr).filter((metric) => !known.has(metric)));

    expect(unknown).toEqual([]);
  });

  it.skipIf(!hasPromtool && !inCi)('passes promtool check rules', () => {
    expect(hasPromtool, `${PROMTOOL} is missing in CI: .ci/run should have installed Debian's prometheus package`).toBe(true);
    const result = promtool('check', 'rules', 'examples/alerts.yml');

    expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
    expect(result.stdout).toContain(`${alertRules.length} rules found`);
  });

  it.skipIf(!hasPromtool && !inCi)('fires when it should and not before: promtool test rules test/promtool/alerts.test.yml', () => {
    const tests = parse(read('test/promtool/alerts.test.yml')) as { tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[] };
    const tested = new Set(tests.tests.flatMap((test) => test.alert_rule_test.filter((check) => check.exp_alerts.length > 0).map((check) => check.alertname)));

    const result = promtool('test', 'rules', 'test/promtool/alerts.test.yml');

    expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
    expect([...tested].sort(), 'every alert is seen firing in a test').toEqual(alertRules.map((rule) => rule.alert).sort());
  });
});
