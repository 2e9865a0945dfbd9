import { setMaxListeners } from 'node:events';
import type { Logger } from './log.js';

export interface LoopOptions<T> {
  /** From the start of one round to the start of the next; a function when it changes (see reschedule). */
  intervalMs: number | (() => number);
  /** A round still running after this long is aborted. */
  roundTimeoutMs: number;
  /** Runs one round; must not reject. */
  runRound: (signal: AbortSignal) => Promise<T>;
  logger: Logger;
  now?: () => number;
}

/**
 * Runs rounds, one at a time, each under the round timeout: forever with `start()` (the next
 * starts `intervalMs` after the previous one started, or at once, with a warning, when it ran
 * longer), or a single one with `runOnce()`. `stop()` aborts the running round.
 */
export class Loop<T = unknown> {
  readonly #options: LoopOptions<T>;
  readonly #intervalMs: () => number;
  readonly #now: () => number;
  readonly #stopping = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;
  #rounds = 0;
  /** When the last round started (for reschedule). */
  #lastStartedAt: number | undefined;

  constructor(options: LoopOptions<T>) {
    setMaxListeners(0, this.#stopping.signal);
    this.#options = options;
    const { intervalMs } = options;
    this.#intervalMs = typeof intervalMs === 'function' ? intervalMs : () => intervalMs;
    this.#now = options.now ?? Date.now;
  }

  /** Starts the first round now. */
  start(): void {
    if (this.#stopping.signal.aborted || this.#timer !== undefined || this.#running !== undefined) return;
    this.#schedule(0);
  }

  /** Runs one round under the round timeout and returns its result (`--once`, `check`). */
  runOnce(): Promise<T> {
    const round = this.#runWithDeadline();
    this.#running = round;
    return round.finally(() => {
      this.#running = undefined;
    });
  }

  /**
   * The interval has changed: the round waiting for its turn starts at its new time, counted
   * from the start of the last one (at once when that is past). A running round schedules the
   * next one when it ends, with the interval of then.
   */
  reschedule(): void {
    if (this.#timer === undefined || this.#lastStartedAt === undefined) return;
    clearTimeout(this.#timer);
    this.#schedule(Math.max(0, this.#intervalMs() - (this.#now() - this.#lastStartedAt)));
  }

  /** Aborts the running round and waits for it to end; idempotent. */
  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#stopping.abort(new Error('the process is stopping'));
    await this.#running?.catch(() => {});
  }

  #schedule(delayMs: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#running = this.#round().finally(() => {
        this.#running = undefined;
      });
    }, delayMs);
  }

  async #runWithDeadline(): Promise<T> {
    const { roundTimeoutMs } = this.#options;
    const deadline = new AbortController();
    const deadlineTimer = setTimeout(
      () => deadline.abort(new Error(`round took longer than ${roundTimeoutMs / 1000}s`)),
      roundTimeoutMs,
    );
    const signal = AbortSignal.any([this.#stopping.signal, deadline.signal]);
    // Every AWS request of the round listens to it.
    setMaxListeners(0, signal);
    try {
      return await this.#options.runRound(signal);
    } finally {
      clearTimeout(deadlineTimer);
    }
  }

  async #round(): Promise<void> {
    const { logger } = this.#options;
    const startedAt = this.#now();
    this.#lastStartedAt = startedAt;
    this.#rounds += 1;
    try {
      await this.#runWithDeadline();
    } catch (error) {
      logger.error('round failed unexpectedly', { error: String(error) });
    }
    if (this.#stopping.signal.aborted) return;
    const intervalMs = this.#intervalMs();
    const elapsedMs = this.#now() - startedAt;
    // A first round describes everything and is expected to be long: only later ones are worth a word.
    if (elapsedMs > intervalMs && this.#rounds > 1) {
      logger.warn('round took longer than the interval; starting the next one now (a longer --interval gives each round more time)', {
        duration_ms: elapsedMs,
        interval_ms: intervalMs,
      });
    }
    this.#schedule(Math.max(0, intervalMs - elapsedMs));
  }
}
