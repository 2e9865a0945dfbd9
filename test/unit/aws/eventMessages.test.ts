import { describe, expect, it } from 'vitest';
import { parseEventMessage } from '../../../src/aws/eventMessages.js';
import { clusterArn, containerInstanceArn, makeTask, makeTaskDefinition, taskArn } from '../../../src/fake/fleet.js';

const definition = makeTaskDefinition('web', 4, 'awsvpc', [{ name: 'web', environment: { PROMETHEUS: '1' } }]);

/** An "ECS Task State Change" event as EventBridge delivers it to SQS: the detail is the task, with its version. */
function taskEvent(detail: Record<string, unknown>, envelope: Record<string, unknown> = {}): string {
  return JSON.stringify({
    version: '0',
    id: '5f0c1f8e-8a1c-4d6e-9b3e-0c1d2e3f4a5b',
    'detail-type': 'ECS Task State Change',
    source: 'aws.ecs',
    account: '123456789012',
    time: '2026-11-24T10:00:00Z',
    region: 'eu-west-1',
    resources: [detail['taskArn']],
    detail,
    ...envelope,
  });
}

const runningTask = () => ({
  ...makeTask({ cluster: 'prod', id: 'abc', definition, launchType: 'FARGATE', eniIp: '127.0.5.9', containers: [{ name: 'web' }] }),
  healthStatus: undefined,
  createdAt: '2026-11-24T09:59:40.120Z',
  updatedAt: '2026-11-24T10:00:00.004Z',
  version: 3,
});

describe('parseEventMessage', () => {
  it('reads a task state change: the task as DescribeTasks gives it, its cluster, region, version and state', () => {
    // Act
    const message = parseEventMessage(taskEvent(runningTask()));

    // Assess
    expect(message).toMatchObject({
      kind: 'task',
      region: 'eu-west-1',
      clusterArn: clusterArn('prod'),
      taskArn: taskArn('prod', 'abc'),
      version: 3,
      state: 'running',
      task: { arn: taskArn('prod', 'abc'), eniPrivateIp: '127.0.5.9', lastStatus: 'RUNNING', version: 3, healthStatus: undefined },
    });
  });

  it('reads a task that is being stopped, or has stopped, as stopped', () => {
    const stopping = parseEventMessage(taskEvent({ ...runningTask(), desiredStatus: 'STOPPED', version: 4 }));
    const stopped = parseEventMessage(taskEvent({ ...runningTask(), desiredStatus: 'STOPPED', lastStatus: 'STOPPED', version: 5 }));

    expect(stopping).toMatchObject({ kind: 'task', state: 'stopped', version: 4 });
    expect(stopped).toMatchObject({ kind: 'task', state: 'stopped', version: 5 });
  });

  it('unwraps an event that came through an SNS topic', () => {
    const body = JSON.stringify({ Type: 'Notification', MessageId: 'm-1', TopicArn: 'arn:aws:sns:eu-west-1:123456789012:ecs', Message: taskEvent(runningTask()) });

    expect(parseEventMessage(body)).toMatchObject({ kind: 'task', version: 3 });
  });

  it('reads a container instance state change: which EC2 instance a container instance is', () => {
    // Prepare
    const body = JSON.stringify({
      'detail-type': 'ECS Container Instance State Change',
      source: 'aws.ecs',
      detail: {
        clusterArn: clusterArn('prod'),
        containerInstanceArn: containerInstanceArn('prod', 'ci-1'),
        ec2InstanceId: 'i-0123456789abcdef0',
        status: 'ACTIVE',
        version: 7,
      },
    });

    // Act
    const message = parseEventMessage(body);

    // Assess
    expect(message).toEqual({
      kind: 'containerInstance',
      region: 'eu-west-1',
      clusterArn: clusterArn('prod'),
      containerInstanceArn: containerInstanceArn('prod', 'ci-1'),
      ec2InstanceId: 'i-0123456789abcdef0',
    });
  });

  it('ignores other ECS events and events of other sources, saying which', () => {
    const service = parseEventMessage(JSON.stringify({ 'detail-type': 'ECS Service Action', source: 'aws.ecs', detail: {} }));
    const ec2 = parseEventMessage(JSON.stringify({ 'detail-type': 'ECS Task State Change', source: 'aws.ec2', detail: {} }));

    expect(service).toEqual({ kind: 'ignored', reason: 'aws.ecs "ECS Service Action" events are not used' });
    expect(ec2).toEqual({ kind: 'ignored', reason: 'aws.ec2 "ECS Task State Change" events are not used' });
  });

  it.each([
    ['not JSON', 'garbage', /^not JSON/],
    ['not an object', '[1,2]', /^not a JSON object$/],
    ['no detail-type', JSON.stringify({ source: 'aws.ecs' }), /no source and detail-type/],
    ['no detail', JSON.stringify({ 'detail-type': 'ECS Task State Change', source: 'aws.ecs' }), /detail undefined \(expected an object\)/],
    ['no version', taskEvent({ ...runningTask(), version: undefined }), /a task whose version is undefined \(expected a whole number\)/],
    ['a version that is text', taskEvent({ ...runningTask(), version: '3' }), /version is "3"/],
    ['no task ARN', taskEvent({ ...runningTask(), taskArn: undefined }), /a task without taskArn/],
    ['no lastStatus', taskEvent({ ...runningTask(), lastStatus: undefined }), /a task without lastStatus/],
    ['a lastStatus that is a number', taskEvent({ ...runningTask(), lastStatus: 42 }), /lastStatus is 42/],
    ['containers that are not a list', taskEvent({ ...runningTask(), containers: { web: {} } }), /containers is \{"web":\{\}\} \(expected a list\)/],
    ['a cluster that is not a cluster ARN', taskEvent({ ...runningTask(), clusterArn: 'prod' }), /clusterArn that is not a cluster ARN: "prod"/],
  ])('calls a message with %s unreadable, with the reason', (_what, body, reason) => {
    const message = parseEventMessage(body);

    expect(message.kind).toBe('unreadable');
    expect(message.kind === 'unreadable' ? message.reason : '').toMatch(reason);
  });

  it('names the event in the reason of a malformed detail', () => {
    const message = parseEventMessage(taskEvent({ ...runningTask(), lastStatus: 42 }));

    expect(message).toEqual({ kind: 'unreadable', reason: 'ECS Task State Change event with a task whose lastStatus is 42 (expected a string)' });
  });
});
