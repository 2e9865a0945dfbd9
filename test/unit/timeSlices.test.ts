import { describe, expect, it } from 'vitest';
import { forEachInSlices, type TimeSlicing } from '../../src/timeSlices.js';

/** A clock that only the work moves, and a record of the slices: when each began and ended. */
function slicedClock(sliceMs: number) {
  let time = 0;
  const slices: { start: number; end: number; items: number }[] = [{ start: 0, end: 0, items: 0 }];
  const current = () => slices[slices.length - 1] as { start: number; end: number; items: number };
  const slicing: TimeSlicing = {
    sliceMs,
    now: () => time,
    giveWay: async () => {
      current().end = time;
      time += 1; // Other work ran meanwhile.
      slices.push({ start: time, end: time, items: 0 });
    },
  };
  const spend = (ms: number) => {
    time += ms;
    current().items += 1;
    current().end = time;
  };
  return { slicing, slices, spend };
}

describe('forEachInSlices', () => {
  it('never holds the event loop longer than a slice when items take alike', async () => {
    // Prepare: 100 items of 3 ms in slices of 10 ms.
    const { slicing, slices, spend } = slicedClock(10);

    // Act
    await forEachInSlices(Array.from({ length: 100 }), () => spend(3), slicing);

    // Assess: every item ran, in slices of 3 items (9 ms), each within the limit.
    expect(slices.reduce((sum, slice) => sum + slice.items, 0)).toBe(100);
    expect(slices.length).toBe(34);
    for (const slice of slices) expect(slice.end - slice.start).toBeLessThanOrEqual(10);
  });

  it('gives way before an item that would take the slice past its limit, after the longest item seen', async () => {
    const { slicing, slices, spend } = slicedClock(10);
    const costs = [2, 2, 6, 2, 2, 2, 2];

    await forEachInSlices(costs, (ms) => spend(ms), slicing);

    // 2+2+6 fills the first slice; from then on each slice keeps room for another 6 ms item.
    expect(slices.map((slice) => slice.items)).toEqual([3, 3, 1]);
    for (const slice of slices) expect(slice.end - slice.start).toBeLessThanOrEqual(10);
  });

  it('gives way right after an item longer than a slice (its length could not be known before), then goes on in slices', async () => {
    const { slicing, slices, spend } = slicedClock(10);

    await forEachInSlices([1, 25, 1, 1, 1, 1, 1, 1, 1], (ms) => spend(ms), slicing);

    // After it, slices keep room for half a slice, not for 25 ms: not one item per slice.
    expect(slices.map((slice) => slice.items)).toEqual([2, 6, 1]);
  });

  it('does not give way at all when everything fits in one slice', async () => {
    const { slicing, slices, spend } = slicedClock(10);

    await forEachInSlices([1, 1, 1], (ms) => spend(ms), slicing);

    expect(slices).toHaveLength(1);
  });
});
