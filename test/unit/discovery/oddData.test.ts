import type { Task, TaskDefinition } from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import { toTaskDefinitionRecord, toTaskRecord } from '../../../src/discovery/model.js';
import { resolveTaskTargets, type TaskContext } from '../../../src/discovery/resolveTargets.js';
import { DEFAULT_OPTIONS, PROD, PROD_HOST, loadContext, readDescribeTaskDefinition, readDescribeTasks } from '../../fixtures/ecsFixtures.js';

/**
 * Odd ECS data, one case per item of the list the discoverer must survive: resolution never
 * throws, and what cannot be scraped is skipped with a reason while the rest still resolves.
 */

/** A context from raw (possibly odd) API JSON, through the real trimming functions. */
function contextOf(rawTask: unknown, rawDefinition: unknown, host = PROD_HOST): TaskContext {
  const task = toTaskRecord(rawTask as Task);
  if (!task) throw new Error('task without ARN');
  const definition = rawDefinition === undefined ? undefined : toTaskDefinitionRecord('arn:aws:ecs:eu-west-1:123456789012:task-definition/odd:1', rawDefinition as TaskDefinition);
  return { region: 'eu-west-1', cluster: PROD, task, definition, host };
}

const rawBridgeTask = () => structuredClone(readDescribeTasks('bridge').tasks[0]) as Task & Record<string, unknown>;
const rawBridgeDefinition = () => structuredClone(readDescribeTaskDefinition('bridge').taskDefinition) as TaskDefinition & Record<string, unknown>;

describe('odd ECS data', () => {
  it('skips nothing and yields nothing for a task without containers (null or missing)', () => {
    for (const containers of [null, undefined, []]) {
      const task = { ...rawBridgeTask(), containers };
      const definition = { ...rawBridgeDefinition(), containerDefinitions: containers };

      const resolution = resolveTaskTargets(contextOf(task, definition), DEFAULT_OPTIONS);

      expect(resolution).toEqual({ targets: [], skips: [], warnings: [], marked: 0, markerHints: [] });
    }
  });

  it('skips a bridge container without network bindings, with a reason', () => {
    const task = rawBridgeTask();
    for (const container of task.containers ?? []) (container as Record<string, unknown>)['networkBindings'] = null;

    const resolution = resolveTaskTargets(contextOf(task, rawBridgeDefinition()), DEFAULT_OPTIONS);

    expect(resolution.targets).toEqual([]);
    expect(resolution.skips.length).toBeGreaterThan(0);
    expect(resolution.skips.every((skip) => skip.reason === 'no_port_binding')).toBe(true);
  });

  it('treats a container without environment as unmarked', () => {
    const definition = rawBridgeDefinition();
    for (const container of definition.containerDefinitions ?? []) (container as Record<string, unknown>)['environment'] = null;

    const resolution = resolveTaskTargets(contextOf(rawBridgeTask(), definition), DEFAULT_OPTIONS);

    expect(resolution).toEqual({ targets: [], skips: [], warnings: [], marked: 0, markerHints: [] });
  });

  it('resolves a task without a task group, leaving out the service and group labels', () => {
    const context = loadContext('awsvpc-fargate');
    const task = { ...context.task, group: undefined };

    const [target] = resolveTaskTargets({ ...context, task }, DEFAULT_OPTIONS).targets;

    expect(target?.labels).not.toHaveProperty('__meta_ecs_service');
    expect(target?.labels).not.toHaveProperty('__meta_ecs_task_group');
    expect(target?.labels['job']).toBeTruthy();
  });

  it('skips the whole task, with a reason, when its task definition could not be described', () => {
    const resolution = resolveTaskTargets(contextOf(rawBridgeTask(), undefined), DEFAULT_OPTIONS);

    expect(resolution.targets).toEqual([]);
    expect(resolution.skips).toEqual([expect.objectContaining({ container: '*', reason: 'task_definition_unavailable' })]);
  });

  it('skips bridge containers, with a reason, when the EC2 instance no longer exists', () => {
    const resolution = resolveTaskTargets(
      contextOf(rawBridgeTask(), rawBridgeDefinition(), { containerInstanceArn: PROD_HOST.containerInstanceArn, instanceId: 'i-gone', found: false }),
      DEFAULT_OPTIONS,
    );

    expect(resolution.targets).toEqual([]);
    expect(resolution.skips.map((skip) => skip.reason)).toContain('host_not_found');
  });

  it('takes an empty address on a container interface as none, and reads the network interface attachment instead', () => {
    const task = structuredClone(readDescribeTasks('awsvpc-fargate').tasks[0]) as Task;
    for (const container of task.containers ?? []) container.networkInterfaces = [{ privateIpv4Address: '', ipv6Address: '' }];
    const definition = structuredClone(readDescribeTaskDefinition('awsvpc-fargate').taskDefinition);

    const resolution = resolveTaskTargets(contextOf(task, definition, undefined), DEFAULT_OPTIONS);

    expect(resolution.skips).toEqual([]);
    expect(resolution.targets.map((target) => target.address)).toEqual(['127.0.1.10:8080']);
  });

  it('reads ports given as decimal strings, and skips ports that are not numbers', () => {
    const task = rawBridgeTask();
    const bindings = (task.containers ?? []).flatMap((container) => container.networkBindings ?? []) as unknown as Record<string, unknown>[];
    for (const binding of bindings) binding['hostPort'] = String(binding['hostPort']);
    const good = resolveTaskTargets(contextOf(task, rawBridgeDefinition()), DEFAULT_OPTIONS);
    for (const binding of bindings) binding['hostPort'] = 'eighty';
    const bad = resolveTaskTargets(contextOf(task, rawBridgeDefinition()), DEFAULT_OPTIONS);

    expect(good.targets.length).toBeGreaterThan(0);
    const addresses = (targets: { address: string }[]) => targets.map((target) => target.address);
    expect(addresses(good.targets)).toEqual(addresses(resolveTaskTargets(loadContext('bridge'), DEFAULT_OPTIONS).targets));
    expect(bad.targets).toEqual([]);
    expect(bad.skips.every((skip) => skip.reason === 'bad_port')).toBe(true);
  });

  it('resolves a very large task: 100 marked containers with 50 bindings each', () => {
    const containerDefinitions = Array.from({ length: 100 }, (_, index) => ({
      name: `c${index}`,
      environment: [{ name: 'PROMETHEUS', value: 'true' }, { name: 'PROMETHEUS_ENDPOINT', value: '15s:/a,30s:/b,/c' }],
    }));
    const containers = containerDefinitions.map((definition, index) => ({
      name: definition.name,
      containerArn: `arn:aws:ecs:eu-west-1:123456789012:container/prod/c${index}`,
      networkBindings: Array.from({ length: 50 }, (_, port) => ({ bindIP: '0.0.0.0', containerPort: 1000 + port, hostPort: 30000 + index * 50 + port })),
    }));
    const task = { ...rawBridgeTask(), containers };
    const definition = { ...rawBridgeDefinition(), containerDefinitions };

    const resolution = resolveTaskTargets(contextOf(task, definition), DEFAULT_OPTIONS);

    expect(resolution.targets).toHaveLength(300);
    expect(new Set(resolution.targets.map((target) => `${target.address} ${target.labels['metrics_path']}`)).size).toBe(300);
  });

  it('does not throw on nulls anywhere in the task', () => {
    const task = rawBridgeTask();
    for (const key of Object.keys(task)) if (key !== 'taskArn') (task as Record<string, unknown>)[key] = null;

    expect(() => resolveTaskTargets(contextOf(task, rawBridgeDefinition()), DEFAULT_OPTIONS)).not.toThrow();
  });
});

describe('odd task definitions', () => {
  it('takes the job from the task definition ARN when the family is empty', () => {
    const definition = { ...rawBridgeDefinition(), family: '' };

    const resolution = resolveTaskTargets(contextOf(rawBridgeTask(), definition), DEFAULT_OPTIONS);

    expect(resolution.targets.length).toBeGreaterThan(0);
    expect(resolution.targets.every((target) => target.labels['job'] === 'odd')).toBe(true);
  });
});
