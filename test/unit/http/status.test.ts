import { describe, expect, it } from 'vitest';
import { toGroupsByInterval, toPublishedGroup, type TargetGroup } from '../../../src/discovery/targetGroups.js';
import { Status } from '../../../src/http/status.js';
import type { ClusterState, Snapshot } from '../../../src/round.js';

const clusterState = (name: string): ClusterState => ({
  region: 'eu-west-1',
  cluster: { name, arn: `arn:aws:ecs:eu-west-1:123456789012:cluster/${name}` },
  tasks: 1,
  pendingTasks: 0,
  targets: [toPublishedGroup({ interval: '15s', cluster: name, address: '127.0.0.1:9100', labels: { job: name } })],
  skips: [],
  warnings: [],
  lastSuccessAt: Date.parse('2026-11-24T10:00:00Z'),
  error: undefined,
});

function snapshotOf(...names: string[]): Snapshot {
  const clusters = names.map(clusterState);
  return { finishedAt: Date.parse('2026-11-24T10:00:01Z'), clusters, groups: toGroupsByInterval(clusters.flatMap((state) => state.targets)) };
}

const jobs = (body: string | undefined) => (JSON.parse(body ?? 'null') as TargetGroup[]).map((group) => group.labels['job']);

describe('Status.targetsBody', () => {
  it('answers [] for a cluster it does not know, and holds no answer for it, however many names clients send', () => {
    const status = new Status({ unreadyAfterFailedRounds: 3, version: '1.2.3' });
    status.publish(snapshotOf('prod', 'staging'));

    const answers = Array.from({ length: 1000 }, (_, index) => status.targetsBody({ cluster: `no-such-cluster-${index}` }));
    answers.push(...Array.from({ length: 1000 }, (_, index) => status.targetsBody({ interval: '15s', cluster: `unknown-${index}` })));

    expect(new Set(answers)).toEqual(new Set(['[]']));
    expect(status.cachedBodies).toBe(0);
  });

  it('holds one answer per filter of a known cluster, made once however often it is asked', () => {
    const status = new Status({ unreadyAfterFailedRounds: 3, version: '1.2.3' });
    status.publish(snapshotOf('prod', 'staging'));

    for (let request = 0; request < 100; request += 1) {
      status.targetsBody({ cluster: 'prod' });
      status.targetsBody({ cluster: 'staging', interval: '15s' });
      status.targetsBody({});
    }

    expect(jobs(status.targetsBody({ cluster: 'prod' }))).toEqual(['prod']);
    expect(jobs(status.targetsBody({ cluster: 'staging', interval: '15s' }))).toEqual(['staging']);
    expect(jobs(status.targetsBody({}))).toEqual(['prod', 'staging']);
    expect(status.cachedBodies).toBe(3);
  });

  it('forgets the answers of the last snapshot when a new one is published', () => {
    const status = new Status({ unreadyAfterFailedRounds: 3, version: '1.2.3' });
    status.publish(snapshotOf('prod'));
    status.targetsBody({ cluster: 'prod' });

    status.publish(snapshotOf('staging'));

    expect(status.cachedBodies).toBe(0);
    expect(status.targetsBody({ cluster: 'prod' })).toBe('[]');
    expect(jobs(status.targetsBody({ cluster: 'staging' }))).toEqual(['staging']);
  });

  it('answers nothing before the first snapshot', () => {
    const status = new Status({ unreadyAfterFailedRounds: 3, version: '1.2.3' });

    expect(status.targetsBody({ cluster: 'prod' })).toBeUndefined();
    expect(status.cachedBodies).toBe(0);
  });
});
