import { performance } from 'node:perf_hooks';

/** Holds the event loop for `ms`, as a long synchronous step would. */
export function blockLoopFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy on purpose
  }
}

/** Lets the timers that are due run (the event loop sampler's among them, in the order they fell due). */
export const afterDueTimers = () => new Promise<void>((resolve) => setTimeout(resolve, 0));
