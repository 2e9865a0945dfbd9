import { performance } from 'node:perf_hooks';
import { LOOP_SAMPLE_EVERY_MS } from '../../src/loopBlocks.js';

/** Holds the event loop for `ms`, as a long synchronous step would. */
export function blockLoopFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy on purpose
  }
}

/**
 * Lets the event loop sampler take its sample first, whatever the machine's speed. libuv runs
 * overdue timers in the order they fell due, and Node.js sets a timer from the loop's cached time,
 * which may be from before a block: a timer of 0 ms may then fall due before the sampler's, one
 * of a sampling period and 1 ms cannot (the sampler's is at most a period after that time).
 */
export const afterLoopSample = () => new Promise<void>((resolve) => setTimeout(resolve, LOOP_SAMPLE_EVERY_MS + 1));
