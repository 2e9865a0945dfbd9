import { describe, expect, it } from 'vitest';
import { checkExitCode, renderCheckReport, toCheckReport } from '../../src/checkReport.js';
import { toPublishedGroup } from '../../src/discovery/targetGroups.js';
import type { ClusterState, RoundReport } from '../../src/round.js';

const round = (outcome: RoundReport['outcome'], failures: string[] = []): RoundReport => ({
  outcome,
  startedAt: 0,
  durationMs: 10,
  apiCalls: 3,
  clusters: 2,
  tasks: 3,
  pendingTasks: 1,
  targets: { generic: 1, '15s': 1, '30s': 0, '1m': 0, '5m': 0 },
  failures,
  unreadClusters: [],
});

const state = (name: string, overrides: Partial<ClusterState> = {}): ClusterState => ({
  region: 'eu-west-1',
  cluster: { name, arn: `arn:aws:ecs:eu-west-1:123456789012:cluster/${name}` },
  tasks: 0,
  pendingTasks: 0,
  targets: [],
  skips: [],
  warnings: [],
  lastSuccessAt: 1,
  error: undefined,
  ...overrides,
});

const prod = state('prod', {
  tasks: 2,
  pendingTasks: 1,
  targets: [
    toPublishedGroup({ interval: '15s', cluster: 'prod', address: '127.0.0.1:80', labels: { job: 'a' } }),
    toPublishedGroup({ interval: 'generic', cluster: 'prod', address: '127.0.0.2:80', labels: { job: 'b' } }),
  ],
  skips: [
    {
      cluster: 'prod',
      taskArn: 'arn:aws:ecs:eu-west-1:123456789012:task/prod/abc',
      container: 'envoy',
      family: 'jobs',
      revision: 2,
      service: 'jobs',
      reason: 'no_port_binding',
      detail: 'no network binding for container port 9999',
    },
  ],
});

const noFlags = { failIfEmpty: false, strict: false };

describe('check report', () => {
  it('lists clusters by region, then name (code-unit order, field by field), then account', () => {
    const names = ['prod_a', 'prod', 'api', 'Billing', 'prod-a'];
    const other = state('prod', { region: 'eu-central-1' });
    const report = toCheckReport([...names.map((name) => state(name)), other], round('ok'));

    expect(report.clusters.map((cluster) => `${cluster.region}/${cluster.name}`)).toEqual([
      'eu-central-1/prod',
      'eu-west-1/Billing',
      'eu-west-1/api',
      'eu-west-1/prod',
      'eu-west-1/prod-a',
      'eu-west-1/prod_a',
    ]);
  });

  it('prints per cluster the tasks, the targets per interval, and skipped containers grouped by family and reason', () => {
    const second = { ...prod.skips[0]!, taskArn: 'arn:aws:ecs:eu-west-1:123456789012:task/prod/def' };
    const report = toCheckReport([state('empty', { tasks: 1, markedContainers: 0 }), { ...prod, markedContainers: 4, skips: [...prod.skips, second] }], round('ok'));

    expect(renderCheckReport(report)).toBe(
      [
        'cluster empty (eu-west-1): 1 tasks, 0 marked containers',
        '  targets: none',
        'cluster prod (eu-west-1): 2 tasks, 1 not running yet, 4 marked containers',
        '  targets: 15s 1, generic 1',
        '  skipped: jobs:2 (service jobs), container envoy, no_port_binding in 2 tasks, e.g. abc: no network binding for container port 9999',
        'total: 2 clusters, 3 tasks, 4 marked containers, 2 targets, 2 skipped containers, 0 warnings',
        '',
      ].join('\n'),
    );
  });

  it('prints the warnings too', () => {
    const warning = { ...prod.skips[0]!, message: 'PROMETHEUS_LABEL_bad-name: "bad-name" is not a valid label name' };
    const report = toCheckReport([{ ...prod, skips: [], warnings: [warning], markedContainers: 1 }], round('ok'));

    expect(renderCheckReport(report)).toContain('  warning: jobs:2 (service jobs), container envoy, in task abc: PROMETHEUS_LABEL_bad-name: "bad-name" is not a valid label name\n');
  });

  it('names the clusters that could not be read, and the round problems', () => {
    const report = toCheckReport([state('prod', { error: 'AccessDeniedException: no' })], round('failed', ['region eu-west-1: boom']));

    expect(renderCheckReport(report)).toContain('  could not be read: AccessDeniedException: no\n');
    expect(renderCheckReport(report)).toContain('problem: region eu-west-1: boom\n');
  });

  it('gives every target group, skip and warning with their owner, and the figures, as JSON', () => {
    const report = toCheckReport([{ ...prod, markedContainers: 3 }], round('ok'));

    expect(report.clusters).toEqual([
      {
        account: '123456789012',
        region: 'eu-west-1',
        name: 'prod',
        arn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod',
        tasks: 2,
        pendingTasks: 1,
        markedContainers: 3,
        targets: { '15s': 1, '30s': 0, '1m': 0, '5m': 0, generic: 1 },
      },
    ]);
    expect(report.targets).toEqual([
      { interval: '15s', cluster: 'prod', targets: ['127.0.0.1:80'], labels: { job: 'a' } },
      { interval: 'generic', cluster: 'prod', targets: ['127.0.0.2:80'], labels: { job: 'b' } },
    ]);
    expect(report.skipped).toEqual([
      {
        cluster: 'prod',
        account: '123456789012',
        region: 'eu-west-1',
        family: 'jobs',
        revision: 2,
        service: 'jobs',
        task: 'abc',
        container: 'envoy',
        reason: 'no_port_binding',
        detail: 'no network binding for container port 9999',
      },
    ]);
    expect(report.totals).toEqual({ clusters: 1, tasks: 2, markedContainers: 3, targets: 2, skipped: 1, warnings: 0 });
  });

  it('names a missing cluster, and says which marker the containers seem to use when none carries ours', () => {
    const report = toCheckReport(
      [state('prod', { tasks: 12, markedContainers: 0, markerHints: { PROMETHEUS_TARGET: 12, 'docker label PROMETHEUS_EXPORTER_PORT': 2 } })],
      { ...round('ok'), unknownClusters: ['prdo'] },
    );

    expect(report.problems).toEqual([
      'cluster "prdo" of --clusters does not exist in any region',
      'no container carries the marker; 12 containers set PROMETHEUS_TARGET: did you mean --marker PROMETHEUS_TARGET --marker-value true (or --preset prometheus-ecs-discoverer)?',
    ]);
    expect(checkExitCode(report, noFlags)).toBe(1);
  });

  it('exits 1 for skipped containers, 3 when AWS could not be read, 0 otherwise; 1 for no targets or a warning when asked', () => {
    const marked = (overrides: Partial<ClusterState> = {}) => state('a', { tasks: 1, markedContainers: 1, ...overrides });
    const warned = marked({ warnings: [{ ...prod.skips[0]!, message: 'path "x" does not start with "/"' }] });

    expect(checkExitCode(toCheckReport([{ ...prod, markedContainers: 1 }], round('ok')), noFlags)).toBe(1);
    expect(checkExitCode(toCheckReport([marked()], round('ok')), noFlags)).toBe(0);
    expect(checkExitCode(toCheckReport([marked()], round('ok')), { ...noFlags, failIfEmpty: true })).toBe(1);
    expect(checkExitCode(toCheckReport([warned], round('ok')), noFlags)).toBe(0);
    expect(checkExitCode(toCheckReport([warned], round('ok')), { ...noFlags, strict: true })).toBe(1);
    expect(checkExitCode(toCheckReport([state('a')], round('partial', ['x'])), noFlags)).toBe(3);
  });

  it('names each account and region read, and the account of each cluster when read through roles', () => {
    const inAccount = (account: string, name: string) => state(name, { cluster: { name, arn: `arn:aws:ecs:eu-west-1:${account}:cluster/${name}` }, tasks: 1 });
    const role = (account: string) => `arn:aws:iam::${account}:role/discoverer`;
    const readers = [
      { account: '111111111111', region: 'eu-west-1', role: role('111111111111'), clusters: 1 },
      { account: '222222222222', region: 'eu-west-1', role: role('222222222222'), clusters: undefined, error: 'AssumeRoleError: AccessDenied' },
    ];
    const failure = `role ${role('222222222222')} (account 222222222222) in eu-west-1: clusters could not be listed: AssumeRoleError: AccessDenied`;

    const report = toCheckReport([inAccount('222222222222', 'prod'), inAccount('111111111111', 'prod')], { ...round('partial', [failure]), readers });

    expect(report.accounts).toEqual([
      { account: '111111111111', region: 'eu-west-1', role: role('111111111111'), clusters: 1 },
      { account: '222222222222', region: 'eu-west-1', role: role('222222222222'), error: 'AssumeRoleError: AccessDenied' },
    ]);
    expect(report.problems).toEqual([failure]);
    expect(renderCheckReport(report)).toContain('cluster prod (111111111111, eu-west-1): 1 tasks, 0 marked containers\n  targets: none\ncluster prod (222222222222, eu-west-1): 1 tasks');
    expect(renderCheckReport(toCheckReport([state('prod')], round('ok')))).toContain('cluster prod (eu-west-1): ');
  });

  it('lists the tasks the health filter leaves out, but does not fail for them', () => {
    const filtered = { ...prod.skips[0]!, container: '*', reason: 'health_filtered' as const, detail: 'task health status UNHEALTHY' };
    const report = toCheckReport([state('a', { tasks: 1, markedContainers: 1, skips: [filtered] })], round('ok'));

    expect(report.skipped).toEqual([expect.objectContaining({ reason: 'health_filtered', container: '*' })]);
    expect(checkExitCode(report, noFlags)).toBe(0);
    expect(checkExitCode(toCheckReport([state('a', { tasks: 1, markedContainers: 1, skips: [filtered, prod.skips[0]!] })], round('ok')), noFlags)).toBe(1);
  });
});
