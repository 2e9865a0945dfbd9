import {
  DeleteMessageBatchCommand,
  EmptyBatchRequest,
  GetQueueAttributesCommand,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseEventMessage } from '../../src/aws/eventMessages.js';
import { FakeAws } from '../../src/fake/fakeAws.js';
import { FleetEvents } from '../../src/fake/fleetEvents.js';
import { addDefinition, addHost, emptyFleet, makeTaskDefinition, taskArn } from '../../src/fake/fleet.js';

/**
 * The fake's SQS queue, spoken to by the real SDK client (AWS JSON 1.0, its MD5 check of each
 * body included), and the events that its fleet changes send.
 */

let fake: FakeAws;
let sqs: SQSClient;
const definition = makeTaskDefinition('web', 1, 'awsvpc', [{ name: 'web', environment: { PROMETHEUS: '1' }, portMappings: [{ containerPort: 9100 }] }]);

const receive = (wait = 20) => sqs.send(new ReceiveMessageCommand({ QueueUrl: fake.sqs.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: wait }));
const bodies = async (wait = 0) => ((await receive(wait)).Messages ?? []).map((message) => message.Body);

beforeEach(async () => {
  const fleet = emptyFleet();
  addDefinition(fleet, definition);
  fake = new FakeAws(fleet);
  const url = await fake.start();
  sqs = new SQSClient({ region: 'eu-west-1', endpoint: url, credentials: { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake' }, maxAttempts: 1 });
});
afterEach(async () => {
  sqs.destroy();
  await fake.stop();
});

describe('the fake SQS queue', () => {
  it('answers a waiting long poll as soon as a message comes, with a body the SDK finds intact', async () => {
    // Prepare
    const polling = receive();

    // Act
    await new Promise((resolve) => setImmediate(resolve));
    fake.sqs.send('{"hello":"world"}', { faults: false });
    const answer = await polling;

    // Assess
    expect(answer.Messages?.map((message) => message.Body)).toEqual(['{"hello":"world"}']);
    expect(fake.calls.map((call) => call.action)).toEqual(['ReceiveMessage']);
  });

  it('answers no message when the wait is over', async () => {
    expect(await bodies(0)).toEqual([]);
  });

  it('deletes messages by their receipt handle, and says which handles are not valid', async () => {
    // Prepare
    fake.sqs.send('a', { faults: false });
    fake.sqs.send('b', { faults: false });
    const messages = (await receive(0)).Messages ?? [];

    // Act
    const deleted = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: fake.sqs.queueUrl,
        Entries: [...messages.map((message, index) => ({ Id: `m${index}`, ReceiptHandle: message.ReceiptHandle })), { Id: 'bad', ReceiptHandle: 'nonsense' }],
      }),
    );

    // Assess
    expect(deleted.Successful?.map((entry) => entry.Id)).toEqual(['m0', 'm1']);
    expect(deleted.Failed).toEqual([expect.objectContaining({ Id: 'bad', Code: 'ReceiptHandleIsInvalid', SenderFault: true })]);
    expect(fake.sqs.size).toBe(0);
  });

  it('delivers again a message not deleted within the visibility timeout', async () => {
    fake.sqs.visibilityTimeoutSeconds = 1;
    fake.sqs.send('again', { faults: false });

    const first = await bodies(0);
    const hidden = await bodies(0);
    const later = await bodies(5);

    expect([first, hidden, later]).toEqual([['again'], [], ['again']]);
  });

  it('answers the errors of the API reference: an empty batch, a queue that does not exist', async () => {
    await expect(sqs.send(new DeleteMessageBatchCommand({ QueueUrl: fake.sqs.queueUrl, Entries: [] }))).rejects.toBeInstanceOf(EmptyBatchRequest);
    await expect(
      sqs.send(new ReceiveMessageCommand({ QueueUrl: `${fake.url}/123456789012/other`, WaitTimeSeconds: 0 })),
    ).rejects.toBeInstanceOf(QueueDoesNotExist);
  });

  it('answers the queue attributes asked for', async () => {
    const answer = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: fake.sqs.queueUrl, AttributeNames: ['QueueArn', 'VisibilityTimeout'] }));

    expect(answer.Attributes).toEqual({ QueueArn: 'arn:aws:sqs:eu-west-1:123456789012:ecs-events', VisibilityTimeout: '30' });
  });

  it('fails every call during an outage, a waiting long poll included', async () => {
    const polling = receive();
    await new Promise((resolve) => setImmediate(resolve));

    fake.sqs.setOutage(true);

    await expect(polling).rejects.toMatchObject({ $metadata: { httpStatusCode: 503 } });
    await expect(receive(0)).rejects.toMatchObject({ $metadata: { httpStatusCode: 503 } });
  });

  it('loses, duplicates and reorders messages by the rates asked for', async () => {
    // Prepare
    fake.sqs.faults.lossRate = 1;
    fake.sqs.send('lost');
    fake.sqs.faults.lossRate = 0;
    fake.sqs.faults.duplicationRate = 1;
    fake.sqs.send('twice');
    fake.sqs.faults.duplicationRate = 0;
    fake.sqs.faults.reorderRate = 1;

    // Act
    fake.sqs.send('first');
    fake.sqs.send('second');
    fake.sqs.flushHeld();

    // Assess
    expect(await bodies()).toEqual(['twice', 'twice', 'second', 'first']);
    expect(fake.sqs.sent).toEqual({ total: 4, lost: 1, duplicated: 1, reordered: 1 });
  });

  it('ends a waiting long poll when the fake stops', async () => {
    const polling = receive().catch((error: unknown) => error);
    await new Promise((resolve) => setImmediate(resolve));

    await fake.stop();

    expect(await polling).toBeDefined();
  });
});

describe('FleetEvents', () => {
  it('starts a task in the fleet and sends its PENDING, then RUNNING events, shaped as ECS sends them', async () => {
    // Prepare
    const events = new FleetEvents(fake);

    // Act
    events.startTask({ cluster: 'prod', id: 'n1', definition, launchType: 'FARGATE', eniIp: '127.3.0.1', containers: [{ name: 'web' }] });
    const parsed = (await bodies()).map((body) => parseEventMessage(body ?? ''));

    // Assess
    expect(fake.fleet.clusters[0]?.tasks.map((task) => task.taskArn)).toEqual([taskArn('prod', 'n1')]);
    expect(parsed).toMatchObject([
      { kind: 'task', taskArn: taskArn('prod', 'n1'), version: 1, state: 'starting' },
      { kind: 'task', taskArn: taskArn('prod', 'n1'), version: 2, state: 'running', task: { eniPrivateIp: '127.3.0.1', healthStatus: undefined } },
    ]);
    expect(events.runningSentAt.has(taskArn('prod', 'n1'))).toBe(true);
  });

  it('stops a task: out of the fleet, a stopping then a STOPPED event', async () => {
    const events = new FleetEvents(fake);
    events.startTask({ cluster: 'prod', id: 'n1', definition, launchType: 'FARGATE', eniIp: '127.3.0.1', containers: [{ name: 'web' }] });
    await bodies();

    events.stopTask('prod', 'n1');
    const parsed = (await bodies()).map((body) => parseEventMessage(body ?? ''));

    expect(fake.fleet.clusters[0]?.tasks).toEqual([]);
    expect(parsed).toMatchObject([
      { kind: 'task', version: 3, state: 'stopped', task: { lastStatus: 'RUNNING' } },
      { kind: 'task', version: 4, state: 'stopped', task: { lastStatus: 'STOPPED' } },
    ]);
  });

  it('changes a task health status in the fleet; its event carries it only when asked to, as AWS documents', async () => {
    // Prepare
    const real = new FleetEvents(fake);
    real.startTask({ cluster: 'prod', id: 'n1', definition, launchType: 'FARGATE', eniIp: '127.3.0.1', containers: [{ name: 'web' }] });
    await bodies();

    // Act
    real.setHealth('prod', 'n1', 'UNHEALTHY');
    new FleetEvents(fake, { withHealth: true }).setHealth('prod', 'n1', 'HEALTHY');
    const parsed = (await bodies()).map((body) => parseEventMessage(body ?? ''));

    // Assess
    expect(parsed).toMatchObject([
      { version: 3, task: { healthStatus: undefined } },
      { version: 4, task: { healthStatus: 'HEALTHY' } },
    ]);
    expect(fake.fleet.clusters[0]?.tasks[0]?.healthStatus).toBe('HEALTHY');
  });

  it('announces a container instance with its EC2 instance', async () => {
    const host = addHost(fake.fleet, 'prod', 'i-0123456789abcdef0', '127.0.10.1');

    new FleetEvents(fake).announceContainerInstance('prod', host);

    expect((await bodies()).map((body) => parseEventMessage(body ?? ''))).toMatchObject([
      { kind: 'containerInstance', containerInstanceArn: host, ec2InstanceId: 'i-0123456789abcdef0' },
    ]);
  });
});
