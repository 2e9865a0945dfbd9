import { createSqsClient } from './aws/clients.js';
import { EventQueue, WAIT_TIME_SECONDS, regionOfQueueUrl } from './aws/eventQueue.js';
import { createInstrumentation } from './aws/instrumentation.js';
import type { Config } from './config.js';
import { TaskVersions } from './discovery/taskEvents.js';
import type { Discoverer } from './discoverer.js';
import { EventApplier, type EventReader } from './eventApplier.js';
import { EventConsumer } from './eventConsumer.js';
import { describeError } from './errors.js';
import type { EventsView } from './http/statusPage.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';
import type { RoundReport } from './round.js';

export interface EventListeningOptions {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  /** The process's stop: SQS calls listen to it. */
  signal: AbortSignal;
}

export interface EventListeningParts {
  readers: readonly EventReader[];
  discoverer: Pick<Discoverer, 'hasCluster' | 'refreshCluster' | 'publishLatest'>;
  /** The queue stopped or started answering: the time to the next full round changed. */
  onListeningChange: () => void;
  /** A batch was handled: what the status page shows changed. */
  onBatch?: () => void;
}

/**
 * Event-driven discovery (events.queueUrl, `serve` only): ECS task state changes come through an
 * SQS queue and are published within a second; full rounds become the safety net, every
 * events.resyncInterval while the queue answers and every interval while it does not. The SQS
 * client is loaded only here.
 */
export class EventListening {
  /** The newest version seen of each task: shared by the readers (what they describe) and the applier (what events say). */
  readonly versions = new TaskVersions();
  readonly #options: EventListeningOptions;
  #started = false;
  #consumer: EventConsumer | undefined;
  #applier: EventApplier | undefined;
  /** The last full round failed, or left a cluster never read: events cannot fill that in. */
  #lastRoundLeftGaps = false;

  constructor(options: EventListeningOptions) {
    this.#options = options;
  }

  /**
   * From the start of one full round to the start of the next, now: `interval` also after a
   * round that read nothing, or left a cluster never read: events cannot repair a cluster that
   * has no state (at start, /targets or /-/ready would wait a resync interval).
   */
  roundIntervalMs(): number {
    const { interval, events } = this.#options.config;
    return (this.#consumer?.listening === true && !this.#lastRoundLeftGaps ? events.resyncInterval : interval) * 1000;
  }

  /** How the last full round went: after a failed one, or one with clusters never read, the next comes at `interval`. */
  noteRound({ outcome, unreadClusters }: Pick<RoundReport, 'outcome' | 'unreadClusters'>): void {
    this.#lastRoundLeftGaps = outcome === 'failed' || unreadClusters.length > 0;
  }

  /**
   * Starts listening, once. Called after the first round: an event about a cluster that no round
   * has read has no state to change yet, and the queue keeps it meanwhile.
   */
  start(parts: EventListeningParts): void {
    if (this.#started || this.#options.signal.aborted) return;
    this.#started = true;
    this.#start(parts).catch((error: unknown) => {
      this.#options.logger.error('events: could not start listening; full rounds every interval', { error: describeError(error) });
    });
  }

  /** What the status page shows; undefined before listening starts. */
  view(): EventsView | undefined {
    return this.#consumer?.view();
  }

  /** Ends the long poll at once, and publishes what was applied but not published yet. */
  async stop(): Promise<void> {
    await this.#consumer?.stop();
    await this.#applier?.flush();
  }

  async #start({ readers, discoverer, onListeningChange, onBatch }: EventListeningParts): Promise<void> {
    const { config, logger, metrics, signal } = this.#options;
    const url = config.events.queueUrl;
    const client = await createSqsClient({
      // The queue's own region, when its URL says it.
      region: regionOfQueueUrl(url) ?? config.aws.regions[0],
      maxAttempts: config.aws.maxAttempts,
      retryMode: config.aws.retryMode,
      // A long poll waits up to WAIT_TIME_SECONDS for its answer, by design.
      requestTimeoutMs: (WAIT_TIME_SECONDS + config.aws.requestTimeout) * 1000,
    });
    // Counted and timed like every AWS call; not paced: SQS calls draw on no ECS bucket.
    createInstrumentation(metrics, signal, logger).attach(client);
    if (signal.aborted) return;
    this.#applier = new EventApplier({ readers, discoverer, versions: this.versions, logger });
    this.#consumer = new EventConsumer({
      queue: new EventQueue({ client, url }),
      applier: this.#applier,
      metrics,
      logger,
      resyncSeconds: config.events.resyncInterval,
      intervalSeconds: config.interval,
      onListeningChange,
      ...(onBatch && { onBatch }),
    });
    this.#consumer.start();
  }
}
