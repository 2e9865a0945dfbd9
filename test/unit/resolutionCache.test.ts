import { describe, expect, it } from 'vitest';
import type { TargetGroup } from '../../src/discovery/targetGroups.js';
import { ResolutionCache } from '../../src/resolutionCache.js';
import { DEFAULT_OPTIONS, PROD_HOST, loadContext } from '../fixtures/ecsFixtures.js';

const addresses = (resolution: { targets: readonly { json: string }[] }) =>
  resolution.targets.map((group) => (JSON.parse(group.json) as TargetGroup).targets[0]);

describe('ResolutionCache', () => {
  it('hands back the same resolution while the task, its definition and its host are unchanged', () => {
    // Prepare
    const cache = new ResolutionCache(DEFAULT_OPTIONS);
    const context = loadContext('bridge');

    // Act
    const first = cache.resolve(context);
    const second = cache.resolve({ ...context, host: { ...PROD_HOST } });

    // Assess
    expect(second).toBe(first);
    expect(first.targets.length).toBeGreaterThan(0);
  });

  it('resolves the same task again when its host gains an address', () => {
    const cache = new ResolutionCache(DEFAULT_OPTIONS);
    const context = loadContext('bridge');
    const withoutAddress = { ...context, host: { ...PROD_HOST, privateIp: undefined } };

    const before = cache.resolve(withoutAddress);
    const after = cache.resolve({ ...withoutAddress, host: PROD_HOST });

    expect(before.targets).toEqual([]);
    expect(before.skips.map((skip) => skip.reason)).toContain('no_ip');
    expect(addresses(after).every((address) => address?.startsWith(`${PROD_HOST.privateIp}:`))).toBe(true);
    expect(after.targets.length).toBeGreaterThan(0);
  });

  it('resolves the same task again when its task definition becomes available', () => {
    const cache = new ResolutionCache(DEFAULT_OPTIONS);
    const context = loadContext('awsvpc-fargate');

    const before = cache.resolve({ ...context, definition: undefined });
    const after = cache.resolve(context);

    expect(before.targets).toEqual([]);
    expect(before.skips.map((skip) => skip.reason)).toEqual(['task_definition_unavailable']);
    expect(after.targets.length).toBeGreaterThan(0);
    expect(after.skips).toEqual([]);
  });

  it('resolves a task again when the reader hands out a new record for it (a new describe)', () => {
    const cache = new ResolutionCache(DEFAULT_OPTIONS);
    const context = loadContext('awsvpc-fargate');

    const first = cache.resolve(context);
    const redescribed = cache.resolve({ ...context, task: { ...context.task, healthStatus: 'UNHEALTHY' } });

    expect(redescribed).not.toBe(first);
    expect(redescribed.targets.every((group) => group.json.includes('"__meta_ecs_health_status":"UNHEALTHY"'))).toBe(true);
  });

  it('hands back the very same groups when a new record of the task resolves to the same targets (a refresh that found nothing new)', () => {
    const cache = new ResolutionCache(DEFAULT_OPTIONS);
    const context = loadContext('awsvpc-fargate');

    const first = cache.resolve(context);
    const refreshed = cache.resolve({ ...context, task: { ...context.task } });

    expect(refreshed).not.toBe(first);
    expect(refreshed.targets).toBe(first.targets);
  });

  it('forgets, at the end of a reading of the cluster, the tasks that reading did not resolve', () => {
    const cache = new ResolutionCache(DEFAULT_OPTIONS);
    const kept = loadContext('awsvpc-fargate');
    const gone = { ...kept, task: { ...kept.task, arn: `${kept.task.arn}-gone` } };
    const first = cache.resolve(kept);
    const goneFirst = cache.resolve(gone);

    cache.endReading(kept.cluster.arn);
    cache.resolve(kept);
    cache.endReading(kept.cluster.arn);
    const goneAgain = cache.resolve({ ...gone, task: { ...gone.task } });

    expect(cache.resolve(kept)).toBe(first);
    // Forgotten: a new record of it is resolved afresh, not matched with its old groups.
    expect(goneAgain.targets).not.toBe(goneFirst.targets);
  });

  it('hands out frozen resolutions', () => {
    const resolution = new ResolutionCache(DEFAULT_OPTIONS).resolve(loadContext('host'));

    expect(Object.isFrozen(resolution)).toBe(true);
    expect(Object.isFrozen(resolution.targets)).toBe(true);
    expect(resolution.targets.every((group) => Object.isFrozen(group))).toBe(true);
  });
});
