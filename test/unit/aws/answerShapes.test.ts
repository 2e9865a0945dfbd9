import { describe, expect, it } from 'vitest';
import {
  checkContainerInstances,
  checkDescribeTasks,
  checkInstanceInformation,
  checkInstances,
  checkListClusters,
  checkListTasks,
  checkNextToken,
  checkTaskDefinition,
} from '../../../src/aws/answerShapes.js';
import { MalformedAnswerError } from '../../../src/errors.js';
import { clusterArn, makeTask, makeTaskDefinition, taskArn } from '../../../src/fake/fleet.js';

/** Answers as the SDK hands them over: JSON null arrives as a missing member. */
const definition = makeTaskDefinition('api', 3, 'bridge', [
  { name: 'api', environment: { PROMETHEUS: 'true' }, portMappings: [{ containerPort: 8080, hostPort: 0 }] },
]);
const task = () =>
  structuredClone(
    makeTask({
      cluster: 'prod',
      id: 't1',
      definition,
      containerInstanceArn: 'arn:ci',
      tags: { team: 'a' },
      containers: [{ name: 'api', bindings: [{ containerPort: 8080, hostPort: 32768 }] }],
    }),
  ) as unknown as Record<string, unknown>;
const containerOf = (raw: Record<string, unknown>) => (raw['containers'] as Record<string, unknown>[])[0] as Record<string, unknown>;
const containerDefinitionOf = (raw: Record<string, unknown>) =>
  (raw['containerDefinitions'] as Record<string, unknown>[])[0] as Record<string, unknown>;

describe('answer shapes', () => {
  it('returns the lists of well-formed answers', () => {
    const raw = task();

    expect(checkListClusters({ clusterArns: [clusterArn('a')] })).toEqual([clusterArn('a')]);
    expect(checkListTasks({ taskArns: [] })).toEqual([]);
    expect(checkDescribeTasks({ tasks: [raw], failures: [] })).toEqual([raw]);
    expect(checkTaskDefinition({ taskDefinition: definition })).toEqual(definition);
    expect(checkContainerInstances({ containerInstances: [{ containerInstanceArn: 'arn:ci', ec2InstanceId: 'i-1' }] })).toHaveLength(1);
    expect(checkInstances({ Reservations: [{ Instances: [{ InstanceId: 'i-1', PrivateIpAddress: '10.0.0.1' }] }, {}] })).toHaveLength(1);
    expect(checkInstanceInformation({ InstanceInformationList: [{ InstanceId: 'mi-1', IPAddress: '10.0.0.2' }] })).toHaveLength(1);
    expect(checkNextToken('ListTasks', 'abc')).toBe('abc');
    expect(checkNextToken('ListTasks', undefined)).toBeUndefined();
  });

  it('fails, naming the action, when a required list is null (the SDK drops it) or not a list', () => {
    expect(() => checkListClusters({})).toThrow('ListClusters answered no clusterArns (null or missing; expected a list)');
    expect(() => checkListTasks({ taskArns: 'x' })).toThrow('ListTasks answered taskArns "x" (expected a list)');
    expect(() => checkDescribeTasks({ failures: [] })).toThrow('DescribeTasks answered no tasks (null or missing; expected a list)');
    expect(() => checkContainerInstances({ containerInstances: {} })).toThrow('DescribeContainerInstances answered containerInstances {} (expected a list)');
    expect(() => checkTaskDefinition({})).toThrow('DescribeTaskDefinition answered no taskDefinition (null or missing; expected an object)');
    expect(() => checkTaskDefinition({ taskDefinition: { family: 'api' } })).toThrow(
      'DescribeTaskDefinition answered a task definition without containerDefinitions (null or missing; expected a list)',
    );
    expect(() => checkInstances({})).toThrow('DescribeInstances answered no Reservations');
    expect(() => checkInstanceInformation({})).toThrow('DescribeInstanceInformation answered no InstanceInformationList');
    expect(() => checkListTasks({})).toThrow(MalformedAnswerError);
  });

  it('fails on list entries that are not what the API lists', () => {
    expect(() => checkListClusters({ clusterArns: [clusterArn('a'), 5] })).toThrow('ListClusters answered a clusterArns entry 5 (expected a non-empty string)');
    expect(() => checkListTasks({ taskArns: [''] })).toThrow('ListTasks answered a taskArns entry "" (expected a non-empty string)');
    expect(() => checkDescribeTasks({ tasks: [null] })).toThrow('DescribeTasks answered a task that is null (expected an object)');
  });

  it('fails on a task field of the wrong type', () => {
    const cases: [(raw: Record<string, unknown>) => void, string][] = [
      [(raw) => (raw['lastStatus'] = 42), 'DescribeTasks answered a task whose lastStatus is 42 (expected a string)'],
      [(raw) => (raw['taskArn'] = 7), 'DescribeTasks answered a task whose taskArn is 7 (expected a non-empty string)'],
      [(raw) => delete raw['taskArn'], 'DescribeTasks answered a task without taskArn'],
      [(raw) => (raw['containers'] = 'x'), 'DescribeTasks answered a task whose containers is "x" (expected a list)'],
      [(raw) => (raw['tags'] = [{ key: 1, value: 'a' }]), 'DescribeTasks answered a tag whose key is 1 (expected a string)'],
      [(raw) => (containerOf(raw)['networkBindings'] = 'x'), 'DescribeTasks answered a container whose networkBindings is "x" (expected a list)'],
      [(raw) => (containerOf(raw)['networkBindings'] = [3]), 'DescribeTasks answered a network binding that is 3 (expected an object)'],
      [(raw) => (containerOf(raw)['networkBindings'] = [{ hostPort: true }]), 'DescribeTasks answered a network binding whose hostPort is true (expected a number)'],
      [(raw) => (containerOf(raw)['networkInterfaces'] = [{ privateIpv4Address: 10 }]), 'DescribeTasks answered a network interface whose privateIpv4Address is 10'],
      [(raw) => (raw['attachments'] = [{ details: [{ name: 'privateIPv4Address', value: 1 }] }]), 'DescribeTasks answered an attachment detail whose value is 1'],
    ];
    for (const [spoil, message] of cases) {
      const raw = task();
      spoil(raw);
      expect(() => checkDescribeTasks({ tasks: [raw] }), message).toThrow(message);
    }
  });

  it('fails on a container definition field of the wrong type', () => {
    const cases: [(raw: Record<string, unknown>) => void, string][] = [
      [(raw) => (raw['containerDefinitions'] = [null]), 'DescribeTaskDefinition answered a container definition that is null (expected an object)'],
      [(raw) => (containerDefinitionOf(raw)['environment'] = 'PROMETHEUS=1'), 'answered a container definition whose environment is "PROMETHEUS=1" (expected a list)'],
      [(raw) => (containerDefinitionOf(raw)['environment'] = [{ name: 1, value: true }]), 'DescribeTaskDefinition answered an environment entry whose name is 1 (expected a string)'],
      [(raw) => (containerDefinitionOf(raw)['environment'] = [{ name: 'PROMETHEUS', value: true }]), 'an environment entry whose value is true (expected a string)'],
      [(raw) => (containerDefinitionOf(raw)['portMappings'] = {}), 'a container definition whose portMappings is {} (expected a list)'],
      [(raw) => (containerDefinitionOf(raw)['dockerLabels'] = { PROMETHEUS: 1 }), 'a dockerLabels map whose PROMETHEUS is 1 (expected a string)'],
      [(raw) => (raw['revision'] = '3'), 'a task definition whose revision is "3" (expected a whole number)'],
    ];
    for (const [spoil, message] of cases) {
      const raw = structuredClone(definition) as unknown as Record<string, unknown>;
      spoil(raw);
      expect(() => checkTaskDefinition({ taskDefinition: raw }), message).toThrow(message);
    }
  });

  it('tolerates what the API allows: absent optional lists and fields, ports as decimal strings', () => {
    const raw = task();
    delete raw['containers'];
    delete raw['lastStatus'];
    const bare = { taskArn: taskArn('prod', 't2'), containers: [{ networkBindings: [{ containerPort: '8080', hostPort: '32768' }] }] };
    const definitionWithout = { containerDefinitions: [{ name: 'api', portMappings: [{ containerPort: '8080' }] }] };

    expect(checkDescribeTasks({ tasks: [raw, bare] })).toHaveLength(2);
    expect(checkTaskDefinition({ taskDefinition: definitionWithout })).toEqual(definitionWithout);
    expect(checkContainerInstances({ containerInstances: [{ containerInstanceArn: 'arn:ci' }] })).toHaveLength(1);
  });

  it('fails on a container instance without its ARN, an instance without its id, a token that is not a text', () => {
    expect(() => checkContainerInstances({ containerInstances: [{ ec2InstanceId: 'i-1' }] })).toThrow('a container instance without containerInstanceArn');
    expect(() => checkContainerInstances({ containerInstances: [{ containerInstanceArn: 'arn:ci', ec2InstanceId: 5 }] })).toThrow(
      'a container instance whose ec2InstanceId is 5',
    );
    expect(() => checkInstances({ Reservations: [{ Instances: [{ PrivateIpAddress: '10.0.0.1' }] }] })).toThrow('an instance without InstanceId');
    expect(() => checkInstanceInformation({ InstanceInformationList: [{ InstanceId: 'mi-1', IPAddress: 7 }] })).toThrow('an instance whose IPAddress is 7');
    expect(() => checkNextToken('ListClusters', 5)).toThrow('ListClusters answered a next-page token 5 (expected a string)');
  });

  it('cuts a long value short in the message', () => {
    const error = (() => {
      try {
        checkListTasks({ taskArns: 'x'.repeat(1000) });
      } catch (thrown) {
        return thrown as Error;
      }
      return undefined;
    })();

    expect(error?.message.length).toBeLessThan(120);
  });
});
