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
      reason: 'no_port_binding',
      detail: 'no network binding for container port 9999',
    },
  ],
});

describe('check report', () => {
  it('prints per cluster the tasks, the targets per interval and why containers were skipped', () => {
    const report = toCheckReport([state('empty', { tasks: 1 }), prod], round('ok'));

    expect(renderCheckReport(report)).toBe(
      [
        'cluster empty (eu-west-1): 1 tasks',
        '  targets: none',
        'cluster prod (eu-west-1): 2 tasks, 1 not running yet',
        '  targets: 15s 1, generic 1',
        '  skipped container envoy of task abc: no_port_binding: no network binding for container port 9999',
        'total: 2 clusters, 3 tasks, 2 targets, 1 skipped containers',
        '',
      ].join('\n'),
    );
  });

  it('names the clusters that could not be read, and the round problems', () => {
    const report = toCheckReport([state('prod', { error: 'AccessDeniedException: no' })], round('failed', ['region eu-west-1: boom']));

    expect(renderCheckReport(report)).toContain('  could not be read: AccessDeniedException: no\n');
    expect(renderCheckReport(report)).toContain('problem: region eu-west-1: boom\n');
  });

  it('gives the same facts as JSON', () => {
    const report = toCheckReport([prod], round('ok'));

    expect(report.clusters[0]).toEqual({
      region: 'eu-west-1',
      name: 'prod',
      tasks: 2,
      pendingTasks: 1,
      targets: { '15s': 1, '30s': 0, '1m': 0, '5m': 0, generic: 1 },
      skipped: [{ task: 'abc', container: 'envoy', reason: 'no_port_binding', detail: 'no network binding for container port 9999' }],
    });
    expect(report.totals).toEqual({ clusters: 1, tasks: 2, targets: 2, skipped: 1 });
  });

  it('exits 1 for skipped containers, 3 when AWS could not be read, 0 otherwise, and 1 for no targets when asked', () => {
    expect(checkExitCode(toCheckReport([prod], round('ok')), false)).toBe(1);
    expect(checkExitCode(toCheckReport([state('a', { tasks: 1 })], round('ok')), false)).toBe(0);
    expect(checkExitCode(toCheckReport([state('a', { tasks: 1 })], round('ok')), true)).toBe(1);
    expect(checkExitCode(toCheckReport([state('a')], round('partial', ['x'])), false)).toBe(3);
  });
});
