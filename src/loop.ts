import { setMaxListeners } from 'node:events';
import type { Logger } from './log.js';

export interface LoopOptions {
  /** From the start of one round to the start of the next. */
  intervalMs: number;
  /** A round still running after this long is aborted. */
  roundTimeoutMs: number;
  /** Runs one round; must not reject. */
  runRound: (signal: AbortSignal) => Promise<unknown>;
  logger: Logger;
  now?: () => number;
}

/**
 * Runs rounds forever, one at a time: the next starts `intervalMs` after the previous one
 * started, or at once (with a warning) when it ran longer. `stop()` aborts the running round.
 */
export class Loop {
  readonly #options: LoopOptions;
  readonly #now: () => number;
  readonly #stopping = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(options: LoopOptions) {
    setMaxListeners(0, this.#stopping.signal);
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Starts the first round now. */
  start(): void {
    if (this.#stopping.signal.aborted || this.#timer !== undefined || this.#running !== undefined) return;
    this.#schedule(0);
  }

  /** Aborts the running round and waits for it to end; idempotent. */
  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#stopping.abort(new Error('stopping'));
    await this.#running;
  }

  #schedule(delayMs: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#running = this.#round().finally(() => {
        this.#running = undefined;
      });
    }, delayMs);
  }

  async #round(): Promise<void> {
    const { intervalMs, roundTimeoutMs, logger } = this.#options;
    const startedAt = this.#now();
    const deadline = new AbortController();
    const deadlineTimer = setTimeout(
      () => deadline.abort(new Error(`round took longer than ${roundTimeoutMs / 1000}s`)),
      roundTimeoutMs,
    );
    const signal = AbortSignal.any([this.#stopping.signal, deadline.signal]);
    // Every AWS request of the round listens to it.
    setMaxListeners(0, signal);
    try {
      await this.#options.runRound(signal);
    } catch (error) {
      logger.error('round failed unexpectedly', { error: String(error) });
    } finally {
      clearTimeout(deadlineTimer);
    }
    if (this.#stopping.signal.aborted) return;
    const elapsedMs = this.#now() - startedAt;
    if (elapsedMs > intervalMs) {
      logger.warn('round took longer than the interval; starting the next one now', {
        duration_ms: elapsedMs,
        interval_ms: intervalMs,
      });
    }
    this.#schedule(Math.max(0, intervalMs - elapsedMs));
  }
}
