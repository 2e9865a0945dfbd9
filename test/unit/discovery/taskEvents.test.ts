import { describe, expect, it } from 'vitest';
import { toTaskRecord, type TaskRecord } from '../../../src/discovery/model.js';
import { TaskVersions, newestPerTask, toTaskState, withKnownDataOf } from '../../../src/discovery/taskEvents.js';
import { makeTask, makeTaskDefinition, type TaskSpec } from '../../../src/fake/fleet.js';

const definition = makeTaskDefinition('web', 1, 'bridge', [{ name: 'web', environment: { PROMETHEUS: '1' } }]);

function record(overrides: Partial<TaskSpec> = {}): TaskRecord {
  const task = toTaskRecord(
    makeTask({ cluster: 'prod', id: 't1', definition, containers: [{ name: 'web', bindings: [{ containerPort: 80, hostPort: 32768 }] }], ...overrides }),
  );
  if (task === undefined) throw new Error('fixture without ARN');
  return task;
}

describe('toTaskState', () => {
  it.each([
    ['RUNNING', 'RUNNING', 'running'],
    ['RUNNING', undefined, 'running'],
    ['RUNNING', 'STOPPED', 'stopped'],
    ['PENDING', 'STOPPED', 'stopped'],
    ['DEACTIVATING', 'STOPPED', 'stopped'],
    ['STOPPING', 'RUNNING', 'stopped'],
    ['DEPROVISIONING', undefined, 'stopped'],
    ['STOPPED', 'STOPPED', 'stopped'],
    ['DELETED', undefined, 'stopped'],
    ['PROVISIONING', 'RUNNING', 'starting'],
    ['PENDING', 'RUNNING', 'starting'],
    ['ACTIVATING', 'RUNNING', 'starting'],
    [undefined, undefined, 'starting'],
  ] as const)('reads lastStatus %s, desiredStatus %s as %s', (lastStatus, desiredStatus, expected) => {
    expect(toTaskState(lastStatus, desiredStatus)).toBe(expected);
  });
});

describe('TaskVersions', () => {
  it('takes a task never seen, and a newer version, but not the same or an older one', () => {
    // Prepare
    const versions = new TaskVersions();

    // Act
    const before = versions.isStale('a', 5);
    versions.note('a', 5);

    // Assess
    expect(before).toBe(false);
    expect(versions.isStale('a', 5)).toBe(true);
    expect(versions.isStale('a', 4)).toBe(true);
    expect(versions.isStale('a', 6)).toBe(false);
    expect(versions.isStale('b', 1)).toBe(false);
  });

  it('says a state is outdated only when a newer version was seen', () => {
    const versions = new TaskVersions();
    versions.note('a', 5);

    expect(versions.isOutdated('a', 4)).toBe(true);
    expect(versions.isOutdated('a', 5)).toBe(false);
    expect(versions.isOutdated('a', 6)).toBe(false);
  });

  it('never goes back to an older version', () => {
    const versions = new TaskVersions();

    versions.note('a', 7);
    versions.note('a', 3);

    expect(versions.isStale('a', 6)).toBe(true);
  });

  it('is bounded: the least recently seen tasks are forgotten first', () => {
    // Prepare
    const versions = new TaskVersions(2);

    // Act
    versions.note('a', 1);
    versions.note('b', 1);
    versions.note('c', 1);

    // Assess
    expect(versions.size).toBe(2);
    expect(versions.isStale('a', 1)).toBe(false);
    expect(versions.isStale('c', 1)).toBe(true);
  });
});

describe('newestPerTask', () => {
  it('keeps the newest change of each task, in any order, and calls the others stale', () => {
    // Prepare
    const changes = [
      { taskArn: 'a', version: 3, n: 1 },
      { taskArn: 'b', version: 1, n: 2 },
      { taskArn: 'a', version: 5, n: 3 },
      { taskArn: 'a', version: 4, n: 4 },
      { taskArn: 'a', version: 5, n: 5 },
    ];

    // Act
    const { newest, stale } = newestPerTask(changes);

    // Assess
    expect(newest.map((change) => change.n).sort()).toEqual([2, 3]);
    expect(stale.map((change) => change.n).sort()).toEqual([1, 4, 5]);
  });
});

describe('withKnownDataOf', () => {
  it('keeps the known health status and tags, which events do not carry', () => {
    // Prepare
    const known = { ...record({ healthStatus: 'UNHEALTHY' }), tags: { team: 'a' } };
    const fromEvent = { ...record(), healthStatus: undefined, tags: {}, version: 4 };

    // Act
    const merged = withKnownDataOf(fromEvent, known);

    // Assess
    expect(merged.healthStatus).toBe('UNHEALTHY');
    expect(merged.tags).toEqual({ team: 'a' });
    expect(merged.version).toBe(4);
  });

  it('takes what the event says over what was known', () => {
    const known = { ...record({ healthStatus: 'HEALTHY' }), tags: { team: 'a' } };
    const fromEvent = { ...record({ healthStatus: 'UNHEALTHY' }), tags: { team: 'b' } };

    const merged = withKnownDataOf(fromEvent, known);

    expect(merged.healthStatus).toBe('UNHEALTHY');
    expect(merged.tags).toEqual({ team: 'b' });
  });

  it('keeps the runtime data that a running task does not lose, and takes the event as it is for a task never known', () => {
    // Prepare
    const known = record();
    const fromEvent = record({ containers: [{ name: 'web' }] });

    // Act
    const merged = withKnownDataOf(fromEvent, known);
    const alone = withKnownDataOf(fromEvent, undefined);

    // Assess
    expect(merged.containers[0]?.bindings).toEqual(known.containers[0]?.bindings);
    expect(alone).toBe(fromEvent);
  });
});
