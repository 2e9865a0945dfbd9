/** How a long piece of synchronous work is cut into slices, so that other work runs between them. */
export interface TimeSlicing {
  /** The longest a slice may hold the event loop, in ms. */
  readonly sliceMs: number;
  readonly now: () => number;
  /** Lets other work run (timers, answers, the paced calls), then resolves. */
  readonly giveWay: () => Promise<void>;
}

/**
 * Slices of 10 ms: paced AWS calls go out at most 10 ms late (the issue asks for no more than
 * 50), and a cluster of thousands of tasks still resolves in a few slices.
 */
export const DEFAULT_TIME_SLICING: TimeSlicing = {
  sliceMs: 10,
  now: () => performance.now(),
  giveWay: () => new Promise<void>((resolve) => setImmediate(resolve)),
};

/**
 * Runs `work` on each item in slices of at most `sliceMs`: an item starts in the current slice
 * only if the slice, with the longest item seen so far, stays within it; else other work runs
 * first. So no slice is longer than `sliceMs` unless an item takes longer than every item
 * before it (or than half a slice: a collection of the heap in the middle of one item must not
 * make every later item a slice of its own).
 */
export async function forEachInSlices<T>(items: readonly T[], work: (item: T) => void, { sliceMs, now, giveWay }: TimeSlicing = DEFAULT_TIME_SLICING): Promise<void> {
  let sliceStartedAt = now();
  let itemsInSlice = 0;
  let longestItemMs = 0;
  // One reading of the clock per item: an item starts when the one before it ended.
  let startedAt = sliceStartedAt;
  // By index: a loop of an async function runs mostly unoptimized, where for...of makes a result object per item.
  for (let index = 0; index < items.length; index++) {
    const item = items[index] as T;
    if (itemsInSlice > 0 && startedAt - sliceStartedAt + Math.min(longestItemMs, sliceMs / 2) > sliceMs) {
      await giveWay();
      sliceStartedAt = startedAt = now();
      itemsInSlice = 0;
    }
    work(item);
    itemsInSlice += 1;
    const endedAt = now();
    longestItemMs = Math.max(longestItemMs, endedAt - startedAt);
    startedAt = endedAt;
  }
}
