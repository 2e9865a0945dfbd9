import type { Task, TaskDefinition } from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import {
  clusterNameOf,
  isSameData,
  lastArnSegment,
  toTaskDefinitionRecord,
  toTaskRecord,
  withRuntimeDataOf,
  type TaskDefinitionRecord,
  type TaskRecord,
} from '../../../src/discovery/model.js';
import { PROD, PROD_HOST, readDescribeTaskDefinition, readDescribeTasks } from '../../fixtures/ecsFixtures.js';

const BRIDGE_TASK = 'arn:aws:ecs:eu-west-1:123456789012:task/prod/5f7a3c1e9b2d4e6f8a0b1c2d3e4f5a6b';
const FARGATE_TASK = 'arn:aws:ecs:eu-west-1:123456789012:task/prod/9c2e4a6b8d0f4e1a3c5b7d9f1e3a5c7b';
const AWSVPC_EC2_TASK = 'arn:aws:ecs:eu-west-1:123456789012:task/batch/b1d3f5a7c9e04b2d6f8a1c3e5b7d9f0a';

const firstTask = (kind: 'bridge' | 'host' | 'awsvpc-fargate' | 'awsvpc-ec2'): Task => {
  const task = readDescribeTasks(kind).tasks[0];
  if (task === undefined) throw new Error(`no task in fixture ${kind}`);
  return task;
};

describe('toTaskRecord', () => {
  it('keeps ECS version of the task when it is a whole number, and nothing else', () => {
    const task = firstTask('bridge');

    expect(toTaskRecord({ ...task, version: 12 })?.version).toBe(12);
    expect(toTaskRecord({ ...task, version: 1.5 })).not.toHaveProperty('version');
    expect(toTaskRecord({ ...task, version: '12' as unknown as number })).not.toHaveProperty('version');
    expect(toTaskRecord({ ...task, version: undefined })).not.toHaveProperty('version');
  });

  it('keeps what resolution reads of a bridge task, bindings in API order', () => {
    // Prepare
    const task = firstTask('bridge');

    // Act
    const record = toTaskRecord(task);

    // Assess
    const expected: TaskRecord = {
      arn: BRIDGE_TASK,
      taskDefinitionArn: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/web:7',
      lastStatus: 'RUNNING',
      launchType: 'EC2',
      availabilityZone: 'eu-west-1b',
      group: 'service:web',
      healthStatus: 'HEALTHY',
      containerInstanceArn: PROD_HOST.containerInstanceArn,
      eniPrivateIp: undefined,
      desiredStatus: 'RUNNING',
      startedBy: 'ecs-svc/4372618890123456789',
      tags: {},
      // ECS's version of the task's state: events are ordered by it.
      version: 3,
      containers: [
        {
          name: 'envoy',
          arn: `arn:aws:ecs:eu-west-1:123456789012:container/prod/5f7a3c1e9b2d4e6f8a0b1c2d3e4f5a6b/1d4c2e8b-3a5f-4b6c-9d7e-0f1a2b3c4d5e`,
          privateIp: undefined,
          bindings: [{ bindIP: '0.0.0.0', containerPort: 9901, hostPort: 32780 }],
        },
        {
          name: 'app',
          arn: `arn:aws:ecs:eu-west-1:123456789012:container/prod/5f7a3c1e9b2d4e6f8a0b1c2d3e4f5a6b/a3b9c1d7-2e4f-4a6b-8c0d-1e2f3a4b5c6d`,
          privateIp: undefined,
          bindings: [
            { bindIP: '::', containerPort: 8080, hostPort: 32769 },
            { bindIP: '0.0.0.0', containerPort: 8080, hostPort: 32768 },
          ],
        },
        {
          name: 'nginx',
          arn: `arn:aws:ecs:eu-west-1:123456789012:container/prod/5f7a3c1e9b2d4e6f8a0b1c2d3e4f5a6b/c7e1f3a5-6b8d-4c0e-a2f4-b6c8d0e2f4a6`,
          privateIp: undefined,
          bindings: [
            { bindIP: '::', containerPort: 80, hostPort: 32771 },
            { bindIP: '0.0.0.0', containerPort: 80, hostPort: 32770 },
            { bindIP: '::', containerPort: 9113, hostPort: 32773 },
            { bindIP: '0.0.0.0', containerPort: 9113, hostPort: 32772 },
          ],
        },
      ],
    };
    expect(record).toEqual(expected);
  });

  it('reads the ENI attachment IP, the containers network interface IP and the tags of a Fargate task', () => {
    // Prepare
    const task = firstTask('awsvpc-fargate');

    // Act
    const record = toTaskRecord(task);

    // Assess
    const expected: TaskRecord = {
      arn: FARGATE_TASK,
      taskDefinitionArn: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/api:3',
      lastStatus: 'RUNNING',
      launchType: 'FARGATE',
      availabilityZone: 'eu-west-1a',
      group: 'service:api',
      healthStatus: 'HEALTHY',
      containerInstanceArn: undefined,
      eniPrivateIp: '127.0.1.10',
      subnetId: 'subnet-0a1b2c3d4e5f67890',
      desiredStatus: 'RUNNING',
      platformFamily: 'Linux',
      platformVersion: '1.4.0',
      capacityProviderName: 'FARGATE',
      startedBy: 'ecs-svc/8816045532109876543',
      tags: { team: 'search', 'cost-center': 'cc-1042' },
      version: 4,
      containers: [
        {
          name: 'api',
          arn: `arn:aws:ecs:eu-west-1:123456789012:container/prod/9c2e4a6b8d0f4e1a3c5b7d9f1e3a5c7b/2b4d6f8a-0c1e-4a3b-9d5f-7e9a1c3b5d7f`,
          privateIp: '127.0.1.10',
          bindings: [],
        },
        {
          name: 'log_router',
          arn: `arn:aws:ecs:eu-west-1:123456789012:container/prod/9c2e4a6b8d0f4e1a3c5b7d9f1e3a5c7b/8f0a2c4e-6b8d-4f1a-b3c5-d7e9f1a3c5e7`,
          privateIp: '127.0.1.10',
          bindings: [],
        },
      ],
    };
    expect(record).toEqual(expected);
  });

  it('reads both the container instance and the ENI of an awsvpc task on EC2', () => {
    // Prepare
    const task = firstTask('awsvpc-ec2');

    // Act
    const record = toTaskRecord(task);

    // Assess
    expect(record).toMatchObject({
      arn: AWSVPC_EC2_TASK,
      containerInstanceArn:
        'arn:aws:ecs:eu-west-1:123456789012:container-instance/batch/3f5a7c9e1b2d4f6a8c0e2b4d6f8a0c1e',
      eniPrivateIp: '127.0.2.20',
      group: 'family:worker',
      containers: [{ name: 'worker', privateIp: '127.0.2.20', bindings: [] }],
    });
  });

  it('leaves the container IP unset when the container has no network interface', () => {
    // Prepare
    const task = structuredClone(firstTask('awsvpc-fargate'));
    for (const container of task.containers ?? []) delete container.networkInterfaces;

    // Act
    const record = toTaskRecord(task);

    // Assess
    expect(record?.containers.map((container) => container.privateIp)).toEqual([undefined, undefined]);
    expect(record?.eniPrivateIp).toBe('127.0.1.10');
  });

  it('skips ENI attachments without a privateIPv4Address detail', () => {
    // Prepare
    const task: Task = {
      taskArn: FARGATE_TASK,
      attachments: [
        { id: 'a1', type: 'ElasticNetworkInterface', status: 'PRECREATED', details: [{ name: 'subnetId', value: 's' }] },
        { id: 'a2', type: 'ElasticNetworkInterface', details: [{ name: 'privateIPv4Address', value: '127.0.3.30' }] },
      ],
    };

    // Act
    const record = toTaskRecord(task);

    // Assess
    expect(record?.eniPrivateIp).toBe('127.0.3.30');
  });

  it('returns undefined when the task has no ARN', () => {
    // Prepare
    const withoutArn = { ...firstTask('bridge'), taskArn: undefined };
    const withEmptyArn = { ...firstTask('bridge'), taskArn: '' };

    // Act
    const records = [toTaskRecord(withoutArn), toTaskRecord(withEmptyArn)];

    // Assess
    expect(records).toEqual([undefined, undefined]);
  });

  it('reads odd data defensively instead of throwing', () => {
    // Prepare
    const task = {
      taskArn: BRIDGE_TASK,
      lastStatus: 7,
      tags: [{ key: 'ok', value: 'yes' }, { key: 'no-value' }, null],
      containers: [null, 'text', { name: 5, networkBindings: [null, { containerPort: '8080', hostPort: 0 }] }],
    } as unknown as Task;

    // Act
    const record = toTaskRecord(task);

    // Assess
    expect(record).toEqual({
      arn: BRIDGE_TASK,
      tags: { ok: 'yes' },
      containers: [{ bindings: [{ containerPort: '8080', hostPort: 0 }] }],
    });
  });
});

describe('toTaskDefinitionRecord', () => {
  it('turns environment lists into records and keeps docker labels and port mappings of a bridge definition', () => {
    // Prepare
    const { taskDefinition } = readDescribeTaskDefinition('bridge');

    // Act
    const record = toTaskDefinitionRecord('arn:aws:ecs:eu-west-1:123456789012:task-definition/web:7', taskDefinition);

    // Assess
    const expected: TaskDefinitionRecord = {
      arn: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/web:7',
      family: 'web',
      revision: 7,
      networkMode: 'bridge',
      requiresCompatibilities: ['EC2'],
      containers: [
        {
          name: 'app',
          image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:1.4.2',
          environment: {
            PROMETHEUS: 'true',
            PROMETHEUS_ENDPOINT: '15s:/metrics, /admin/metrics',
            PROMETHEUS_LABEL_Team: 'payments',
            LOG_LEVEL: 'info',
          },
          dockerLabels: { 'com.example.tier': 'frontend' },
          portMappings: [{ containerPort: 8080, hostPort: 0 }],
        },
        {
          name: 'nginx',
          image: 'nginx:1.27.2',
          environment: { PROMETHEUS: 'true', PROMETHEUS_CONTAINER_PORT: '9113' },
          dockerLabels: {},
          portMappings: [
            { containerPort: 80, hostPort: 0 },
            { containerPort: 9113, hostPort: 0 },
          ],
        },
        {
          name: 'envoy',
          image: 'public.ecr.aws/appmesh/aws-appmesh-envoy:v1.29.6.0-prod',
          environment: {
            PROMETHEUS: '',
            APPMESH_RESOURCE_ARN: 'arn:aws:appmesh:eu-west-1:123456789012:mesh/prod/virtualNode/web',
          },
          dockerLabels: {},
          portMappings: [{ containerPort: 9901, hostPort: 0 }],
          // Only whether there is one: the task's health can then become HEALTHY.
          healthCheck: true,
        },
      ],
    };
    expect(record).toEqual(expected);
  });

  it('keeps only the ports of named awsvpc port mappings', () => {
    // Prepare
    const { taskDefinition } = readDescribeTaskDefinition('awsvpc-fargate');

    // Act
    const record = toTaskDefinitionRecord('arn:aws:ecs:eu-west-1:123456789012:task-definition/api:3', taskDefinition);

    // Assess
    expect(record.networkMode).toBe('awsvpc');
    expect(record.containers.map((container) => container.portMappings)).toEqual([
      [
        { containerPort: 8080, hostPort: 8080 },
        { containerPort: 9090, hostPort: 9090 },
      ],
      [],
    ]);
  });

  it('reads odd data defensively instead of throwing', () => {
    // Prepare
    const definition = {
      family: 'odd',
      revision: 1.5,
      containerDefinitions: [
        null,
        {
          name: 'c',
          environment: [{ name: 'A', value: '1' }, { name: 'B' }, { value: 'x' }, null],
          dockerLabels: { ok: 'yes', bad: 3 },
          portMappings: 'none',
        },
      ],
    } as unknown as TaskDefinition;

    // Act
    const record = toTaskDefinitionRecord('arn:aws:ecs:eu-west-1:123456789012:task-definition/odd:1', definition);

    // Assess
    expect(record).toEqual({
      arn: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/odd:1',
      family: 'odd',
      containers: [{ name: 'c', environment: { A: '1' }, dockerLabels: { ok: 'yes' }, portMappings: [] }],
    });
  });
});

describe('lastArnSegment', () => {
  it('gives the task id of a task ARN', () => {
    expect(lastArnSegment(BRIDGE_TASK)).toBe('5f7a3c1e9b2d4e6f8a0b1c2d3e4f5a6b');
  });

  it('gives the container id of a container ARN', () => {
    expect(
      lastArnSegment(
        'arn:aws:ecs:eu-west-1:123456789012:container/prod/5f7a3c1e9b2d4e6f8a0b1c2d3e4f5a6b/a3b9c1d7-2e4f-4a6b-8c0d-1e2f3a4b5c6d',
      ),
    ).toBe('a3b9c1d7-2e4f-4a6b-8c0d-1e2f3a4b5c6d');
  });
});

describe('clusterNameOf', () => {
  it('gives the cluster name of a cluster ARN', () => {
    expect(clusterNameOf(PROD.arn)).toBe('prod');
  });
});

describe('withRuntimeDataOf', () => {
  const record = (kind: 'bridge' | 'awsvpc-fargate') => toTaskRecord(firstTask(kind)) as TaskRecord;
  const withoutRuntimeData = (task: TaskRecord): TaskRecord => ({
    ...task,
    eniPrivateIp: undefined,
    containers: task.containers.map((container) => ({ ...container, privateIp: undefined, bindings: [] })),
  });

  it('keeps the bindings and addresses of the previous description that a new one lacks, and takes the rest from the new one', () => {
    for (const kind of ['bridge', 'awsvpc-fargate'] as const) {
      const previous = record(kind);
      const next = { ...withoutRuntimeData(previous), healthStatus: 'UNHEALTHY' };

      const merged = withRuntimeDataOf(next, previous);

      expect(merged, kind).toEqual({ ...previous, healthStatus: 'UNHEALTHY' });
    }
  });

  it('takes the new description as it is when it has runtime data, when there was none before, or for another task', () => {
    const previous = record('bridge');
    const next = { ...previous, containers: previous.containers.map((container) => ({ ...container, bindings: [{ containerPort: 1, hostPort: 2 }] })) };
    const bare = withoutRuntimeData(previous);

    expect(withRuntimeDataOf(next, previous)).toEqual(next);
    expect(withRuntimeDataOf(bare, undefined)).toBe(bare);
    expect(withRuntimeDataOf(bare, { ...previous, arn: 'arn:other' })).toBe(bare);
  });

  it('never changes its inputs', () => {
    const previous = record('bridge');
    const next = withoutRuntimeData(previous);
    const [previousCopy, nextCopy] = [structuredClone(previous), structuredClone(next)];

    withRuntimeDataOf(next, previous);

    expect([previous, next]).toEqual([previousCopy, nextCopy]);
  });
});

describe('isSameData', () => {
  const bridge = () => toTaskRecord(firstTask('bridge')) as TaskRecord;

  it('finds two descriptions of an unchanged task the same, and a key whose value is undefined the same as no key', () => {
    expect(isSameData(bridge(), bridge())).toBe(true);
    const withUndefined = { ...bridge(), healthStatus: undefined };
    const without = (({ healthStatus: _, ...rest }) => rest)(bridge());
    expect(isSameData(withUndefined, without)).toBe(true);
    expect(isSameData(without, withUndefined)).toBe(true);
    expect(isSameData([], [])).toBe(true);
  });

  it('tells any changed value apart, however deep, in either direction', () => {
    const task = bridge();
    const [container] = task.containers;
    const [binding] = container?.bindings ?? [];
    const changed: TaskRecord[] = [
      { ...task, healthStatus: 'UNHEALTHY' },
      { ...task, version: (task.version ?? 0) + 1 },
      { ...task, tags: { ...task.tags, team: 'new' } },
      { ...task, containers: [] },
      { ...task, containers: [...task.containers, ...task.containers] },
      { ...task, containers: task.containers.map((each) => ({ ...each, bindings: [{ ...binding, hostPort: 1 }] })) },
      { ...task, containers: task.containers.map((each) => ({ ...each, bindings: [] })) },
      { ...task, containers: task.containers.map((each) => ({ ...each, privateIp: '127.0.0.9' })) },
      { ...task, subnetId: 'subnet-new' },
    ];
    for (const other of changed) {
      expect(isSameData(task, other)).toBe(false);
      expect(isSameData(other, task)).toBe(false);
    }
  });

  it('tells a list from an object, a text from a number, and anything from null', () => {
    expect(isSameData([], {})).toBe(false);
    expect(isSameData({}, [])).toBe(false);
    expect(isSameData({ '0': 'a' }, ['a'])).toBe(false);
    expect(isSameData({ port: '80' }, { port: 80 })).toBe(false);
    expect(isSameData({ ip: null }, { ip: undefined })).toBe(false);
    expect(isSameData(null, {})).toBe(false);
  });
});
