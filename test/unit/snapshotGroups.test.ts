import { describe, expect, it } from 'vitest';
import type { ClusterRef } from '../../src/discovery/model.js';
import type { Target } from '../../src/discovery/resolveTargets.js';
import { toGroupsByInterval, toPublishedGroup, type PublishedGroup } from '../../src/discovery/targetGroups.js';
import type { ClusterState } from '../../src/round.js';
import { SnapshotGroups } from '../../src/snapshotGroups.js';

const cluster = (name: string): ClusterRef => ({ name, arn: `arn:aws:ecs:eu-west-1:123456789012:cluster/${name}` });
const group = (name: string, address: string, interval: Target['interval'] = 'generic'): PublishedGroup =>
  toPublishedGroup({ interval, cluster: name, address, labels: { instance: address, job: name } });
const state = (name: string, targets: readonly PublishedGroup[]): ClusterState => ({
  region: 'eu-west-1',
  cluster: cluster(name),
  tasks: targets.length,
  pendingTasks: 0,
  targets,
  skips: [],
  warnings: [],
  lastSuccessAt: 0,
  error: undefined,
});
const texts = (groups: readonly PublishedGroup[]) => groups.map((one) => one.json);

describe('SnapshotGroups', () => {
  it('gives what sorting every cluster\'s targets at once gives', () => {
    const prod = [group('prod', '127.0.0.3:80'), group('prod', '127.0.0.1:80', '1m')];
    const batch = [group('batch', '127.0.0.2:80'), group('batch', '127.0.0.1:8080', '1m')];

    const groups = new SnapshotGroups().of([state('prod', prod), state('batch', batch)]);

    const all = toGroupsByInterval([...prod, ...batch]);
    expect(texts(groups.generic)).toEqual(texts(all.generic));
    expect(texts(groups['1m'])).toEqual(texts(all['1m']));
  });

  it('hands back the same lists when no cluster has other targets than last time', () => {
    const snapshots = new SnapshotGroups();
    const prod = [group('prod', '127.0.0.1:80')];
    const batch = [group('batch', '127.0.0.2:80')];
    const first = snapshots.of([state('prod', prod), state('batch', batch)]);

    // New states and lists, of the same group objects: a steady round.
    const second = snapshots.of([state('prod', [...prod]), state('batch', [...batch])]);

    expect(second).toBe(first);
  });

  it('merges again when one cluster changed, and leaves out a cluster that is gone', () => {
    const snapshots = new SnapshotGroups();
    const prod = [group('prod', '127.0.0.1:80')];
    const first = snapshots.of([state('prod', prod), state('batch', [group('batch', '127.0.0.2:80')])]);

    const second = snapshots.of([state('prod', [...prod, group('prod', '127.0.0.9:80')])]);

    expect(second).not.toBe(first);
    expect(texts(second.generic)).toEqual(texts(toGroupsByInterval([...prod, group('prod', '127.0.0.9:80')]).generic));
  });
});
