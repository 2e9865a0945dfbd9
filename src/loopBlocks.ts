import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** How often the event loop is sampled while a round runs: a block of 50 ms is always seen. */
export const LOOP_SAMPLE_EVERY_MS = 20;

/**
 * The longest the event loop was blocked while a round ran: how late a paced AWS call or an
 * HTTP answer could have been. Sampled only while a round runs: between rounds each sample
 * would wake an idle process (some 0.1 ms of CPU), and nothing of ours runs for long there.
 */
export class LoopBlockWatch {
  readonly #histogram: IntervalHistogram;

  /** `histogram`: Node.js's sampler of the event loop (a test's own, to see it stopped). */
  constructor(histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: LOOP_SAMPLE_EVERY_MS })) {
    this.#histogram = histogram;
  }

  start(): void {
    // reset() also forgets the last sample, so the rest between rounds is not counted as a block.
    this.#histogram.reset();
    this.#histogram.enable();
  }

  /** Stops sampling; the longest block since start(), in seconds (0 when none was seen). */
  stop(): number {
    this.#histogram.disable();
    if (this.#histogram.count === 0) return 0;
    // Node records the time between samples (ns): what passes the sampling period is the block.
    // Whole microseconds, so that /metrics shows 0.00261 and not 0.0026099190000000013.
    const blockedMicroseconds = Math.round(this.#histogram.max / 1000) - LOOP_SAMPLE_EVERY_MS * 1000;
    return Math.max(0, blockedMicroseconds) / 1e6;
  }
}
