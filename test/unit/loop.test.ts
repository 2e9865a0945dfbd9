import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Logger } from '../../src/log.js';
import { Loop } from '../../src/loop.js';

const T0 = 1_000_000;

/** A round that takes `durationMs` (fake time), or until aborted. */
function recordingRounds(durationMs: number) {
  const starts: number[] = [];
  const signals: AbortSignal[] = [];
  let running = 0;
  let overlapped = false;
  const runRound = async (signal: AbortSignal) => {
    starts.push(Date.now() - T0);
    signals.push(signal);
    running += 1;
    if (running > 1) overlapped = true;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, durationMs);
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    running -= 1;
  };
  return { starts, signals, runRound, overlapped: () => overlapped };
}

const warnings: string[] = [];
const logger: Logger = { debug() {}, info() {}, warn: (message) => warnings.push(message), error() {} };

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
  warnings.length = 0;
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Loop', () => {
  it('asks an interval given as a function each time, and reschedules the waiting round when it changes', async () => {
    // Prepare: rounds every 10 s (events heard); at 2.5 s the queue stops answering: every 1 s.
    const rounds = recordingRounds(100);
    let intervalMs = 10_000;
    const loop = new Loop({ intervalMs: () => intervalMs, roundTimeoutMs: 10_000, runRound: rounds.runRound, logger });

    // Act
    loop.start();
    await vi.advanceTimersByTimeAsync(2500);
    intervalMs = 1000;
    loop.reschedule();
    await vi.advanceTimersByTimeAsync(2000);
    intervalMs = 10_000;
    loop.reschedule();
    await vi.advanceTimersByTimeAsync(12_000);
    await loop.stop();

    // Assess: at once when the new interval is past, then 1 s apart, then 10 s again.
    expect(rounds.starts).toEqual([0, 2500, 3500, 4500, 14_500]);
  });

  it('starts a round at once, then each round an interval after the previous one started', async () => {
    const rounds = recordingRounds(400);
    const loop = new Loop({ intervalMs: 1000, roundTimeoutMs: 10_000, runRound: rounds.runRound, logger });

    loop.start();
    await vi.advanceTimersByTimeAsync(3500);
    await loop.stop();

    expect(rounds.starts).toEqual([0, 1000, 2000, 3000]);
    expect(warnings).toEqual([]);
  });

  it('never overlaps rounds, and starts the next at once with a warning when one after the first runs long', async () => {
    const rounds = recordingRounds(2500);
    const loop = new Loop({ intervalMs: 1000, roundTimeoutMs: 10_000, runRound: rounds.runRound, logger });

    loop.start();
    await vi.advanceTimersByTimeAsync(6000);
    await loop.stop();

    // "At once" is the next timer tick: within a few milliseconds.
    expect(rounds.starts.map((start) => Math.round(start / 100) * 100)).toEqual([0, 2500, 5000]);
    expect(rounds.overlapped()).toBe(false);
    // The first round describes everything: it is expected to be long, and is not warned of.
    expect(warnings).toEqual([
      'round took longer than the interval; starting the next one now (a longer --interval gives each round more time)',
    ]);
  });

  it('runs a single round under the round timeout with runOnce, and returns its result', async () => {
    let seen: AbortSignal | undefined;
    const loop = new Loop({
      intervalMs: 1000,
      roundTimeoutMs: 5000,
      runRound: async (signal) => {
        seen = signal;
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
        return 'aborted round';
      },
      logger,
    });

    const result = loop.runOnce();
    await vi.advanceTimersByTimeAsync(5001);

    expect(await result).toBe('aborted round');
    expect(String(seen?.reason)).toContain('round took longer than 5s');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(warnings).toEqual([]);
  });

  it('aborts a round that runs past the round timeout', async () => {
    const rounds = recordingRounds(60_000);
    const loop = new Loop({ intervalMs: 15_000, roundTimeoutMs: 5000, runRound: rounds.runRound, logger });

    loop.start();
    await vi.advanceTimersByTimeAsync(5001);

    expect(rounds.signals[0]?.aborted).toBe(true);
    expect(String(rounds.signals[0]?.reason)).toContain('round took longer than 5s');
    await loop.stop();
  });

  it('stops mid-round: aborts the round, waits for it, and starts no other', async () => {
    const rounds = recordingRounds(60_000);
    const loop = new Loop({ intervalMs: 1000, roundTimeoutMs: 120_000, runRound: rounds.runRound, logger });
    loop.start();
    await vi.advanceTimersByTimeAsync(10);

    await loop.stop();
    await loop.stop();
    await vi.advanceTimersByTimeAsync(10_000);

    expect(rounds.signals[0]?.aborted).toBe(true);
    expect(rounds.starts).toEqual([0]);
  });

  it('keeps going after a round that rejects', async () => {
    let calls = 0;
    const errors: string[] = [];
    const loop = new Loop({
      intervalMs: 1000,
      roundTimeoutMs: 10_000,
      runRound: async () => {
        calls += 1;
        throw new Error('bug');
      },
      logger: { ...logger, error: (message) => errors.push(message) },
    });

    loop.start();
    await vi.advanceTimersByTimeAsync(2500);
    await loop.stop();

    expect(calls).toBe(3);
    expect(errors).toHaveLength(3);
  });
});
