import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseEventMessage, type EventMessage } from './aws/eventMessages.js';
import type { EventQueue, QueueMessage } from './aws/eventQueue.js';
import { EVENT_OUTCOMES, type EventApplier, type EventOutcome } from './eventApplier.js';
import { describeError } from './errors.js';
import type { EventsView } from './http/statusPage.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';

/** An SQS answer that a retry cannot change: the reader lacks a permission, or cannot use the queue's KMS key. */
const REFUSAL = /AccessDenied|KMS|Kms/;

export interface EventConsumerOptions {
  queue: Pick<EventQueue, 'url' | 'receive' | 'delete' | 'attributes'>;
  applier: Pick<EventApplier, 'apply'>;
  metrics: Metrics;
  logger: Logger;
  /** Seconds between full rounds while the queue answers, and while it does not: for the logs and the status page. */
  resyncSeconds: number;
  intervalSeconds: number;
  /** Told when the queue stops answering (full rounds every interval take over) and when it answers again. */
  onListeningChange?: (listening: boolean) => void;
  /** Told after each batch of messages (the status page shows the counts). */
  onBatch?: () => void;
  /** The wait after a failed call before the next, doubled after each failure in a row up to maxRetryDelayMs. @default 1000 */
  retryDelayMs?: number;
  /** @default 30_000 */
  maxRetryDelayMs?: number;
  now?: () => number;
}

/**
 * Listens to the event queue: long polls it, applies each batch, and deletes what is done with
 * (applied, stale, ignored, unreadable: never retried for ever); what failed to apply is left
 * to come again. When SQS does not answer, it says so once, the full rounds take over at
 * `interval`, and it asks again, less and less often, until SQS answers.
 */
export class EventConsumer {
  readonly #options: EventConsumerOptions;
  readonly #now: () => number;
  readonly #stopping = new AbortController();
  #running: Promise<void> | undefined;
  #listening = false;
  #since: number | undefined;
  #lastError: string | undefined;
  #lastAppliedAt: number | undefined;
  readonly #counts = Object.fromEntries(EVENT_OUTCOMES.map((outcome) => [outcome, 0])) as Record<EventOutcome, number>;
  /** Reasons of ignored events said so far: each is said once. */
  readonly #ignoredReasons = new Set<string>();

  constructor(options: EventConsumerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    // Every call and wait of the events listens to it: many at once, each until it ends (as Loop's).
    setMaxListeners(0, this.#stopping.signal);
  }

  /** The queue answers: full rounds can wait for the resync interval. */
  get listening(): boolean {
    return this.#listening;
  }

  view(): EventsView {
    const { queue, resyncSeconds, intervalSeconds } = this.#options;
    return {
      queueUrl: queue.url,
      listening: this.#listening,
      since: this.#since,
      lastError: this.#lastError,
      counts: { ...this.#counts },
      lastAppliedAt: this.#lastAppliedAt,
      resyncSeconds,
      intervalSeconds,
    };
  }

  /** Starts listening; idempotent. */
  start(): void {
    if (this.#running !== undefined || this.#stopping.signal.aborted) return;
    this.#running = this.#listen(this.#stopping.signal);
  }

  /** Ends the long poll under way at once, and waits for the batch being applied; idempotent. */
  async stop(): Promise<void> {
    this.#stopping.abort(new Error('stopping'));
    await this.#running;
  }

  async #listen(signal: AbortSignal): Promise<void> {
    const { queue, logger, retryDelayMs = 1000, maxRetryDelayMs = 30_000 } = this.#options;
    let delayMs = retryDelayMs;
    let named = false;
    /** At start and after a failure: an answer at once, where a long poll could wait 20 s for one. */
    let probe = true;
    /**
     * The call that the queue last refused (a missing permission, a KMS key the reader cannot
     * use) while GetQueueAttributes answered: that answer then proves nothing. A refused
     * ReceiveMessage is over once one answers; a refused DeleteMessageBatch once a batch is deleted.
     */
    let refused: 'receive' | 'delete' | undefined;
    while (!signal.aborted) {
      let stage: 'probe' | 'receive' | 'delete' = 'probe';
      try {
        if (probe) {
          // Proves that the queue exists and may be read, and names it.
          const attributes = await queue.attributes(signal);
          probe = false;
          if (!named) {
            named = true;
            logger.info('events: listening to the queue', {
              queue: queue.url,
              queue_arn: attributes.arn,
              visibility_timeout_s: attributes.visibilityTimeoutSeconds,
            });
          }
          if (refused === undefined) this.#answered();
        }
        stage = 'receive';
        const messages = await queue.receive(signal);
        stage = 'delete';
        if (messages.length > 0) await this.#handle(messages, signal);
        // Stopping while a batch was applied is no answer.
        if (signal.aborted) break;
        if (messages.length > 0 || refused !== 'delete') {
          refused = undefined;
          this.#answered();
        }
        delayMs = retryDelayMs;
      } catch (error) {
        if (signal.aborted) break;
        if (stage !== 'probe') refused = REFUSAL.test(describeError(error)) ? stage : undefined;
        probe = true;
        this.#unanswered(error);
        await sleep(delayMs, undefined, { signal }).catch(() => {});
        delayMs = Math.min(delayMs * 2, maxRetryDelayMs);
      }
    }
  }

  async #handle(messages: readonly QueueMessage[], signal: AbortSignal): Promise<void> {
    const { applier, queue, metrics, logger } = this.#options;
    const events = messages.map((message) => parseEventMessage(message.body));
    let outcomes: EventOutcome[];
    try {
      outcomes = await applier.apply(events, signal);
    } catch (error) {
      // The applier says per cluster what failed; anything else leaves the whole batch to come again.
      logger.error('events: applying a batch failed', { error: describeError(error) });
      outcomes = events.map(() => 'failed');
    }
    const done: QueueMessage[] = [];
    outcomes.forEach((outcome, index) => {
      const message = messages[index] as QueueMessage;
      const event = events[index] as EventMessage;
      this.#counts[outcome] += 1;
      metrics.events.inc({ outcome });
      if (outcome !== 'failed') done.push(message);
      if (outcome === 'applied') this.#lastAppliedAt = this.#now();
      // Deleted now, so each unreadable message is said once.
      if (event.kind === 'unreadable') logger.warn(`events: message ${message.id} is not an ECS event that can be read; deleted: ${event.reason}`, { message_id: message.id });
      if (event.kind === 'ignored' && !this.#ignoredReasons.has(event.reason)) {
        this.#ignoredReasons.add(event.reason);
        logger.info(`events: ${event.reason}; ignored (the rule may leave them out)`);
      }
    });
    this.#options.onBatch?.();
    if (done.length === 0) return;
    const notDeleted = await queue.delete(done, signal);
    for (const { message, reason } of notDeleted) {
      // It comes again after the visibility timeout, as a duplicate: stale then, and deleted.
      logger.warn(`events: message ${message.id} could not be deleted: ${reason}`, { message_id: message.id });
    }
  }

  #answered(): void {
    if (this.#listening) return;
    const wasDown = this.#lastError !== undefined;
    this.#listening = true;
    this.#since = this.#now();
    this.#lastError = undefined;
    this.#options.metrics.eventsListening.set(1);
    if (wasDown) {
      this.#options.logger.info(`events: the queue answers again; full rounds every ${this.#options.resyncSeconds} s (events.resyncInterval)`, {
        queue: this.#options.queue.url,
      });
    }
    this.#options.onListeningChange?.(true);
  }

  #unanswered(error: unknown): void {
    const reason = describeError(error);
    const changed = this.#listening || this.#lastError === undefined;
    this.#lastError = reason;
    this.#options.metrics.eventsListening.set(0);
    if (!changed) return;
    this.#listening = false;
    this.#since = this.#now();
    this.#options.logger.warn(
      `events: the queue does not answer; full rounds every ${this.#options.intervalSeconds} s (interval) until it does`,
      { queue: this.#options.queue.url, error: reason },
    );
    this.#options.onListeningChange?.(false);
  }
}
