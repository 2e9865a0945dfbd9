import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { EventQueue, regionOfQueueUrl } from '../../../src/aws/eventQueue.js';
import { AwsError } from '../../../src/errors.js';

const sqsMock = mockClient(SQSClient);
const URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/ecs-events';
const queue = () => new EventQueue({ client: new SQSClient({ region: 'eu-west-1' }), url: URL });

beforeEach(() => {
  sqsMock.reset();
});

describe('EventQueue.receive', () => {
  it('long polls for 20 s and up to 10 messages, and answers them', async () => {
    // Prepare
    sqsMock.on(ReceiveMessageCommand).resolves({
      Messages: [
        { MessageId: 'm1', ReceiptHandle: 'r1', Body: '{"a":1}' },
        { MessageId: 'm2', ReceiptHandle: 'r2', Body: '{"b":2}' },
      ],
    });

    // Act
    const messages = await queue().receive();

    // Assess
    expect(sqsMock.commandCalls(ReceiveMessageCommand)[0]?.args[0].input).toEqual({ QueueUrl: URL, MaxNumberOfMessages: 10, WaitTimeSeconds: 20 });
    expect(messages).toEqual([
      { id: 'm1', receiptHandle: 'r1', body: '{"a":1}' },
      { id: 'm2', receiptHandle: 'r2', body: '{"b":2}' },
    ]);
  });

  it('answers none when the wait ended without a message, and leaves out messages without a receipt handle', async () => {
    sqsMock.on(ReceiveMessageCommand).resolvesOnce({}).resolvesOnce({ Messages: [{ MessageId: 'm1', Body: '{}' }] });

    expect(await queue().receive()).toEqual([]);
    expect(await queue().receive()).toEqual([]);
  });

  it('fails with an AwsError that names the action and what SQS said', async () => {
    sqsMock.on(ReceiveMessageCommand).rejects(new QueueDoesNotExist({ message: 'The specified queue does not exist.', $metadata: {} }));

    const receiving = queue().receive();

    await expect(receiving).rejects.toBeInstanceOf(AwsError);
    await expect(receiving).rejects.toThrow('ReceiveMessage failed: QueueDoesNotExist: The specified queue does not exist.');
  });

  it('leaves an abort (stopping) an abort, not an AwsError', async () => {
    // Prepare
    const stopping = new AbortController();
    sqsMock.on(ReceiveMessageCommand).callsFake(() => {
      stopping.abort();
      const error = new Error('Request aborted');
      error.name = 'AbortError';
      throw error;
    });

    // Act
    const receiving = queue().receive(stopping.signal);

    // Assess
    await expect(receiving).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('EventQueue.delete', () => {
  it('deletes in batches of 10 with ids distinct in each call, and returns what SQS did not delete', async () => {
    // Prepare
    const messages = Array.from({ length: 12 }, (_, index) => ({ id: `m${index}`, receiptHandle: `r${index}`, body: '' }));
    sqsMock
      .on(DeleteMessageBatchCommand)
      .resolvesOnce({ Successful: [], Failed: [{ Id: 'm3', SenderFault: true, Code: 'ReceiptHandleIsInvalid', Message: 'bad handle' }] })
      .resolvesOnce({ Successful: [{ Id: 'm0' }, { Id: 'm1' }], Failed: [] });

    // Act
    const failed = await queue().delete(messages);

    // Assess
    const calls = sqsMock.commandCalls(DeleteMessageBatchCommand).map((call) => call.args[0].input);
    expect(calls.map((input) => input.Entries?.map((entry) => entry.ReceiptHandle))).toEqual([
      ['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8', 'r9'],
      ['r10', 'r11'],
    ]);
    expect(calls.every((input) => input.QueueUrl === URL && new Set(input.Entries?.map((entry) => entry.Id)).size === input.Entries?.length)).toBe(true);
    expect(failed).toEqual([{ message: messages[3], reason: 'ReceiptHandleIsInvalid: bad handle' }]);
  });

  it('fails with an AwsError when SQS does not answer', async () => {
    sqsMock.on(DeleteMessageBatchCommand).rejects(new Error('socket hang up'));

    await expect(queue().delete([{ id: 'm', receiptHandle: 'r', body: '' }])).rejects.toThrow('DeleteMessageBatch failed: socket hang up');
  });
});

describe('EventQueue.attributes', () => {
  it('asks for the queue ARN and visibility timeout', async () => {
    sqsMock.on(GetQueueAttributesCommand).resolves({ Attributes: { QueueArn: 'arn:aws:sqs:eu-west-1:123456789012:ecs-events', VisibilityTimeout: '30' } });

    const attributes = await queue().attributes();

    expect(sqsMock.commandCalls(GetQueueAttributesCommand)[0]?.args[0].input).toEqual({ QueueUrl: URL, AttributeNames: ['QueueArn', 'VisibilityTimeout'] });
    expect(attributes).toEqual({ arn: 'arn:aws:sqs:eu-west-1:123456789012:ecs-events', visibilityTimeoutSeconds: 30 });
  });
});

describe('regionOfQueueUrl', () => {
  it.each([
    ['https://sqs.eu-west-1.amazonaws.com/123456789012/q', 'eu-west-1'],
    ['https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q', 'cn-north-1'],
    ['https://us-east-1.queue.amazonaws.com/123456789012/q', 'us-east-1'],
    ['http://127.0.0.1:4566/123456789012/q', undefined],
    ['not a url', undefined],
  ])('reads %s as %s', (url, region) => {
    expect(regionOfQueueUrl(url)).toBe(region);
  });
});
