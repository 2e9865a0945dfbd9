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
    states.markRegionFailed({ region: 'eu-west-1' }, 'ListClusters failed');

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

    const gone = states.retainListed({ region: 'eu-west-1' }, [{ name: 'b', arn: clusterArn('b') }]);

    expect(gone.map((entry) => entry.cluster.name)).toEqual(['a']);
    expect(states.list().map((entry) => entry.cluster.name)).toEqual(['b', 'a-us']);
  });

  it('tells apart the clusters of one name in two accounts of one region: each reader keeps and forgets only its own', () => {
    const states = new ClusterStates();
    const inAccount = (account: string, name: string): ClusterState => ({
      ...state(name),
      cluster: { name, arn: `arn:aws:ecs:eu-west-1:${account}:cluster/${name}` },
    });
    states.set(inAccount('111111111111', 'prod'));
    states.set(inAccount('222222222222', 'prod'));
    states.set(inAccount('222222222222', 'old'));

    states.markRegionFailed({ region: 'eu-west-1', account: '111111111111' }, 'AccessDenied');
    const gone = states.retainListed({ region: 'eu-west-1', account: '222222222222' }, [{ name: 'prod', arn: 'arn:aws:ecs:eu-west-1:222222222222:cluster/prod' }]);

    expect(gone.map((entry) => entry.cluster.arn)).toEqual(['arn:aws:ecs:eu-west-1:222222222222:cluster/old']);
    expect(states.list().map((entry) => [entry.cluster.arn, entry.error])).toEqual([
      ['arn:aws:ecs:eu-west-1:111111111111:cluster/prod', 'AccessDenied'],
      ['arn:aws:ecs:eu-west-1:222222222222:cluster/prod', undefined],
    ]);
    expect(states.countOf({ region: 'eu-west-1', account: '222222222222' })).toBe(1);
    expect(states.countOf({ region: 'eu-west-1' })).toBe(2);
  });
});
