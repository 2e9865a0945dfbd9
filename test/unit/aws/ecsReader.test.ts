import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  ClientException,
  ClusterNotFoundException,
  DescribeContainerInstancesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListClustersCommand,
  ListTasksCommand,
  ServerException,
  type Task,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EcsReader } from '../../../src/aws/ecsReader.js';
import { AwsError } from '../../../src/errors.js';
import { createMetrics } from '../../../src/metrics.js';
import type { FakeFleet } from '../../support/fakeAws.js';
import {
  addDefinition,
  addHost,
  addTask,
  clusterArn,
  emptyFleet,
  makeTaskDefinition,
  taskArn,
  taskDefinitionArn,
} from '../../support/fleet.js';

const ecsMock = mockClient(ECSClient);
const ec2Mock = mockClient(EC2Client);

/** Answers every ECS and EC2 command from a fleet, as the real APIs would (100 per page). */
function answerFrom(fleet: FakeFleet) {
  const clusterOf = (ref: string) => fleet.clusters.find((cluster) => clusterArn(cluster.name) === ref || cluster.name === ref);
  ecsMock.on(ListClustersCommand).callsFake(() => ({ clusterArns: fleet.clusters.map((cluster) => clusterArn(cluster.name)) }));
  ecsMock.on(ListTasksCommand).callsFake((input: { cluster: string; nextToken?: string }) => {
    const cluster = clusterOf(input.cluster);
    if (!cluster) throw new ClusterNotFoundException({ message: 'Cluster not found.', $metadata: {} });
    const start = Number(input.nextToken ?? 0);
    const arns = cluster.tasks.map((task) => task.taskArn as string);
    const next = start + 100 < arns.length ? String(start + 100) : undefined;
    return { taskArns: arns.slice(start, start + 100), nextToken: next };
  });
  ecsMock.on(DescribeTasksCommand).callsFake((input: { cluster: string; tasks: string[] }) => ({
    tasks: clusterOf(input.cluster)?.tasks.filter((task) => input.tasks.includes(task.taskArn as string)),
  }));
  ecsMock.on(DescribeTaskDefinitionCommand).callsFake((input: { taskDefinition: string }) => {
    const definition = fleet.taskDefinitions.get(input.taskDefinition);
    if (!definition) throw new ClientException({ message: 'Unable to describe task definition.', $metadata: {} });
    return { taskDefinition: definition };
  });
  ecsMock.on(DescribeContainerInstancesCommand).callsFake((input: { cluster: string; containerInstances: string[] }) => ({
    containerInstances: clusterOf(input.cluster)
      ?.containerInstances.filter((instance) => input.containerInstances.includes(instance.arn))
      .map((instance) => ({ containerInstanceArn: instance.arn, ec2InstanceId: instance.ec2InstanceId })),
  }));
  ec2Mock.on(DescribeInstancesCommand).callsFake((input: { Filters: { Values: string[] }[] }) => ({
    Reservations: [
      {
        Instances: (input.Filters[0]?.Values ?? [])
          .filter((id) => fleet.instances.has(id))
          .map((id) => ({ InstanceId: id, PrivateIpAddress: fleet.instances.get(id)?.privateIp, InstanceType: 'm5.large' })),
      },
    ],
  }));
}

function createReader(options: { includeTags?: boolean } = {}) {
  return new EcsReader({
    ecs: new ECSClient({ region: 'eu-west-1' }),
    ec2: new EC2Client({ region: 'eu-west-1' }),
    region: 'eu-west-1',
    metrics: createMetrics(),
    ...options,
  });
}

const cluster = { name: 'prod', arn: clusterArn('prod') };
const bridgeDefinition = makeTaskDefinition('api', 3, 'bridge', [{ name: 'api', environment: { PROMETHEUS: 'true' } }]);
const fargateDefinition = makeTaskDefinition('worker', 1, 'awsvpc', [{ name: 'worker', environment: { PROMETHEUS: 'true' } }]);

/** A fleet with `count` Fargate tasks in cluster prod. */
function fargateFleet(count: number): FakeFleet {
  const fleet = emptyFleet();
  addDefinition(fleet, fargateDefinition);
  for (let index = 0; index < count; index++) {
    addTask(fleet, {
      cluster: 'prod',
      id: `t${index}`,
      definition: fargateDefinition,
      launchType: 'FARGATE',
      eniIp: `127.0.${Math.floor(index / 250)}.${(index % 250) + 1}`,
      containers: [{ name: 'worker' }],
    });
  }
  return fleet;
}

const describedTaskArns = () => ecsMock.commandCalls(DescribeTasksCommand).flatMap((call) => call.args[0].input.tasks ?? []);

beforeEach(() => {
  ecsMock.reset();
  ec2Mock.reset();
});
afterEach(() => {
  ecsMock.reset();
  ec2Mock.reset();
});

describe('EcsReader.listClusters', () => {
  it('returns the clusters of every page, with names taken from their ARNs', async () => {
    ecsMock
      .on(ListClustersCommand)
      .resolvesOnce({ clusterArns: [clusterArn('a')], nextToken: 'page2' })
      .resolvesOnce({ clusterArns: [clusterArn('b')] });

    const clusters = await createReader().listClusters();

    expect(clusters).toEqual([
      { name: 'a', arn: clusterArn('a') },
      { name: 'b', arn: clusterArn('b') },
    ]);
    expect(ecsMock.commandCalls(ListClustersCommand)[1]?.args[0].input.nextToken).toBe('page2');
  });

  it('throws an AwsError naming ListClusters when the call fails', async () => {
    ecsMock.on(ListClustersCommand).rejects(new ServerException({ message: 'boom', $metadata: {} }));

    const listing = createReader().listClusters();

    await expect(listing).rejects.toBeInstanceOf(AwsError);
    await expect(listing).rejects.toThrow('ListClusters failed: ServerException: boom');
  });
});

describe('EcsReader.readCluster', () => {
  it('lists every page of RUNNING tasks and describes them in batches of at most 100', async () => {
    answerFrom(fargateFleet(250));

    const reading = await createReader().readCluster(cluster);

    expect(reading.tasks).toHaveLength(250);
    const listCalls = ecsMock.commandCalls(ListTasksCommand);
    expect(listCalls).toHaveLength(3);
    expect(listCalls.every((call) => call.args[0].input.desiredStatus === 'RUNNING')).toBe(true);
    const batches = ecsMock.commandCalls(DescribeTasksCommand).map((call) => call.args[0].input.tasks?.length);
    expect(batches).toEqual([100, 100, 50]);
    expect(new Set(describedTaskArns()).size).toBe(250);
  });

  it('makes only the list calls when the cluster has not changed', async () => {
    answerFrom(fargateFleet(150));
    const reader = createReader();
    await reader.readCluster(cluster);
    ecsMock.resetHistory();
    ec2Mock.resetHistory();

    const reading = await reader.readCluster(cluster);

    expect(reading.tasks).toHaveLength(150);
    expect(ecsMock.calls().map((call) => call.args[0].constructor.name)).toEqual(['ListTasksCommand', 'ListTasksCommand']);
    expect(ec2Mock.calls()).toHaveLength(0);
  });

  it('describes only the new tasks after a deploy', async () => {
    const fleet = fargateFleet(120);
    answerFrom(fleet);
    const reader = createReader();
    await reader.readCluster(cluster);
    const prod = fleet.clusters[0];
    const replaced = prod?.tasks.splice(0, 10) ?? [];
    const added: Task[] = [];
    for (let index = 0; index < 10; index++) {
      added.push(
        addTask(fleet, {
          cluster: 'prod',
          id: `new${index}`,
          definition: fargateDefinition,
          launchType: 'FARGATE',
          eniIp: `127.1.0.${index + 1}`,
          containers: [{ name: 'worker' }],
        }),
      );
    }
    ecsMock.resetHistory();

    const reading = await reader.readCluster(cluster);

    expect(describedTaskArns().sort()).toEqual(added.map((task) => task.taskArn).sort());
    expect(reading.tasks.map((context) => context.task.arn)).not.toContain(replaced[0]?.taskArn);
    expect(ecsMock.commandCalls(DescribeTaskDefinitionCommand)).toHaveLength(0);
  });

  it('describes a PENDING task again on the next read, and not once it is RUNNING', async () => {
    const fleet = emptyFleet();
    addDefinition(fleet, fargateDefinition);
    const pending = addTask(fleet, {
      cluster: 'prod',
      id: 'p1',
      definition: fargateDefinition,
      launchType: 'FARGATE',
      lastStatus: 'PENDING',
      eniIp: '127.0.0.9',
      containers: [{ name: 'worker' }],
    });
    answerFrom(fleet);
    const reader = createReader();

    const first = await reader.readCluster(cluster);
    pending.lastStatus = 'RUNNING';
    const second = await reader.readCluster(cluster);
    const third = await reader.readCluster(cluster);

    expect(first).toMatchObject({ tasks: [], pendingTasks: 1 });
    expect(second.tasks.map((context) => context.task.arn)).toEqual([pending.taskArn]);
    expect(third.tasks).toHaveLength(1);
    expect(describedTaskArns()).toEqual([pending.taskArn, pending.taskArn]);
  });

  it('reads a task once when pages repeat its ARN', async () => {
    const fleet = fargateFleet(2);
    answerFrom(fleet);
    const [first, second] = fleet.clusters[0]?.tasks.map((task) => task.taskArn as string) ?? [];
    ecsMock
      .on(ListTasksCommand)
      .resolvesOnce({ taskArns: [first as string, second as string], nextToken: 'next' })
      .resolvesOnce({ taskArns: [second as string] });

    const reading = await createReader().readCluster(cluster);

    expect(reading.tasks).toHaveLength(2);
    expect(describedTaskArns()).toEqual([first, second]);
  });

  it('asks for a task definition once when two clusters use it at the same time', async () => {
    const fleet = fargateFleet(3);
    for (let index = 0; index < 3; index++) {
      addTask(fleet, {
        cluster: 'staging',
        id: `s${index}`,
        definition: fargateDefinition,
        launchType: 'FARGATE',
        eniIp: `127.2.0.${index + 1}`,
        containers: [{ name: 'worker' }],
      });
    }
    answerFrom(fleet);
    const reader = createReader();

    const readings = await Promise.all([
      reader.readCluster(cluster),
      reader.readCluster({ name: 'staging', arn: clusterArn('staging') }),
    ]);

    expect(readings.map((reading) => reading.tasks.length)).toEqual([3, 3]);
    expect(ecsMock.commandCalls(DescribeTaskDefinitionCommand)).toHaveLength(1);
    expect(readings[1]?.tasks[0]?.definition?.family).toBe('worker');
  });

  it('leaves the definition out, without failing, when ECS cannot describe it, and does not ask again soon', async () => {
    const fleet = fargateFleet(1);
    fleet.taskDefinitions.clear();
    answerFrom(fleet);
    const reader = createReader();

    const reading = await reader.readCluster(cluster);
    await reader.readCluster(cluster);

    expect(reading.tasks).toHaveLength(1);
    expect(reading.tasks[0]?.definition).toBeUndefined();
    expect(ecsMock.commandCalls(DescribeTaskDefinitionCommand)).toHaveLength(1);
  });

  it('finds the EC2 host of bridge tasks through the container instance, and caches both look-ups', async () => {
    const fleet = emptyFleet();
    addDefinition(fleet, bridgeDefinition);
    const host = addHost(fleet, 'prod', 'i-0123456789abcdef0', '127.0.5.1', 'c6g.large');
    addTask(fleet, { cluster: 'prod', id: 'b1', definition: bridgeDefinition, containerInstanceArn: host, containers: [{ name: 'api' }] });
    addTask(fleet, { cluster: 'prod', id: 'b2', definition: bridgeDefinition, containerInstanceArn: host, containers: [{ name: 'api' }] });
    answerFrom(fleet);
    const reader = createReader();

    const reading = await reader.readCluster(cluster);
    await reader.readCluster({ ...cluster });

    expect(reading.tasks.map((context) => context.host)).toEqual([
      { containerInstanceArn: host, instanceId: 'i-0123456789abcdef0', privateIp: '127.0.5.1', instanceType: 'm5.large' },
      { containerInstanceArn: host, instanceId: 'i-0123456789abcdef0', privateIp: '127.0.5.1', instanceType: 'm5.large' },
    ]);
    expect(ecsMock.commandCalls(DescribeContainerInstancesCommand)).toHaveLength(1);
    const describeInstances = ec2Mock.commandCalls(DescribeInstancesCommand);
    expect(describeInstances).toHaveLength(1);
    expect(describeInstances[0]?.args[0].input).toEqual({ Filters: [{ Name: 'instance-id', Values: ['i-0123456789abcdef0'] }] });
  });

  it('reports a host without an IP, instead of failing, when its EC2 instance has gone, and does not ask again soon', async () => {
    const fleet = emptyFleet();
    addDefinition(fleet, bridgeDefinition);
    const host = addHost(fleet, 'prod', 'i-0gone', '127.0.5.1');
    fleet.instances.delete('i-0gone');
    addTask(fleet, { cluster: 'prod', id: 'b1', definition: bridgeDefinition, containerInstanceArn: host, containers: [{ name: 'api' }] });
    answerFrom(fleet);
    const reader = createReader();

    const reading = await reader.readCluster(cluster);
    const later = await reader.readCluster(cluster);

    expect(reading.tasks[0]?.host).toEqual({ containerInstanceArn: host, instanceId: 'i-0gone' });
    expect(later.tasks[0]?.host).toEqual({ containerInstanceArn: host, instanceId: 'i-0gone' });
    expect(ec2Mock.commandCalls(DescribeInstancesCommand)).toHaveLength(1);
  });

  it('reports a host without an instance id when its container instance has gone', async () => {
    const fleet = emptyFleet();
    addDefinition(fleet, bridgeDefinition);
    const host = addHost(fleet, 'prod', 'i-0abc', '127.0.5.1');
    fleet.clusters[0]!.containerInstances.length = 0;
    addTask(fleet, { cluster: 'prod', id: 'b1', definition: bridgeDefinition, containerInstanceArn: host, containers: [{ name: 'api' }] });
    answerFrom(fleet);

    const reading = await createReader().readCluster(cluster);

    expect(reading.tasks[0]?.host).toEqual({ containerInstanceArn: host, instanceId: undefined });
    expect(ec2Mock.commandCalls(DescribeInstancesCommand)).toHaveLength(0);
  });

  it('asks DescribeTasks for tags only when told to', async () => {
    answerFrom(fargateFleet(1));

    await createReader().readCluster(cluster);
    await createReader({ includeTags: true }).readCluster(cluster);

    const includes = ecsMock.commandCalls(DescribeTasksCommand).map((call) => call.args[0].input.include);
    expect(includes).toEqual([undefined, ['TAGS']]);
  });

  it('forgets a task that is no longer listed, so that it is described again if it comes back', async () => {
    const fleet = fargateFleet(2);
    answerFrom(fleet);
    const reader = createReader();
    await reader.readCluster(cluster);
    const prod = fleet.clusters[0];
    const removed = prod?.tasks.pop() as Task;
    await reader.readCluster(cluster);
    prod?.tasks.push(removed);
    ecsMock.resetHistory();

    await reader.readCluster(cluster);

    expect(describedTaskArns()).toEqual([removed.taskArn]);
  });

  it('returns no tasks when the cluster was deleted after it was listed', async () => {
    answerFrom(emptyFleet());

    const reading = await createReader().readCluster(cluster);

    expect(reading).toEqual({ cluster, tasks: [], pendingTasks: 0 });
  });

  it('throws an AwsError naming the describe call that failed', async () => {
    answerFrom(fargateFleet(3));
    ecsMock.on(DescribeTasksCommand).rejects(new ServerException({ message: 'internal', $metadata: {} }));

    const reading = createReader().readCluster(cluster);

    await expect(reading).rejects.toThrow('DescribeTasks failed: ServerException: internal');
  });

  it('fails the read, not only the task, when describing a task definition fails for a transient reason', async () => {
    answerFrom(fargateFleet(1));
    ecsMock.on(DescribeTaskDefinitionCommand).rejects(new ServerException({ message: 'internal', $metadata: {} }));

    const reading = createReader().readCluster(cluster);

    await expect(reading).rejects.toThrow('DescribeTaskDefinition failed');
  });

  it('carries task, definition and cluster into each task context', async () => {
    answerFrom(fargateFleet(1));

    const reading = await createReader().readCluster(cluster);

    expect(reading.tasks[0]).toMatchObject({
      region: 'eu-west-1',
      cluster,
      task: { arn: taskArn('prod', 't0'), eniPrivateIp: '127.0.0.1', launchType: 'FARGATE' },
      definition: { arn: taskDefinitionArn('worker', 1), family: 'worker', revision: 1, networkMode: 'awsvpc' },
      host: undefined,
    });
  });
});
