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
import { DescribeInstanceInformationCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EcsReader, type EcsReaderOptions } from '../../../src/aws/ecsReader.js';
import { callTurnOf } from '../../../src/callOptions.js';
import { toTaskRecord } from '../../../src/discovery/model.js';
import { TaskVersions } from '../../../src/discovery/taskEvents.js';
import { AwsError, MalformedAnswerError } from '../../../src/errors.js';
import { createMetrics } from '../../../src/metrics.js';
import type { FakeFleet } from '../../../src/fake/fakeAws.js';
import {
  addDefinition,
  addHost,
  addManagedHost,
  addTask,
  clusterArn,
  emptyFleet,
  makeTask,
  makeTaskDefinition,
  taskArn,
  taskDefinitionArn,
} from '../../../src/fake/fleet.js';

const ecsMock = mockClient(ECSClient);
const ec2Mock = mockClient(EC2Client);
const ssmMock = mockClient(SSMClient);

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
  ssmMock.on(DescribeInstanceInformationCommand).callsFake((input: { Filters: { Key: string; Values: string[] }[]; NextToken?: string }) => {
    const ids = (input.Filters[0]?.Values ?? []).filter((id) => fleet.managedInstances.has(id));
    const start = Number(input.NextToken ?? 0);
    const next = start + 50 < ids.length ? String(start + 50) : undefined;
    return {
      InstanceInformationList: ids.slice(start, start + 50).map((id) => ({ InstanceId: id, IPAddress: fleet.managedInstances.get(id)?.ip })),
      NextToken: next,
    };
  });
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

/** A reader on the mocked clients; the task refresh is off unless a test turns it on. */
function createReader(options: Partial<EcsReaderOptions> = {}) {
  return new EcsReader({
    ecs: new ECSClient({ region: 'eu-west-1' }),
    ec2: async () => new EC2Client({ region: 'eu-west-1' }),
    ssm: async () => new SSMClient({ region: 'eu-west-1' }),
    region: 'eu-west-1',
    metrics: createMetrics(),
    taskRefreshMs: 0,
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

/** A fleet with `count` bridge tasks in cluster prod, all on one EC2 host (127.0.5.1); and that host. */
function bridgeFleet(count: number): { fleet: FakeFleet; host: string } {
  const fleet = emptyFleet();
  addDefinition(fleet, bridgeDefinition);
  const host = addHost(fleet, 'prod', 'i-0123456789abcdef0', '127.0.5.1', 'c6g.large');
  for (let index = 0; index < count; index++) {
    addTask(fleet, { cluster: 'prod', id: `b${index}`, definition: bridgeDefinition, containerInstanceArn: host, containers: [{ name: 'api' }] });
  }
  return { fleet, host };
}

const describedTaskArns = () => ecsMock.commandCalls(DescribeTasksCommand).flatMap((call) => call.args[0].input.tasks ?? []);

/** Reads cluster prod `readings` times, calling `advance` (the test's clock) before each: the tasks each described, and the last reading. */
async function describedPerReading(reader: EcsReader, readings: number, advance: () => void) {
  const perReading: number[] = [];
  let last;
  for (let reading = 0; reading < readings; reading++) {
    advance();
    const before = describedTaskArns().length;
    last = await reader.readCluster(cluster);
    perReading.push(describedTaskArns().length - before);
  }
  return { perReading, last };
}

beforeEach(() => {
  ecsMock.reset();
  ec2Mock.reset();
  ssmMock.reset();
});
afterEach(() => {
  ecsMock.reset();
  ec2Mock.reset();
  ssmMock.reset();
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

  it('keeps the SDK error as the cause of its AwsError, and its reason in the one line', async () => {
    const denied = Object.assign(new Error('User is not authorized to perform: ecs:ListClusters'), { name: 'AccessDeniedException', $metadata: {} });
    ecsMock.on(ListClustersCommand).rejects(denied);

    const error: unknown = await createReader().listClusters().catch((thrown: unknown) => thrown);

    expect(error).toBeInstanceOf(AwsError);
    expect((error as AwsError).cause).toBe(denied);
    expect((error as AwsError).message).toBe('ListClusters failed: AccessDeniedException: User is not authorized to perform: ecs:ListClusters');
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
    const { fleet, host } = bridgeFleet(2);
    answerFrom(fleet);
    const reader = createReader();

    const reading = await reader.readCluster(cluster);
    await reader.readCluster({ ...cluster });

    expect(reading.tasks.map((context) => context.host)).toEqual([
      { containerInstanceArn: host, instanceId: 'i-0123456789abcdef0', found: true, privateIp: '127.0.5.1', instanceType: 'm5.large' },
      { containerInstanceArn: host, instanceId: 'i-0123456789abcdef0', found: true, privateIp: '127.0.5.1', instanceType: 'm5.large' },
    ]);
    expect(ecsMock.commandCalls(DescribeContainerInstancesCommand)).toHaveLength(1);
    const describeInstances = ec2Mock.commandCalls(DescribeInstancesCommand);
    expect(describeInstances).toHaveLength(1);
    expect(describeInstances[0]?.args[0].input).toEqual({ Filters: [{ Name: 'instance-id', Values: ['i-0123456789abcdef0'] }] });
  });

  it('marks every call of a reading with its turn, the calls other clusters may share included', async () => {
    answerFrom(bridgeFleet(150).fleet);
    const reader = createReader();

    await reader.readCluster(cluster, undefined, undefined, { priority: 2, together: true });

    const turns = [...ecsMock.calls(), ...ec2Mock.calls()].map((call) => {
      const command = call.args[0] as { constructor: { name: string }; input: unknown };
      const { priority, together } = callTurnOf(command.input);
      return `${command.constructor.name} ${priority} ${together}`;
    });
    expect(new Set(turns)).toEqual(
      new Set(
        ['ListTasksCommand', 'DescribeTasksCommand', 'DescribeTaskDefinitionCommand', 'DescribeContainerInstancesCommand', 'DescribeInstancesCommand'].map(
          (name) => `${name} 2 true`,
        ),
      ),
    );
    expect(turns.filter((call) => call.startsWith('ListTasks'))).toHaveLength(2);
  });

  it('looks up a host once for all the ListTasks pages of its tasks: one DescribeContainerInstances, one DescribeInstances', async () => {
    const { fleet, host } = bridgeFleet(250);
    answerFrom(fleet);
    const reader = createReader();

    const reading = await reader.readCluster(cluster);

    expect(ecsMock.commandCalls(ListTasksCommand)).toHaveLength(3);
    expect(reading.tasks).toHaveLength(250);
    expect(reading.tasks.every((context) => context.host?.privateIp === '127.0.5.1')).toBe(true);
    expect(ecsMock.commandCalls(DescribeContainerInstancesCommand)).toHaveLength(1);
    expect(ecsMock.commandCalls(DescribeContainerInstancesCommand)[0]?.args[0].input.containerInstances).toEqual([host]);
    expect(ec2Mock.commandCalls(DescribeInstancesCommand)).toHaveLength(1);
  });

  it('reports a host as not found, instead of failing, when its EC2 instance has gone, and does not ask again soon', async () => {
    const fleet = emptyFleet();
    addDefinition(fleet, bridgeDefinition);
    const host = addHost(fleet, 'prod', 'i-0gone', '127.0.5.1');
    fleet.instances.delete('i-0gone');
    addTask(fleet, { cluster: 'prod', id: 'b1', definition: bridgeDefinition, containerInstanceArn: host, containers: [{ name: 'api' }] });
    answerFrom(fleet);
    const reader = createReader();

    const reading = await reader.readCluster(cluster);
    const later = await reader.readCluster(cluster);

    expect(reading.tasks[0]?.host).toEqual({ containerInstanceArn: host, instanceId: 'i-0gone', found: false });
    expect(later.tasks[0]?.host).toEqual({ containerInstanceArn: host, instanceId: 'i-0gone', found: false });
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


  it('keeps its cached tasks through a first empty cluster list, which may be wrong, and forgets them at a second', async () => {
    answerFrom(fargateFleet(3));
    const reader = createReader();
    await reader.readCluster(cluster);
    ecsMock.on(ListClustersCommand).resolves({ clusterArns: [] });

    await reader.listClusters();
    const afterFirst = reader.cacheSizes()['tasks'];
    await reader.listClusters();

    expect(afterFirst).toBe(3);
    expect(reader.cacheSizes()['tasks']).toBe(0);
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

describe('EcsReader: odd answers', () => {
  /** A bridge task on an EC2 host, so that every describe call of a reading is made. */
  function bridgeFleet(): FakeFleet {
    const fleet = emptyFleet();
    addDefinition(fleet, bridgeDefinition);
    const host = addHost(fleet, 'prod', 'i-0123456789abcdef0', '127.0.5.1');
    addTask(fleet, {
      cluster: 'prod',
      id: 'b1',
      definition: bridgeDefinition,
      containerInstanceArn: host,
      containers: [{ name: 'api', bindings: [{ containerPort: 8080, hostPort: 32768 }] }],
    });
    return fleet;
  }

  it('fails the listing, instead of listing no cluster, when ListClusters answers no list (JSON null)', async () => {
    // The SDK drops a member that is JSON null: {"clusterArns": null} arrives as {}.
    ecsMock.on(ListClustersCommand).resolves({});

    const listing = createReader().listClusters();

    await expect(listing).rejects.toBeInstanceOf(MalformedAnswerError);
    await expect(listing).rejects.toThrow('ListClusters answered no clusterArns (null or missing; expected a list)');
  });

  it('fails the read, instead of reading no task, when ListTasks answers no list (JSON null)', async () => {
    answerFrom(bridgeFleet());
    ecsMock.on(ListTasksCommand).resolves({});

    await expect(createReader().readCluster(cluster)).rejects.toThrow('ListTasks answered no taskArns (null or missing; expected a list)');
  });

  it('fails the read when ListTasks answers ClusterNotFoundException for a cluster that ListClusters listed', async () => {
    answerFrom(emptyFleet());

    await expect(createReader().readCluster(cluster)).rejects.toThrow(
      'ListTasks answered ClusterNotFoundException for a cluster that ListClusters listed: Cluster not found.',
    );
  });

  it('keeps the SDK error as the cause when a cluster that ListClusters listed is not found, with its reason in the one line', async () => {
    const notFound = new ClusterNotFoundException({ message: 'Cluster not found.', $metadata: {} });
    answerFrom(bridgeFleet());
    ecsMock.on(ListTasksCommand).rejects(notFound);

    const error: unknown = await createReader().readCluster(cluster).catch((thrown: unknown) => thrown);

    expect(error).toBeInstanceOf(AwsError);
    expect((error as AwsError).cause).toBe(notFound);
    expect((error as AwsError).message).toBe('ListTasks answered ClusterNotFoundException for a cluster that ListClusters listed: Cluster not found.');
  });

  it('fails the read when DescribeTasks answers ClusterNotFoundException', async () => {
    answerFrom(bridgeFleet());
    ecsMock.on(DescribeTasksCommand).rejects(new ClusterNotFoundException({ message: 'Cluster not found.', $metadata: {} }));

    await expect(createReader().readCluster(cluster)).rejects.toThrow(
      'DescribeTasks answered ClusterNotFoundException for a cluster that ListClusters listed',
    );
  });

  it('fails the read, caches nothing and describes the task again, when DescribeTasks answers a lastStatus of the wrong type', async () => {
    const fleet = bridgeFleet();
    answerFrom(fleet);
    const good = fleet.clusters[0]?.tasks[0] as Task;
    ecsMock.on(DescribeTasksCommand).resolvesOnce({ tasks: [{ ...good, lastStatus: 42 as unknown as string }] });
    const reader = createReader();

    const odd = reader.readCluster(cluster);
    await expect(odd).rejects.toThrow('DescribeTasks answered a task whose lastStatus is 42 (expected a string)');
    answerFrom(fleet);
    const next = await reader.readCluster(cluster);

    expect(next.tasks.map((context) => context.task.arn)).toEqual([good.taskArn]);
    expect(describedTaskArns()).toEqual([good.taskArn, good.taskArn]);
  });

  it('fails the read when DescribeTasks answers no tasks list, or a task without a text ARN', async () => {
    answerFrom(bridgeFleet());
    ecsMock.on(DescribeTasksCommand).resolvesOnce({ failures: [] }).resolvesOnce({ tasks: [{ taskArn: 5 as unknown as string }] });
    const reader = createReader();

    await expect(reader.readCluster(cluster)).rejects.toThrow('DescribeTasks answered no tasks');
    await expect(reader.readCluster(cluster)).rejects.toThrow('DescribeTasks answered a task whose taskArn is 5');
  });

  it('fails the read, and asks again next time, when a task definition has no container definitions or odd environment entries', async () => {
    const fleet = bridgeFleet();
    answerFrom(fleet);
    const { containerDefinitions, ...withoutContainers } = bridgeDefinition;
    const oddEnvironment = {
      ...bridgeDefinition,
      containerDefinitions: containerDefinitions?.map((container) => ({ ...container, environment: [{ name: 'PROMETHEUS', value: true as unknown as string }] })),
    };
    ecsMock.on(DescribeTaskDefinitionCommand).resolvesOnce({ taskDefinition: withoutContainers }).resolvesOnce({ taskDefinition: oddEnvironment });
    const reader = createReader();

    await expect(reader.readCluster(cluster)).rejects.toThrow('DescribeTaskDefinition answered a task definition without containerDefinitions');
    await expect(reader.readCluster(cluster)).rejects.toThrow('DescribeTaskDefinition answered an environment entry whose value is true');
    answerFrom(fleet);
    const next = await reader.readCluster(cluster);

    expect(next.tasks[0]?.definition?.containers[0]?.environment).toEqual({ PROMETHEUS: 'true' });
    expect(ecsMock.commandCalls(DescribeTaskDefinitionCommand)).toHaveLength(3);
  });

  it('fails the read, instead of taking every host for gone, when DescribeContainerInstances answers no list, and asks again', async () => {
    const fleet = bridgeFleet();
    answerFrom(fleet);
    ecsMock.on(DescribeContainerInstancesCommand).resolvesOnce({});
    const reader = createReader();

    await expect(reader.readCluster(cluster)).rejects.toThrow('DescribeContainerInstances answered no containerInstances');
    answerFrom(fleet);
    const next = await reader.readCluster(cluster);

    expect(next.tasks[0]?.host).toMatchObject({ instanceId: 'i-0123456789abcdef0', found: true, privateIp: '127.0.5.1' });
    expect(ecsMock.commandCalls(DescribeContainerInstancesCommand)).toHaveLength(2);
  });

  it('fails the read when EC2 answers an instance without its id', async () => {
    const fleet = bridgeFleet();
    answerFrom(fleet);
    ec2Mock.on(DescribeInstancesCommand).resolvesOnce({ Reservations: [{ Instances: [{ PrivateIpAddress: '127.0.5.1' }] }] });
    const reader = createReader();

    await expect(reader.readCluster(cluster)).rejects.toThrow('DescribeInstances answered an instance without InstanceId');
    answerFrom(fleet);
    expect((await reader.readCluster(cluster)).tasks[0]?.host?.found).toBe(true);
  });

  it('ends a ListTasks listing whose next-page token never changes as a failure', async () => {
    answerFrom(bridgeFleet());
    ecsMock.on(ListTasksCommand).resolves({ taskArns: [], nextToken: 'same' });

    await expect(createReader().readCluster(cluster)).rejects.toThrow('ListTasks answered a next-page token it had answered before, on page 2');
    expect(ecsMock.commandCalls(ListTasksCommand)).toHaveLength(2);
  });

  it('ends a ListClusters listing with a new token on every page after 1,000 pages, as a failure', async () => {
    let page = 0;
    ecsMock.on(ListClustersCommand).callsFake(() => ({ clusterArns: [], nextToken: `t${(page += 1)}` }));

    await expect(createReader().listClusters()).rejects.toThrow('ListClusters answered another next-page token after 1000 pages');
    expect(ecsMock.commandCalls(ListClustersCommand)).toHaveLength(1000);
  });

  it('ends endless DescribeInstances and DescribeInstanceInformation listings', async () => {
    const fleet = bridgeFleet();
    answerFrom(fleet);
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [], NextToken: 'same' });
    await expect(createReader().readCluster(cluster)).rejects.toThrow('DescribeInstances answered a next-page token it had answered before');

    const managed = emptyFleet();
    addDefinition(managed, bridgeDefinition);
    const host = addManagedHost(managed, 'prod', 'mi-0123456789abcdef0', '10.9.0.1');
    addTask(managed, { cluster: 'prod', id: 'm1', definition: bridgeDefinition, launchType: 'EXTERNAL', containerInstanceArn: host, containers: [{ name: 'api' }] });
    answerFrom(managed);
    ssmMock.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [], NextToken: 'same' });
    const reading = await createReader().readCluster(cluster);
    expect(reading.tasks[0]?.host?.unavailable).toContain('DescribeInstanceInformation answered a next-page token it had answered before');
  });

  it('keeps the bindings of a RUNNING task when a refresh answers it without them, so its targets stay', async () => {
    const fleet = bridgeFleet();
    answerFrom(fleet);
    const task = fleet.clusters[0]?.tasks[0] as Task;
    // Every cached task is due at every read.
    let now = 1_000_000;
    const reader = createReader({ taskRefreshMs: 1000, intervalMs: 1000, now: () => now });
    await reader.readCluster(cluster);
    now += 2000;
    ecsMock.on(DescribeTasksCommand).resolves({
      tasks: [{ ...task, healthStatus: 'UNHEALTHY', containers: task.containers?.map((container) => ({ ...container, networkBindings: [] })) }],
    });

    const reading = await reader.readCluster(cluster);

    expect(describedTaskArns()).toEqual([task.taskArn, task.taskArn]);
    expect(reading.tasks[0]?.task.healthStatus).toBe('UNHEALTHY');
    expect(reading.tasks[0]?.task.containers[0]?.bindings).toMatchObject([{ containerPort: 8080, hostPort: 32768 }]);
  });

  it('keeps tolerating ports given as decimal strings', async () => {
    const fleet = bridgeFleet();
    answerFrom(fleet);
    const task = fleet.clusters[0]?.tasks[0] as Task;
    const bindings = [{ containerPort: '8080', hostPort: '32768' }] as unknown as NonNullable<Task['containers']>[number]['networkBindings'];
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [{ ...task, containers: task.containers?.map((container) => ({ ...container, networkBindings: bindings })) }] });

    const reading = await createReader().readCluster(cluster);

    expect(reading.tasks[0]?.task.containers[0]?.bindings[0]).toMatchObject({ containerPort: '8080', hostPort: '32768' });
  });
});

describe('EcsReader: deadlines', () => {
  const abortError = () => Object.assign(new Error('Request aborted'), { name: 'AbortError' });

  it('stops waiting at its own deadline for a task definition that another cluster waits on too, which still gets it', async () => {
    const fleet = fargateFleet(1);
    addTask(fleet, { cluster: 'staging', id: 's1', definition: fargateDefinition, launchType: 'FARGATE', eniIp: '127.2.0.1', containers: [{ name: 'worker' }] });
    answerFrom(fleet);
    let answerDefinition = () => {};
    ecsMock.on(DescribeTaskDefinitionCommand).callsFake(
      () => new Promise((resolve) => (answerDefinition = () => resolve({ taskDefinition: fargateDefinition }))),
    );
    const reader = createReader();
    const round = new AbortController();
    const prodDeadline = new AbortController();
    const prod = reader.readCluster(cluster, AbortSignal.any([round.signal, prodDeadline.signal]), round.signal);
    await vi.waitFor(() => expect(ecsMock.commandCalls(DescribeTaskDefinitionCommand)).toHaveLength(1));
    const staging = reader.readCluster({ name: 'staging', arn: clusterArn('staging') }, round.signal, round.signal);

    prodDeadline.abort(new Error('still being read after 60 s (aws.clusterTimeout)'));
    await expect(prod).rejects.toMatchObject({ name: 'AbortError', message: 'still being read after 60 s (aws.clusterTimeout)' });
    answerDefinition();
    const reading = await staging;

    expect(reading.tasks[0]?.definition?.family).toBe('worker');
    expect(ecsMock.commandCalls(DescribeTaskDefinitionCommand)).toHaveLength(1);
  });

  it('keeps what it described before an abort, so that the next reading goes on from there', async () => {
    const fleet = fargateFleet(150);
    answerFrom(fleet);
    const deadline = new AbortController();
    const arns = fleet.clusters[0]?.tasks.map((task) => task.taskArn as string) ?? [];
    // The second page never comes: the SDK would end the call when the signal aborts.
    ecsMock.on(ListTasksCommand).callsFake((input: { nextToken?: string }) =>
      input.nextToken === undefined
        ? { taskArns: arns.slice(0, 100), nextToken: '100' }
        : new Promise((_resolve, reject) => deadline.signal.addEventListener('abort', () => reject(abortError()))),
    );
    const reader = createReader();
    const first = reader.readCluster(cluster, deadline.signal);
    await vi.waitFor(() => expect(reader.cacheSizes()['tasks']).toBe(100));

    deadline.abort(new Error('still being read after 60 s (aws.clusterTimeout)'));
    await expect(first).rejects.toMatchObject({ name: 'AbortError' });
    answerFrom(fleet);
    ecsMock.resetHistory();
    const next = await reader.readCluster(cluster);

    expect(next.tasks).toHaveLength(150);
    expect(describedTaskArns().sort()).toEqual(arns.slice(100).sort());
  });
});

describe('EcsReader: freshness', () => {
  it('describes again a task it was asked to, and the task gains the bindings ECS filled in meanwhile', async () => {
    // Prepare: a RUNNING bridge task whose bindings are not there yet
    const fleet = emptyFleet();
    addDefinition(fleet, bridgeDefinition);
    const host = addHost(fleet, 'prod', 'i-0a1', '127.0.5.1');
    const late = addTask(fleet, { cluster: 'prod', id: 'late', definition: bridgeDefinition, containerInstanceArn: host, containers: [{ name: 'api' }] });
    answerFrom(fleet);
    const reader = createReader();
    const first = await reader.readCluster(cluster);
    late.containers![0]!.networkBindings = [{ bindIP: '0.0.0.0', containerPort: 8080, hostPort: 32768, protocol: 'tcp' }];

    // Act
    reader.describeAgain(cluster, [late.taskArn!]);
    const second = await reader.readCluster(cluster);
    const third = await reader.readCluster(cluster);

    // Assess
    expect(first.tasks[0]?.task.containers[0]?.bindings).toEqual([]);
    expect(second.tasks[0]?.task.containers[0]?.bindings).toEqual([{ bindIP: '0.0.0.0', containerPort: 8080, hostPort: 32768 }]);
    expect(third.tasks[0]?.task).toBe(second.tasks[0]?.task);
    expect(describedTaskArns()).toEqual([late.taskArn, late.taskArn]);
  });

  it('describes every cached task again within taskRefresh, in one call once a call of them is owed', async () => {
    // Prepare: 8 tasks, a round every 15 s, a refresh every 60 s: 2 tasks owed a round, a call of all 8 every 4 rounds
    const fleet = fargateFleet(8);
    answerFrom(fleet);
    let now = 1_000_000;
    const reader = createReader({ taskRefreshMs: 60_000, intervalMs: 15_000, now: () => now });
    await reader.readCluster(cluster);
    fleet.clusters[0]!.tasks[5]!.healthStatus = 'UNHEALTHY';
    ecsMock.resetHistory();

    // Act
    const { perReading, last } = await describedPerReading(reader, 8, () => (now += 15_000));

    // Assess
    expect(perReading).toEqual([0, 0, 0, 8, 0, 0, 0, 8]);
    expect(ecsMock.commandCalls(DescribeTasksCommand)).toHaveLength(2);
    expect(last?.tasks.find((context) => context.task.arn === taskArn('prod', 't5'))?.task.healthStatus).toBe('UNHEALTHY');
  });

  it('refreshes a cluster of 250 tasks in calls of 100, every task within taskRefresh', async () => {
    // Prepare: 12.5 tasks owed a round at the defaults: a call of 100 every 8 rounds
    const fleet = fargateFleet(250);
    answerFrom(fleet);
    let now = 1_000_000;
    const reader = createReader({ taskRefreshMs: 300_000, intervalMs: 15_000, now: () => now });
    await reader.readCluster(cluster);
    ecsMock.resetHistory();

    // Act: 40 rounds, 600 s
    const lastDescribed = new Map<string, number>();
    const longestGap = new Map<string, number>();
    for (const task of fleet.clusters[0]!.tasks) lastDescribed.set(task.taskArn as string, now);
    for (let round = 0; round < 40; round++) {
      now += 15_000;
      const before = describedTaskArns().length;
      await reader.readCluster(cluster);
      for (const arn of describedTaskArns().slice(before)) {
        longestGap.set(arn, Math.max(longestGap.get(arn) ?? 0, now - (lastDescribed.get(arn) ?? 0)));
        lastDescribed.set(arn, now);
      }
    }

    // Assess: whole calls of 100, as many as 250 tasks every 300 s need, and no task left longer
    const calls = ecsMock.commandCalls(DescribeTasksCommand).map((call) => call.args[0].input.tasks?.length);
    expect(calls.every((size) => size === 100)).toBe(true);
    expect(calls.length).toBeGreaterThanOrEqual(5);
    expect(calls.length).toBeLessThanOrEqual(6);
    expect(Math.max(...longestGap.values(), ...[...lastDescribed.values()].map((at) => now - at))).toBeLessThanOrEqual(300_000 + 15_000);
  });

  it('spreads the refresh calls of clusters alike over the rounds: one call a cluster per taskRefresh', async () => {
    // Prepare: 10 clusters of 5 tasks; at the defaults each owes a quarter of a task a round
    const fleet = emptyFleet();
    addDefinition(fleet, fargateDefinition);
    const names = Array.from({ length: 10 }, (_, index) => `small${index}`);
    names.forEach((name, clusterIndex) => {
      for (let index = 0; index < 5; index++) {
        const eniIp = `127.0.${clusterIndex}.${index + 1}`;
        addTask(fleet, { cluster: name, id: `s${index}`, definition: fargateDefinition, launchType: 'FARGATE', eniIp, containers: [{ name: 'worker' }] });
      }
    });
    answerFrom(fleet);
    let now = 1_000_000;
    const reader = createReader({ taskRefreshMs: 300_000, intervalMs: 15_000, now: () => now });
    const clusters = await reader.listClusters();
    await Promise.all(clusters.map((each) => reader.readCluster(each)));
    ecsMock.resetHistory();

    // Act: one taskRefresh of rounds
    const callsPerRound: number[] = [];
    for (let round = 0; round < 20; round++) {
      now += 15_000;
      const before = ecsMock.commandCalls(DescribeTasksCommand).length;
      await Promise.all(clusters.map((each) => reader.readCluster(each)));
      callsPerRound.push(ecsMock.commandCalls(DescribeTasksCommand).length - before);
    }

    // Assess: ten calls in all (not one per cluster and round), each in a round of its own, each cluster's five tasks once
    expect(callsPerRound.reduce((sum, count) => sum + count, 0)).toBe(10);
    expect(Math.max(...callsPerRound)).toBe(1);
    const perCluster = ecsMock.commandCalls(DescribeTasksCommand).map((call) => [call.args[0].input.cluster, call.args[0].input.tasks?.length]);
    expect(new Set(perCluster.map(([arn]) => arn)).size).toBe(10);
    expect(perCluster.every(([, size]) => size === 5)).toBe(true);
  });

  it('keeps the record of a task that a refresh finds as it was, and takes the new one of a task that changed', async () => {
    // Prepare: 2 tasks, both described again in the next reading
    const fleet = fargateFleet(2);
    answerFrom(fleet);
    let now = 1_000_000;
    const reader = createReader({ taskRefreshMs: 15_000, intervalMs: 15_000, now: () => now });
    const first = await reader.readCluster(cluster);
    fleet.clusters[0]!.tasks[1]!.healthStatus = 'UNHEALTHY';
    ecsMock.resetHistory();

    // Act
    now += 15_000;
    const second = await reader.readCluster(cluster);

    // Assess: the unchanged task is the same object (what was resolved from it stands), the other a new one
    expect(describedTaskArns()).toHaveLength(2);
    const byArn = (reading: typeof first) => new Map(reading.tasks.map((context) => [context.task.arn, context.task]));
    const [unchanged, changed] = fleet.clusters[0]!.tasks.map((task) => task.taskArn as string);
    expect(byArn(second).get(unchanged!)).toBe(byArn(first).get(unchanged!));
    expect(byArn(second).get(changed!)).not.toBe(byArn(first).get(changed!));
    expect(byArn(second).get(changed!)?.healthStatus).toBe('UNHEALTHY');
  });

  it('describes at once every task older than taskRefresh, when rounds came late', async () => {
    const fleet = fargateFleet(8);
    answerFrom(fleet);
    let now = 1_000_000;
    const reader = createReader({ taskRefreshMs: 60_000, intervalMs: 15_000, now: () => now });
    await reader.readCluster(cluster);
    ecsMock.resetHistory();

    now += 61_000;
    await reader.readCluster(cluster);

    expect(new Set(describedTaskArns()).size).toBe(8);
    expect(ecsMock.commandCalls(DescribeTasksCommand)).toHaveLength(1);
  });

  it('lets refreshes ride in a describe call that goes out anyway for new tasks, stalest first', async () => {
    // Prepare: 150 cached tasks, then 3 new ones
    const fleet = fargateFleet(150);
    answerFrom(fleet);
    let now = 1_000_000;
    const reader = createReader({ taskRefreshMs: 300_000, intervalMs: 15_000, now: () => now });
    await reader.readCluster(cluster);
    const added = [0, 1, 2].map((index) =>
      addTask(fleet, { cluster: 'prod', id: `new${index}`, definition: fargateDefinition, launchType: 'FARGATE', eniIp: `127.1.0.${index + 1}`, containers: [{ name: 'worker' }] }),
    );
    ecsMock.resetHistory();

    // Act
    now += 15_000;
    await reader.readCluster(cluster);

    // Assess: one call: the 3 new tasks and the 97 stalest (the first 100 described, in order)
    const calls = ecsMock.commandCalls(DescribeTasksCommand).map((call) => call.args[0].input.tasks ?? []);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.slice(0, 3)).toEqual(added.map((task) => task.taskArn));
    expect(calls[0]?.slice(3)).toEqual(Array.from({ length: 97 }, (_, index) => taskArn('prod', `t${index}`)));
  });

  it('describes a churn spread over several ListTasks pages in one call per 100 new tasks', async () => {
    // Prepare: 300 cached tasks on 3 pages; 10 of them are replaced, spread over the pages
    const fleet = fargateFleet(300);
    answerFrom(fleet);
    const reader = createReader();
    await reader.readCluster(cluster);
    const prod = fleet.clusters[0]!;
    for (let index = 0; index < 10; index++) {
      prod.tasks[index * 30] = makeTaskIn('prod', `churn${index}`);
    }
    ecsMock.resetHistory();

    // Act
    await reader.readCluster(cluster);

    // Assess
    expect(ecsMock.commandCalls(ListTasksCommand)).toHaveLength(3);
    expect(ecsMock.commandCalls(DescribeTasksCommand).map((call) => call.args[0].input.tasks?.length)).toEqual([10]);
  });

  it('makes no refresh call at all with taskRefresh 0', async () => {
    answerFrom(fargateFleet(50));
    let now = 0;
    const reader = createReader({ taskRefreshMs: 0, now: () => now });
    await reader.readCluster(cluster);
    ecsMock.resetHistory();

    now += 3_600_000;
    await reader.readCluster(cluster);

    expect(ecsMock.commandCalls(DescribeTasksCommand)).toHaveLength(0);
  });
});

describe('EcsReader: ECS Anywhere', () => {
  function anywhereFleet(managedHosts: number) {
    const fleet = emptyFleet();
    addDefinition(fleet, bridgeDefinition);
    const ec2Host = addHost(fleet, 'prod', 'i-0e1', '127.0.5.1');
    addTask(fleet, { cluster: 'prod', id: 'ec2', definition: bridgeDefinition, containerInstanceArn: ec2Host, containers: [{ name: 'api' }] });
    for (let index = 0; index < managedHosts; index++) {
      const id = `mi-${index.toString(16).padStart(17, '0')}`;
      const host = addManagedHost(fleet, 'prod', id, `127.0.6.${index + 1}`);
      addTask(fleet, { cluster: 'prod', id: `edge${index}`, definition: bridgeDefinition, launchType: 'EXTERNAL', containerInstanceArn: host, containers: [{ name: 'api' }] });
    }
    return fleet;
  }

  it('never sends a mi- id to EC2, and asks SSM for it instead, in pages of at most 50', async () => {
    answerFrom(anywhereFleet(60));

    const reading = await createReader().readCluster(cluster);

    const ec2Ids = ec2Mock.commandCalls(DescribeInstancesCommand).flatMap((call) => call.args[0].input.Filters?.[0]?.Values ?? []);
    expect(ec2Ids).toEqual(['i-0e1']);
    const ssmCalls = ssmMock.commandCalls(DescribeInstanceInformationCommand).map((call) => call.args[0].input);
    expect(ssmCalls.map((input) => input.Filters?.[0]?.Values?.length)).toEqual([50, 10]);
    expect(ssmCalls.every((input) => input.Filters?.[0]?.Key === 'InstanceIds' && (input.MaxResults ?? 0) <= 50)).toBe(true);
    const edge = reading.tasks.find((context) => context.task.arn === taskArn('prod', 'edge7'));
    expect(edge?.host).toMatchObject({ instanceId: 'mi-00000000000000007', found: true, privateIp: '127.0.6.8' });
  });

  it('does not load SSM at all when no managed instance is seen', async () => {
    let made = 0;
    answerFrom(anywhereFleet(0));

    await createReader({ ssm: async () => ((made += 1), new SSMClient({ region: 'eu-west-1' })) }).readCluster(cluster);

    expect(made).toBe(0);
  });

  it('marks only the managed hosts unavailable when SSM is denied, keeps the cluster and asks again next time', async () => {
    answerFrom(anywhereFleet(2));
    ssmMock.on(DescribeInstanceInformationCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException', $metadata: {} }));
    const reader = createReader();

    const reading = await reader.readCluster(cluster);
    await reader.readCluster(cluster);

    const hosts = reading.tasks.map((context) => context.host);
    expect(hosts.find((host) => host?.instanceId === 'i-0e1')).toMatchObject({ found: true, privateIp: '127.0.5.1' });
    expect(hosts.filter((host) => host?.unavailable?.includes('AccessDeniedException: not authorized'))).toHaveLength(2);
    expect(ssmMock.commandCalls(DescribeInstanceInformationCommand)).toHaveLength(2);
  });
});

/** A new Fargate task of the worker definition, outside any fleet. */
function makeTaskIn(clusterName: string, id: string): Task {
  return makeTask({ cluster: clusterName, id, definition: fargateDefinition, launchType: 'FARGATE', eniIp: '127.3.0.1', containers: [{ name: 'worker' }] });
}

/** A task as a task state change event brings it: DescribeTasks' shape, no tags, no health status. */
function fromEvent(task: Task, version: number) {
  const record = toTaskRecord({ ...task, tags: undefined, healthStatus: undefined, version });
  if (record === undefined) throw new Error('fixture without ARN');
  return record;
}

describe('EcsReader with events', () => {
  it('takes a running task from an event without describing it, and reads from the caches what it needs', async () => {
    // Prepare
    const fleet = fargateFleet(3);
    answerFrom(fleet);
    const reader = createReader();
    await reader.readCluster(cluster);
    ecsMock.resetHistory();
    const started = addTask(fleet, { cluster: 'prod', id: 'e1', definition: fargateDefinition, launchType: 'FARGATE', eniIp: '127.3.0.1', containers: [{ name: 'worker' }] });

    // Act
    await reader.applyTaskStates(cluster, [fromEvent(started, 2)], []);
    const reading = await reader.readCached(cluster);

    // Assess
    expect(reading.tasks.map((context) => context.task.arn)).toContain(taskArn('prod', 'e1'));
    expect(reading.tasks.find((context) => context.task.arn === taskArn('prod', 'e1'))?.definition?.family).toBe('worker');
    expect(ecsMock.calls()).toHaveLength(0);
  });

  it('describes the task definition of a task an event brought, when it is new', async () => {
    const fleet = fargateFleet(1);
    answerFrom(fleet);
    const reader = createReader();
    await reader.readCluster(cluster);
    const fresh = addDefinition(fleet, makeTaskDefinition('worker', 2, 'awsvpc', [{ name: 'worker', environment: { PROMETHEUS: 'true' } }]));
    const started = addTask(fleet, { cluster: 'prod', id: 'e1', definition: fresh, launchType: 'FARGATE', eniIp: '127.3.0.1', containers: [{ name: 'worker' }] });
    ecsMock.resetHistory();

    await reader.applyTaskStates(cluster, [fromEvent(started, 2)], []);

    expect(ecsMock.commandCalls(DescribeTaskDefinitionCommand).map((call) => call.args[0].input.taskDefinition)).toEqual([fresh.taskDefinitionArn]);
    expect(ecsMock.commandCalls(DescribeTasksCommand)).toHaveLength(0);
  });

  it('rejects a reading from the caches once its signal has aborted, even when everything it needs is cached', async () => {
    answerFrom(fargateFleet(3));
    const reader = createReader();
    await reader.readCluster(cluster);
    const stopping = new AbortController();
    stopping.abort(new Error('stopping'));

    await expect(reader.readCached(cluster, stopping.signal)).rejects.toMatchObject({ name: 'AbortError', message: 'stopping' });
  });

  it('forgets a task an event says stopped', async () => {
    answerFrom(fargateFleet(3));
    const reader = createReader();
    await reader.readCluster(cluster);

    await reader.applyTaskStates(cluster, [], [taskArn('prod', 't1')]);
    const reading = await reader.readCached(cluster);

    expect(reading.tasks.map((context) => context.task.arn).sort()).toEqual([taskArn('prod', 't0'), taskArn('prod', 't2')]);
  });

  it('keeps the health status of the last describe, which events do not carry', async () => {
    const fleet = fargateFleet(1);
    fleet.clusters[0]!.tasks[0]!.healthStatus = 'UNHEALTHY';
    answerFrom(fleet);
    const reader = createReader();
    await reader.readCluster(cluster);

    await reader.applyTaskStates(cluster, [fromEvent(fleet.clusters[0]!.tasks[0]!, 9)], []);
    const [context] = (await reader.readCached(cluster)).tasks;

    expect(context?.task).toMatchObject({ healthStatus: 'UNHEALTHY', version: 9 });
  });

  it('describes a task never described when task tags are asked for, since events carry no tags', async () => {
    const fleet = fargateFleet(0);
    answerFrom(fleet);
    const started = addTask(fleet, { cluster: 'prod', id: 'e1', definition: fargateDefinition, launchType: 'FARGATE', eniIp: '127.3.0.1', containers: [{ name: 'worker' }], tags: { team: 'a' } });
    const reader = createReader({ includeTags: true });

    await reader.applyTaskStates(cluster, [fromEvent(started, 2)], []);
    const [context] = (await reader.readCached(cluster)).tasks;

    expect(describedTaskArns()).toEqual([taskArn('prod', 'e1')]);
    expect(context?.task.tags).toEqual({ team: 'a' });
  });

  it('rejects, so that the event comes again, when a task definition cannot be read', async () => {
    const fleet = fargateFleet(0);
    answerFrom(fleet);
    ecsMock.on(DescribeTaskDefinitionCommand).rejects(new ServerException({ message: 'boom', $metadata: {} }));
    const started = makeTaskIn('prod', 'e1');

    await expect(createReader().applyTaskStates(cluster, [fromEvent(started, 2)], [])).rejects.toThrow('DescribeTaskDefinition failed');
  });

  it('keeps in a reading the tasks that events brought while the cluster was listed, and still forgets the others not listed', async () => {
    // Prepare: an event comes while ListTasks answers, and the task is not in that listing yet.
    const fleet = fargateFleet(2);
    answerFrom(fleet);
    const reader = createReader();
    await reader.readCluster(cluster);
    fleet.clusters[0]!.tasks.splice(0, 1); // t0 stopped, and its event was lost
    const started = makeTaskIn('prod', 'e1');
    ecsMock.on(ListTasksCommand).callsFake(async () => {
      await reader.applyTaskStates(cluster, [fromEvent(started, 2)], []);
      return { taskArns: fleet.clusters[0]!.tasks.map((task) => task.taskArn as string) };
    });

    // Act
    const reading = await reader.readCluster(cluster);

    // Assess
    expect(reading.tasks.map((context) => context.task.arn).sort()).toEqual([taskArn('prod', 'e1'), taskArn('prod', 't1')]);
  });

  it('does not keep a described state older than one an event brought while the call was under way', async () => {
    // Prepare: the event (version 5) says stopped; DescribeTasks answers the version 4 it read before.
    const fleet = fargateFleet(1);
    const task = fleet.clusters[0]!.tasks[0]!;
    task.version = 4;
    answerFrom(fleet);
    const versions = new TaskVersions();
    const reader = createReader({ taskVersions: versions });
    ecsMock.on(DescribeTasksCommand).callsFake(async () => {
      await reader.applyTaskStates(cluster, [], [task.taskArn as string]);
      versions.note(task.taskArn as string, 5);
      return { tasks: [task] };
    });

    // Act
    const reading = await reader.readCluster(cluster);

    // Assess
    expect(reading.tasks).toEqual([]);
    expect((await reader.readCached(cluster)).tasks).toEqual([]);
  });

  it('notes the version of what it describes, so that an older event is no news', async () => {
    const fleet = fargateFleet(1);
    fleet.clusters[0]!.tasks[0]!.version = 6;
    answerFrom(fleet);
    const versions = new TaskVersions();

    await createReader({ taskVersions: versions }).readCluster(cluster);

    expect(versions.isStale(taskArn('prod', 't0'), 6)).toBe(true);
    expect(versions.isStale(taskArn('prod', 't0'), 7)).toBe(false);
  });

  it.each([
    ['a small refresh share', 3_600_000],
    ['the refresh off', 0],
  ])('describes at the next reading, with %s, a task an event brought and no describe has seen: its health status', async (_what, taskRefreshMs) => {
    // Prepare: 150 tasks, a refresh share of 1 task a round; the new task is the freshest of all.
    const fleet = fargateFleet(150);
    answerFrom(fleet);
    const reader = createReader({ taskRefreshMs, intervalMs: 15_000 });
    await reader.readCluster(cluster);
    const started = addTask(fleet, { cluster: 'prod', id: 'e1', definition: fargateDefinition, launchType: 'FARGATE', eniIp: '127.3.0.1', containers: [{ name: 'worker' }], healthStatus: 'UNHEALTHY' });
    await reader.applyTaskStates(cluster, [fromEvent(started, 2)], []);
    const before = (await reader.readCached(cluster)).tasks.find((context) => context.task.arn === started.taskArn);
    ecsMock.resetHistory();

    // Act
    const reading = await reader.readCluster(cluster);
    const twice = describedTaskArns().filter((arn) => arn === started.taskArn).length;
    await reader.readCluster(cluster);

    // Assess
    expect(before?.task.healthStatus).toBeUndefined();
    expect(reading.tasks.find((context) => context.task.arn === started.taskArn)?.task.healthStatus).toBe('UNHEALTHY');
    expect(twice).toBe(1);
    expect(describedTaskArns().filter((arn) => arn === started.taskArn)).toHaveLength(1);
  });

  it('needs no DescribeContainerInstances for a container instance an event told of', async () => {
    const fleet = emptyFleet();
    addDefinition(fleet, bridgeDefinition);
    const host = addHost(fleet, 'prod', 'i-0123456789abcdef0', '127.0.5.1');
    const started = addTask(fleet, { cluster: 'prod', id: 'b1', definition: bridgeDefinition, containerInstanceArn: host, containers: [{ name: 'api' }] });
    answerFrom(fleet);
    const reader = createReader();

    reader.learnContainerInstance(host, 'i-0123456789abcdef0');
    await reader.applyTaskStates(cluster, [fromEvent(started, 2)], []);
    const [context] = (await reader.readCached(cluster)).tasks;

    expect(context?.host).toMatchObject({ instanceId: 'i-0123456789abcdef0', privateIp: '127.0.5.1' });
    expect(ecsMock.commandCalls(DescribeContainerInstancesCommand)).toHaveLength(0);
  });

  it('asks for the interval each round when it is a function (the resync interval while events are heard)', async () => {
    // Prepare: 8 tasks, refresh every 60 s; a round after 60 s (events) owes them all.
    answerFrom(fargateFleet(8));
    let now = 1_000_000;
    let intervalMs = 60_000;
    const reader = createReader({ taskRefreshMs: 60_000, intervalMs: () => intervalMs, now: () => now });
    await reader.readCluster(cluster);
    ecsMock.resetHistory();

    // Act
    now += 1_000;
    await reader.readCluster(cluster);
    const withEvents = describedTaskArns().length;
    intervalMs = 15_000;
    const { perReading } = await describedPerReading(reader, 4, () => (now += 1_000));

    // Assess: at 15 s rounds, 2 tasks owed a round: the next call after 4 rounds
    expect(withEvents).toBe(8);
    expect(perReading).toEqual([0, 0, 0, 8]);
  });
});
