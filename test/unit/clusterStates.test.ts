import { describe, expect, it } from 'vitest';
import { ClusterStates } from '../../src/clusterStates.js';
import type { ClusterState } from '../../src/round.js';
import { clusterArn } from '../../src/fake/fleet.js';

const state = (name: string, region = 'eu-west-1'): ClusterState => ({
  region,
  cluster: { name, arn: clusterArn(name) },
  tasks: 1,
  pendingTasks: 0,
  targets: [],
  skips: [],
  warnings: [],
  lastSuccessAt: 1000,
  error: undefined,
});

describe('ClusterStates', () => {
  it('hands out frozen states that a later failure replaces instead of changing', () => {
    // Prepare
    const states = new ClusterStates();
    states.set(state('a'));
    const before = states.list();

    // Act
    states.markFailed(clusterArn('a'), 'ThrottlingException');
    states.markRegionFailed('eu-west-1', 'ListClusters failed');

    // Assess
    expect(Object.isFrozen(before)).toBe(true);
    expect(Object.isFrozen(before[0])).toBe(true);
    expect(before[0]?.error).toBeUndefined();
    expect(states.list()[0]).toMatchObject({ error: 'ListClusters failed', lastSuccessAt: 1000 });
    expect(() => {
      (before[0] as { error: string | undefined }).error = 'changed';
    }).toThrow(TypeError);
  });

  it('keeps a state only once a reading succeeded: a failure of an unknown cluster leaves nothing', () => {
    const states = new ClusterStates();

    expect(states.markFailed(clusterArn('new'), 'AccessDenied')).toBeUndefined();
    expect(states.list()).toEqual([]);
  });

  it('forgets the clusters of a region that its listing no longer returns, and only those', () => {
    const states = new ClusterStates();
    states.set(state('a'));
    states.set(state('b'));
    states.set(state('a-us', 'us-east-1'));

    const gone = states.retainListed('eu-west-1', [{ name: 'b', arn: clusterArn('b') }]);

    expect(gone.map((entry) => entry.cluster.name)).toEqual(['a']);
    expect(states.list().map((entry) => entry.cluster.name)).toEqual(['b', 'a-us']);
  });
});
