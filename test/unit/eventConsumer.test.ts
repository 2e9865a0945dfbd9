import { describe, expect, it } from 'vitest';
import type { EventMessage } from '../../src/aws/eventMessages.js';
import type { QueueAttributes, QueueMessage } from '../../src/aws/eventQueue.js';
import type { EventOutcome } from '../../src/eventApplier.js';
import { EventConsumer } from '../../src/eventConsumer.js';
import type { Logger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics.js';

const URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/ecs-events';

/** A hand-written queue: each receive takes the next scripted answer (messages or an error); with none left, it waits to be aborted, as a long poll. */
class FakeQueue {
  readonly url = URL;
  readonly answers: (QueueMessage[] | Error)[] = [];
  readonly deleted: string[] = [];
  attributesAnswer: Error | undefined;
  /** Every call fails (an outage), and a waiting long poll ends with the failure. */
  down: Error | undefined;
  /** Receives, or deletes, alone fail (a permission missing), while the attributes answer. */
  receiveRefused: Error | undefined;
  deleteRefused: Error | undefined;
  receives = 0;
  calls = 0;
  #wake: (() => void) | undefined;

  async attributes(): Promise<QueueAttributes> {
    this.calls += 1;
    await Promise.resolve();
    if (this.down) throw this.down;
    if (this.attributesAnswer) throw this.attributesAnswer;
    return { arn: 'arn:aws:sqs:eu-west-1:123456789012:ecs-events', visibilityTimeoutSeconds: 30 };
  }

  async receive(signal?: AbortSignal): Promise<QueueMessage[]> {
    this.receives += 1;
    this.calls += 1;
    for (;;) {
      if (this.down) throw this.down;
      if (this.receiveRefused) throw this.receiveRefused;
      const next = this.answers.shift();
      if (next instanceof Error) throw next;
      if (next !== undefined) return next;
      await new Promise<void>((resolve, reject) => {
        this.#wake = resolve;
        signal?.addEventListener('abort', () => reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' })), { once: true });
      });
    }
  }

  /** Adds an answer and wakes a waiting receive. */
  push(answer: QueueMessage[] | Error): void {
    this.answers.push(answer);
    this.#wake?.();
  }

  setDown(error: Error | undefined): void {
    this.down = error;
    this.#wake?.();
  }

  async delete(messages: readonly QueueMessage[]): Promise<{ message: QueueMessage; reason: string }[]> {
    await Promise.resolve();
    if (this.deleteRefused) {
      // The refused batch comes again after its visibility timeout; a long poll meanwhile ends empty.
      this.answers.push([], [...messages]);
      throw this.deleteRefused;
    }
    this.deleted.push(...messages.map((message) => message.id));
    return [];
  }
}

const message = (id: string, body = '{}'): QueueMessage => ({ id, receiptHandle: `r-${id}`, body });

function setup(outcomeOf: (event: EventMessage, body: number) => EventOutcome = () => 'applied') {
  const queue = new FakeQueue();
  const lines: string[] = [];
  const logger: Logger = {
    debug() {},
    info: (text) => lines.push(`info ${text}`),
    warn: (text) => lines.push(`warn ${text}`),
    error: (text) => lines.push(`error ${text}`),
  };
  const metrics = createMetrics();
  const changes: boolean[] = [];
  let batches = 0;
  const consumer = new EventConsumer({
    queue,
    applier: { apply: async (events) => events.map((event, index) => outcomeOf(event, index)) },
    metrics,
    logger,
    resyncSeconds: 300,
    intervalSeconds: 15,
    onListeningChange: (listening) => changes.push(listening),
    onBatch: () => (batches += 1),
    retryDelayMs: 1,
    maxRetryDelayMs: 4,
  });
  const until = async (isDone: () => boolean, what: string) => {
    for (let turn = 0; !isDone(); turn++) {
      if (turn > 2000) throw new Error(`never: ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  };
  const count = async (outcome: string) => (await metrics.events.get()).values.find((entry) => entry.labels.outcome === outcome)?.value ?? 0;
  return { queue, lines, metrics, changes, batches: () => batches, consumer, until, count };
}

describe('EventConsumer', () => {
  it('deletes every message it is done with, and leaves those whose change failed to come again', async () => {
    // Prepare
    const outcomes: EventOutcome[] = ['applied', 'stale', 'ignored', 'failed'];
    const { queue, consumer, until, count, batches } = setup((_event, index) => outcomes[index] ?? 'applied');
    queue.answers.push([message('m1'), message('m2'), message('m3'), message('m4')]);

    // Act
    consumer.start();
    await until(() => queue.receives >= 2, 'the next long poll');
    await consumer.stop();

    // Assess
    expect(queue.deleted).toEqual(['m1', 'm2', 'm3']);
    expect([await count('applied'), await count('stale'), await count('ignored'), await count('failed')]).toEqual([1, 1, 1, 1]);
    expect(consumer.view().counts).toEqual({ applied: 1, stale: 1, ignored: 1, unreadable: 0, failed: 1 });
    expect(batches()).toBe(1);
  });

  it('says once that a message cannot be read, counts it, and deletes it', async () => {
    const { queue, consumer, until, count, lines } = setup((event) => (event.kind === 'unreadable' ? 'unreadable' : 'applied'));
    queue.answers.push([message('m1', 'garbage')]);

    consumer.start();
    await until(() => queue.receives >= 2, 'the next long poll');
    await consumer.stop();

    expect(queue.deleted).toEqual(['m1']);
    expect(await count('unreadable')).toBe(1);
    expect(lines.filter((line) => line.includes('m1'))).toEqual([expect.stringMatching(/^warn events: message m1 is not an ECS event that can be read; deleted: not JSON/)]);
  });

  it('says once per reason which events it ignores', async () => {
    const service = JSON.stringify({ 'detail-type': 'ECS Service Action', source: 'aws.ecs', detail: {} });
    const { queue, consumer, until, lines } = setup(() => 'ignored');
    queue.answers.push([message('m1', service), message('m2', service)], [message('m3', service)]);

    consumer.start();
    await until(() => queue.receives >= 3, 'the third long poll');
    await consumer.stop();

    expect(lines.filter((line) => line.includes('ECS Service Action'))).toEqual(['info events: aws.ecs "ECS Service Action" events are not used; ignored (the rule may leave them out)']);
  });

  it('is listening once the queue answers, and says so to the loop', async () => {
    const { consumer, until, changes, metrics } = setup();

    consumer.start();
    await until(() => consumer.listening, 'listening');
    await consumer.stop();

    expect(changes).toEqual([true]);
    expect((await metrics.eventsListening.get()).values[0]?.value).toBe(1);
  });

  it('falls back to the full rounds while SQS does not answer, says so once, asks again, and is listening when it answers', async () => {
    // Prepare
    const { queue, consumer, until, changes, lines, metrics } = setup();
    consumer.start();
    await until(() => consumer.listening, 'listening');

    // Act
    queue.setDown(new Error('ReceiveMessage failed: ServiceUnavailable'));
    await until(() => changes.length === 2, 'the queue not answering');
    const callsWhenDown = queue.calls;
    await until(() => queue.calls >= callsWhenDown + 3, 'three more attempts');
    const down = { listening: consumer.listening, view: consumer.view(), gauge: (await metrics.eventsListening.get()).values[0]?.value };
    queue.setDown(undefined);
    await until(() => changes.length === 3, 'the queue answering again');
    await consumer.stop();

    // Assess
    expect(changes).toEqual([true, false, true]);
    expect(down.listening).toBe(false);
    expect(down.gauge).toBe(0);
    expect(down.view).toMatchObject({ listening: false, lastError: 'ReceiveMessage failed: ServiceUnavailable' });
    expect(lines.filter((line) => line.includes('does not answer'))).toEqual([
      'warn events: the queue does not answer; full rounds every 15 s (interval) until it does',
    ]);
    expect(lines).toContain('info events: the queue answers again; full rounds every 300 s (events.resyncInterval)');
  });

  it.each([
    ['ReceiveMessage', 'receiveRefused'],
    ['DeleteMessageBatch', 'deleteRefused'],
  ] as const)('says once that the queue does not answer when %s alone is refused, however often GetQueueAttributes answers', async (action, refusal) => {
    // Prepare: a message waits, so that a receive that works leads to a delete.
    const { queue, consumer, until, changes, lines } = setup();
    queue.push([message('m1')]);
    queue[refusal] = new Error(`${action} failed: AccessDenied: not authorized`);

    // Act
    consumer.start();
    await until(() => queue.calls >= 12, 'several attempts');
    await consumer.stop();

    // Assess
    expect(changes).toEqual([true, false]);
    expect(lines.filter((line) => line.includes('does not answer'))).toHaveLength(1);
    expect(lines.filter((line) => line.includes('answers again'))).toEqual([]);
    expect(consumer.view()).toMatchObject({ listening: false, lastError: `${action} failed: AccessDenied: not authorized` });
  });

  it('listens again as soon as the queue answers after a ReceiveMessage that failed for a while, not after the next long poll', async () => {
    const { queue, consumer, until, changes } = setup();
    queue.push(new Error('ReceiveMessage failed: ServiceUnavailable'));

    consumer.start();
    // The long poll after the probe has no answer to end it: listening comes from the probe.
    await until(() => changes.length === 3, 'listening again');
    await consumer.stop();

    expect(changes).toEqual([true, false, true]);
  });

  it('does not listen when the queue cannot be read from the start, and says why', async () => {
    const { queue, consumer, until, changes } = setup();
    queue.attributesAnswer = new Error('GetQueueAttributes failed: QueueDoesNotExist: The specified queue does not exist.');

    consumer.start();
    await until(() => changes.length === 1, 'the first failure');
    await consumer.stop();

    expect(changes).toEqual([false]);
    expect(consumer.view().listening).toBe(false);
    expect(consumer.view().lastError).toContain('QueueDoesNotExist');
  });

  it('ends a waiting long poll when stopped', async () => {
    const { queue, consumer, until } = setup();
    consumer.start();
    await until(() => queue.receives === 1, 'a long poll');

    await consumer.stop();

    expect(queue.receives).toBe(1);
  });
});
