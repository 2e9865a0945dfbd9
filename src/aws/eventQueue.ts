import type { SQSClient } from '@aws-sdk/client-sqs';
import { isAbort } from '../abort.js';
import { withCallOptions } from '../callOptions.js';
import { AwsError, describeError } from '../errors.js';

/** ReceiveMessage waits up to this long for a message before it answers none: SQS's longest long poll. */
export const WAIT_TIME_SECONDS = 20;
/** The most messages ReceiveMessage answers, and DeleteMessageBatch takes, at once. */
export const MAX_MESSAGES = 10;

/** A message received from the queue. */
export interface QueueMessage {
  readonly id: string;
  /** What deleting it takes: it changes with each receipt. */
  readonly receiptHandle: string;
  readonly body: string;
}

/** What GetQueueAttributes says of the queue. */
export interface QueueAttributes {
  readonly arn: string | undefined;
  /** How long a received message stays hidden before it is delivered again, unless deleted. */
  readonly visibilityTimeoutSeconds: number | undefined;
}

/**
 * The region of a queue URL of AWS's own forms (`https://sqs.eu-west-1.amazonaws.com/...`, the
 * China partition's `.amazonaws.com.cn`, the legacy `eu-west-1.queue.amazonaws.com`); undefined
 * for another host (an endpoint of the user's, a fake).
 */
export function regionOfQueueUrl(url: string): string | undefined {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return undefined;
  }
  return /^sqs\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(host)?.[1] ?? /^([a-z0-9-]+)\.queue\.amazonaws\.com(\.cn)?$/.exec(host)?.[1];
}

/** The failed action, with AWS's error, for one log line; aborts stay aborts. */
function toQueueError(action: string, error: unknown): unknown {
  return isAbort(error) ? error : new AwsError(`${action} failed: ${describeError(error)}`, { cause: error });
}

export interface EventQueueOptions {
  client: SQSClient;
  url: string;
}

/**
 * The SQS queue that an EventBridge rule fills with ECS events: long polls, deletes, and its
 * attributes. Throws AwsError when SQS cannot be asked (after the SDK's retries); the caller
 * decides what an unanswering queue means. The SDK's SQS commands are loaded with the client, on
 * demand.
 */
export class EventQueue {
  readonly url: string;
  readonly #client: SQSClient;

  constructor({ client, url }: EventQueueOptions) {
    this.#client = client;
    this.url = url;
  }

  /** Waits up to WAIT_TIME_SECONDS for messages, and answers up to MAX_MESSAGES; none when none came. */
  async receive(signal?: AbortSignal): Promise<QueueMessage[]> {
    try {
      const { ReceiveMessageCommand } = await import('@aws-sdk/client-sqs');
      const output = await this.#client.send(
        new ReceiveMessageCommand(
          withCallOptions({ QueueUrl: this.url, MaxNumberOfMessages: MAX_MESSAGES, WaitTimeSeconds: WAIT_TIME_SECONDS }, { signal }),
        ),
      );
      // A message without a receipt handle could never be deleted: SQS does not answer those.
      return (output.Messages ?? []).flatMap((message) =>
        typeof message.ReceiptHandle === 'string' && message.ReceiptHandle !== ''
          ? [{ id: message.MessageId ?? '', receiptHandle: message.ReceiptHandle, body: message.Body ?? '' }]
          : [],
      );
    } catch (error) {
      throw toQueueError('ReceiveMessage', error);
    }
  }

  /** Deletes messages, up to MAX_MESSAGES a call; returns those SQS did not delete, with its reason. */
  async delete(messages: readonly QueueMessage[], signal?: AbortSignal): Promise<{ message: QueueMessage; reason: string }[]> {
    const failed: { message: QueueMessage; reason: string }[] = [];
    try {
      const { DeleteMessageBatchCommand } = await import('@aws-sdk/client-sqs');
      for (let start = 0; start < messages.length; start += MAX_MESSAGES) {
        const batch = messages.slice(start, start + MAX_MESSAGES);
        const output = await this.#client.send(
          new DeleteMessageBatchCommand(
            withCallOptions(
              {
                QueueUrl: this.url,
                // Ids only need to be distinct within one call.
                Entries: batch.map((message, index) => ({ Id: `m${index}`, ReceiptHandle: message.receiptHandle })),
              },
              { signal },
            ),
          ),
        );
        for (const entry of output.Failed ?? []) {
          const message = batch[Number(entry.Id?.slice(1))];
          if (message !== undefined) failed.push({ message, reason: `${entry.Code ?? 'unknown'}: ${entry.Message ?? ''}`.trim() });
        }
      }
    } catch (error) {
      throw toQueueError('DeleteMessageBatch', error);
    }
    return failed;
  }

  /** The queue's ARN and visibility timeout: asking proves the queue exists and may be read. */
  async attributes(signal?: AbortSignal): Promise<QueueAttributes> {
    try {
      const { GetQueueAttributesCommand } = await import('@aws-sdk/client-sqs');
      const output = await this.#client.send(
        new GetQueueAttributesCommand(withCallOptions({ QueueUrl: this.url, AttributeNames: ['QueueArn', 'VisibilityTimeout'] }, { signal })),
      );
      const timeout = Number(output.Attributes?.VisibilityTimeout);
      return { arn: output.Attributes?.QueueArn, visibilityTimeoutSeconds: Number.isFinite(timeout) ? timeout : undefined };
    } catch (error) {
      throw toQueueError('GetQueueAttributes', error);
    }
  }
}
