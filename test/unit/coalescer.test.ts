import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Coalescer, oneAtATime } from '../../src/coalescer.js';

const T0 = 1_000_000;

/** Work that takes `durationMs` (fake time) and records when each run started and ended. */
function recordingWork(durationMs = 0) {
  const runs: { start: number; end: number }[] = [];
  let running = 0;
  let overlapped = false;
  const run = async () => {
    running += 1;
    if (running > 1) overlapped = true;
    const start = Date.now() - T0;
    await new Promise((resolve) => setTimeout(resolve, durationMs));
    runs.push({ start, end: Date.now() - T0 });
    running -= 1;
  };
  return { runs, run, overlapped: () => overlapped };
}

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Coalescer', () => {
  it('runs once, quietMs after the last ask of a short burst', async () => {
    const work = recordingWork();
    const coalescer = new Coalescer({ run: work.run, quietMs: 100, maxDelayMs: 500 });

    coalescer.request();
    await vi.advanceTimersByTimeAsync(30);
    coalescer.request();
    await vi.advanceTimersByTimeAsync(1000);

    expect(work.runs.map((run) => run.start)).toEqual([130]);
  });

  it('makes a handful of runs of a burst of 500 asks over a second, none later than maxDelayMs after an ask', async () => {
    // Prepare
    const work = recordingWork(20);
    const coalescer = new Coalescer({ run: work.run, quietMs: 100, maxDelayMs: 500 });
    const asks: number[] = [];

    // Act
    for (let index = 0; index < 500; index++) {
      asks.push(Date.now() - T0);
      coalescer.request();
      await vi.advanceTimersByTimeAsync(2);
    }
    await vi.advanceTimersByTimeAsync(2000);

    // Assess
    expect(work.runs.length).toBeGreaterThanOrEqual(2);
    expect(work.runs.length).toBeLessThanOrEqual(3);
    for (const ask of asks) {
      const served = work.runs.find((run) => run.start >= ask);
      expect(served, `ask at ${ask} ms`).toBeDefined();
      expect((served?.start ?? Infinity) - ask).toBeLessThanOrEqual(500);
    }
  });

  it('never runs twice at once: a burst due while the work runs runs after it', async () => {
    const work = recordingWork(300);
    const coalescer = new Coalescer({ run: work.run, quietMs: 10, maxDelayMs: 50 });

    coalescer.request();
    await vi.advanceTimersByTimeAsync(100);
    coalescer.request();
    await vi.advanceTimersByTimeAsync(1000);

    expect(work.overlapped()).toBe(false);
    expect(work.runs).toEqual([
      { start: 10, end: 310 },
      { start: 310, end: 610 },
    ]);
  });

  it('runs at once on flush, and waits for the work', async () => {
    const work = recordingWork(50);
    const coalescer = new Coalescer({ run: work.run, quietMs: 100, maxDelayMs: 500 });
    coalescer.request();

    const flushed = coalescer.flush();
    await vi.advanceTimersByTimeAsync(50);
    await flushed;

    expect(work.runs).toEqual([{ start: 0, end: 50 }]);
  });

  it('reports a failed run and runs again on the next ask', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const coalescer = new Coalescer({
      run: async () => {
        calls += 1;
        if (calls === 1) throw new Error('disk full');
      },
      onError: (error) => errors.push(error),
    });

    coalescer.request();
    await vi.advanceTimersByTimeAsync(200);
    coalescer.request();
    await vi.advanceTimersByTimeAsync(200);

    expect(calls).toBe(2);
    expect(errors).toEqual([new Error('disk full')]);
  });

  it('runs no more once stopped', async () => {
    const work = recordingWork();
    const coalescer = new Coalescer({ run: work.run });

    coalescer.request();
    coalescer.stop();
    coalescer.request();
    await vi.advanceTimersByTimeAsync(1000);

    expect(work.runs).toEqual([]);
  });
});

describe('oneAtATime', () => {
  it('runs overlapping calls one after the other, in the order they came, a failure included', async () => {
    // Prepare
    const events: string[] = [];
    const publish = oneAtATime(async (name: string) => {
      events.push(`start ${name}`);
      await new Promise((resolve) => setTimeout(resolve, name === 'a' ? 100 : 10));
      events.push(`end ${name}`);
      if (name === 'b') throw new Error('b failed');
    });

    // Act
    const a = publish('a');
    const b = publish('b');
    const c = publish('c');
    await vi.advanceTimersByTimeAsync(200);

    // Assess
    await expect(a).resolves.toBeUndefined();
    await expect(b).rejects.toThrow('b failed');
    await expect(c).resolves.toBeUndefined();
    expect(events).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });
});
