import { describe, expect, it } from 'vitest';
import { sanitizeLabelName } from '../../../src/discovery/labels.js';
import { fromEc2Instance, type TaskRecord } from '../../../src/discovery/model.js';
import { resolveTaskTargets, type HealthFilter, type ResolveOptions, type TaskContext } from '../../../src/discovery/resolveTargets.js';
import { DEFAULT_OPTIONS, MANAGED_HOST, PROD_HOST, loadContext, onlyContainers } from '../../fixtures/ecsFixtures.js';

/**
 * The metadata that answers already hold (README, "Labels"), and the health filter: what each
 * task turns into, with no AWS call of its own.
 */

const resolve = (context: TaskContext, options: Partial<ResolveOptions> = {}) => resolveTaskTargets(context, { ...DEFAULT_OPTIONS, ...options });
const labelsOf = (context: TaskContext) => resolve(context).targets[0]?.labels ?? {};
const withTask = (context: TaskContext, changes: Partial<TaskRecord>): TaskContext => ({ ...context, task: { ...context.task, ...changes } });

/** The bridge fixture's "app" container alone, on a host as DescribeInstances describes it. */
function bridgeOnEc2Host(): TaskContext {
  const context = loadContext('bridge');
  const host = {
    ...PROD_HOST,
    ...fromEc2Instance({
      InstanceId: PROD_HOST.instanceId,
      PrivateIpAddress: '127.0.0.11',
      PublicIpAddress: '127.0.0.99',
      SubnetId: 'subnet-0host',
      InstanceType: 'm5.large',
      Tags: [
        { Key: 'Name', Value: 'ecs-prod-7' },
        { Key: 'aws:autoscaling:groupName', Value: 'prod-asg' },
        { Key: 'no-value' },
      ],
    }),
  };
  return { ...context, definition: onlyContainers(context.definition!, 'app'), host };
}

describe('metadata labels', () => {
  it('names the account of the cluster on every target, from its ARN', () => {
    for (const kind of ['bridge', 'host', 'awsvpc-fargate', 'awsvpc-ec2', 'external'] as const) {
      const targets = resolve(loadContext(kind)).targets;

      expect(targets.length, kind).toBeGreaterThan(0);
      expect(new Set(targets.map((target) => target.labels['__meta_ecs_account_id'])), kind).toEqual(new Set(['123456789012']));
    }
    const elsewhere = { ...loadContext('awsvpc-fargate'), cluster: { name: 'prod', arn: 'arn:aws:ecs:us-east-1:222222222222:cluster/prod' } };
    expect(labelsOf(elsewhere)['__meta_ecs_account_id']).toBe('222222222222');
  });

  it('gives the EC2 host\'s private and public IP, subnet and tags (sanitised as Prometheus does) to tasks on it', () => {
    const labels = labelsOf(bridgeOnEc2Host());

    expect(labels).toMatchObject({
      __meta_ecs_ec2_instance_private_ip: '127.0.0.11',
      __meta_ecs_ec2_instance_public_ip: '127.0.0.99',
      __meta_ecs_subnet_id: 'subnet-0host',
      __meta_ecs_tag_ec2_Name: 'ecs-prod-7',
      __meta_ecs_tag_ec2_aws_autoscaling_groupName: 'prod-asg',
    });
    expect(Object.keys(labels).filter((name) => name.includes('no_value'))).toEqual([]);
  });

  it('takes the subnet of the task\'s own network interface in awsvpc mode, not the host\'s', () => {
    const context = loadContext('awsvpc-ec2');
    const labels = labelsOf({ ...context, host: { ...context.host!, subnetId: 'subnet-0host', publicIp: '127.0.0.98', tags: { Name: 'batch-1' } } });

    expect(labels).toMatchObject({
      __meta_ecs_subnet_id: 'subnet-0b2c4d6e8f0a13579',
      __meta_ecs_ec2_instance_public_ip: '127.0.0.98',
      __meta_ecs_tag_ec2_Name: 'batch-1',
    });
  });

  it('gives no EC2 labels to an ECS Anywhere host but its private IP, and none at all on Fargate', () => {
    const anywhere = labelsOf({ ...loadContext('external'), host: { ...MANAGED_HOST, publicIp: '127.0.0.97', tags: { Name: 'x' } } });
    const fargate = labelsOf(loadContext('awsvpc-fargate'));

    expect(anywhere['__meta_ecs_ec2_instance_private_ip']).toBe(MANAGED_HOST.privateIp);
    expect(Object.keys(anywhere).filter((name) => /ec2_instance_public_ip|tag_ec2_/.test(name))).toEqual([]);
    expect(Object.keys(fargate).filter((name) => name.startsWith('__meta_ecs_ec2_') || name.startsWith('__meta_ecs_tag_ec2_'))).toEqual([]);
  });

  it('gives the task\'s status, platform, capacity provider and starter from its describe', () => {
    const context = withTask(loadContext('awsvpc-fargate'), {
      desiredStatus: 'STOPPED',
      lastStatus: 'RUNNING',
      platformFamily: 'WINDOWS_SERVER_2022_CORE',
      platformVersion: '1.0.0',
      capacityProviderName: 'FARGATE_SPOT',
      startedBy: 'ecs-svc/1',
    });

    expect(labelsOf(context)).toMatchObject({
      __meta_ecs_desired_status: 'STOPPED',
      __meta_ecs_last_status: 'RUNNING',
      __meta_ecs_platform_family: 'WINDOWS_SERVER_2022_CORE',
      __meta_ecs_platform_version: '1.0.0',
      __meta_ecs_capacity_provider: 'FARGATE_SPOT',
      __meta_ecs_task_started_by: 'ecs-svc/1',
    });
  });

  it('adds cluster tags only when the reader gives them (labels.clusterTags)', () => {
    const context = loadContext('awsvpc-fargate');
    const tagged = { ...context, cluster: { ...context.cluster, tags: { 'cost-center': '42', Team: 'search' } } };

    expect(labelsOf(tagged)).toMatchObject({ __meta_ecs_tag_cluster_cost_center: '42', __meta_ecs_tag_cluster_Team: 'search' });
    expect(Object.keys(labelsOf(context)).filter((name) => name.startsWith('__meta_ecs_tag_cluster_'))).toEqual([]);
  });

  it('sanitises a label name one character at a time, as Prometheus (Go) does, whatever its UTF-16 length', () => {
    expect(sanitizeLabelName('aws:cloudformation:stack-name')).toBe('aws_cloudformation_stack_name');
    expect(sanitizeLabelName('équipe')).toBe('_quipe');
    expect(sanitizeLabelName('a😀b')).toBe('a_b');
  });
});

describe('health filter', () => {
  /** The Fargate fixture (one marked container of two) with a health status, and with or without a health check. */
  function fargate(healthStatus: string | undefined, checked = false): TaskContext {
    const context = withTask(loadContext('awsvpc-fargate'), { healthStatus });
    if (!checked) return context;
    const definition = context.definition!;
    return { ...context, definition: { ...definition, containers: definition.containers.map((container) => ({ ...container, healthCheck: true as const })) } };
  }
  const outcome = (context: TaskContext, healthFilter: HealthFilter) => {
    const resolution = resolve(context, { healthFilter });
    return { targets: resolution.targets.length, skips: resolution.skips.map((skip) => [skip.reason, skip.container, skip.transient ?? false]) };
  };

  it.each([
    ['any', 'HEALTHY', 1],
    ['any', 'UNHEALTHY', 1],
    ['any', 'UNKNOWN', 1],
    ['healthy', 'HEALTHY', 1],
    ['healthy', 'UNHEALTHY', 0],
    ['healthy', 'UNKNOWN', 0],
    ['healthy', undefined, 0],
    ['not-unhealthy', 'HEALTHY', 1],
    ['not-unhealthy', 'UNKNOWN', 1],
    ['not-unhealthy', undefined, 1],
    ['not-unhealthy', 'UNHEALTHY', 0],
  ] as const)('with %s, scrapes a task whose health status is %s: %i targets', (filter, status, targets) => {
    expect(outcome(fargate(status), filter).targets).toBe(targets);
  });

  it('skips a whole task once, under a reason of its own, and counts its marked containers', () => {
    const resolution = resolve(fargate('UNHEALTHY'), { healthFilter: 'healthy' });

    expect(resolution.marked).toBe(1);
    expect(resolution.skips).toEqual([
      expect.objectContaining({ reason: 'health_filtered', container: '*', detail: 'task health status UNHEALTHY; healthFilter healthy scrapes only HEALTHY tasks' }),
    ]);
  });

  it('describes again next round a task whose health checks have not answered yet, but not one that has no health check', () => {
    expect(outcome(fargate('UNKNOWN', true), 'healthy').skips).toEqual([['health_filtered', '*', true]]);
    expect(outcome(fargate('UNKNOWN', false), 'healthy').skips).toEqual([['health_filtered', '*', false]]);
    expect(outcome(fargate('UNHEALTHY', true), 'healthy').skips).toEqual([['health_filtered', '*', false]]);
    expect(resolve(fargate('UNKNOWN', false), { healthFilter: 'healthy' }).skips[0]?.detail).toContain('no container of its task definition has a health check');
  });

  it('says nothing of a task without a marked container', () => {
    const context = fargate('UNHEALTHY');
    const unmarked = { ...context, definition: onlyContainers(context.definition!, 'log_router') };

    expect(resolve(unmarked, { healthFilter: 'healthy' })).toMatchObject({ targets: [], skips: [], marked: 0 });
  });
});
