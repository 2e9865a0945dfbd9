import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Pacer, type Bucket } from '../../../src/aws/pacer.js';
import type { CallTurn } from '../../../src/callOptions.js';

const bucket: Bucket = { burst: 100, perSecond: 20 };

/** Starts `count` calls through the pacer and records when each one actually ran. */
function startCalls(pacer: Pacer, count: number, turn?: CallTurn) {
  const startedAt: number[] = [];
  const done = Promise.all(
    Array.from({ length: count }, () =>
      pacer.run(async () => {
        startedAt.push(Date.now());
      }, turn),
    ),
  );
  return { startedAt, done };
}

/** Replays start times against AWS's token bucket (full at `origin`); returns how many would be throttled. */
function throttledBy({ burst, perSecond }: Bucket, startedAt: number[], origin: number): number {
  let tokens = burst;
  let last = origin;
  let throttled = 0;
  for (const at of [...startedAt].sort((a, b) => a - b)) {
    tokens = Math.min(burst, tokens + ((at - last) / 1000) * perSecond);
    last = at;
    if (tokens < 1) throttled += 1;
    else tokens -= 1;
  }
  return throttled;
}

/**
 * Spends the burst, has AWS throttle a call, then starts `count` calls: how many of them ran
 * within 499 ms (the pause is ten tokens of the rate, 500 ms), and all of them once run.
 */
async function callsAfterThrottle(count: number, turn?: CallTurn) {
  const pacer = new Pacer({ bucket });
  const cold = startCalls(pacer, 100);
  await vi.runAllTimersAsync();
  await cold.done;

  pacer.slowDown();
  const after = startCalls(pacer, count, turn);
  await vi.advanceTimersByTimeAsync(499);
  const duringPause = after.startedAt.length;
  await vi.runAllTimersAsync();
  await after.done;
  return { duringPause, after };
}

/** One token of the paced rate (97 % of 20 a second), in whole milliseconds: 52. */
const ONE_TOKEN_MS = Math.ceil(1000 / (20 * 0.97));

/** A pacer whose burst the calls of a cold start have spent (all but its reserve). */
async function pacerPastItsBurst(): Promise<Pacer> {
  const pacer = new Pacer({ bucket });
  const cold = startCalls(pacer, 96);
  await vi.advanceTimersByTimeAsync(0);
  await cold.done;
  return pacer;
}

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Pacer', () => {
  it('lets a cold start use all but a few tokens of the burst at once, and no more than the burst', async () => {
    const pacer = new Pacer({ bucket });

    const { startedAt, done } = startCalls(pacer, 120);
    await vi.advanceTimersByTimeAsync(0);

    expect(startedAt.length).toBeGreaterThanOrEqual(bucket.burst - 4);
    expect(startedAt.length).toBeLessThanOrEqual(bucket.burst);
    await vi.runAllTimersAsync();
    await done;
  });

  it('paces the calls after the burst just under the sustained rate', async () => {
    const pacer = new Pacer({ bucket });

    const { startedAt, done } = startCalls(pacer, 190);
    await vi.runAllTimersAsync();
    await done;

    const afterBurst = startedAt.slice(bucket.burst);
    const gaps = afterBurst.slice(1).map((at, index) => at - (afterBurst[index] as number));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(Math.floor(1000 / (20 * 0.97)));
    // 93 paced calls at 19.4 per second: about 4.8 s (fake time), against AWS's bound of (190 - 100) / 20 = 4.5 s.
    expect((startedAt.at(-1) as number) - 1_000_000).toBeLessThan(4900);
  });

  it('paces the calls marked together five at once, at the same rate', async () => {
    const pacer = new Pacer({ bucket });

    const { startedAt, done } = startCalls(pacer, 190, { together: true });
    await vi.runAllTimersAsync();
    await done;

    const paced = startedAt.filter((at) => at > 1_000_000);
    const groups = [...new Set(paced)].map((at) => ({ at, size: paced.filter((other) => other === at).length }));
    expect(Math.max(...groups.map((group) => group.size))).toBe(5);
    // Each group waits for a token per call of it at 19.4 a second: no more calls than the rate allows.
    for (const [index, group] of groups.slice(1).entries()) {
      expect(group.at - (groups[index] as { at: number }).at).toBeGreaterThanOrEqual(Math.floor((group.size * 1000) / (20 * 0.97)));
    }
    expect((startedAt.at(-1) as number) - 1_000_000).toBeLessThan(4900);
  });

  it('does not hold a lone call marked together back for others', async () => {
    const pacer = await pacerPastItsBurst();

    // One call alone waits for one token of the rate, not five.
    const lone = startCalls(pacer, 1, { together: true });
    await vi.advanceTimersByTimeAsync(ONE_TOKEN_MS);
    expect(lone.startedAt).toHaveLength(1);
    await lone.done;
  });

  it('does not hold a call not marked together back for a group', async () => {
    const pacer = await pacerPastItsBurst();

    // First in line (priority 0 against 1), it waits for one token, though five calls marked together wait behind it.
    const grouped = startCalls(pacer, 5, { priority: 1, together: true });
    const alone = startCalls(pacer, 1, { priority: 0 });
    await vi.advanceTimersByTimeAsync(ONE_TOKEN_MS);
    expect(alone.startedAt).toHaveLength(1);
    expect(grouped.startedAt).toHaveLength(0);
    await vi.runAllTimersAsync();
    await Promise.all([alone.done, grouped.done]);
  });

  it.each([
    ['one by one', undefined],
    ['together', { together: true }],
  ])('never sends more than the token bucket allows, %s', async (_name, turn) => {
    const pacer = new Pacer({ bucket });

    const first = startCalls(pacer, 250, turn);
    await vi.advanceTimersByTimeAsync(3000);
    // Calls of both kinds wait at the same time: those of a round, and an event's.
    const second = startCalls(pacer, 150, turn);
    const other = startCalls(pacer, 20, { together: turn === undefined });
    await vi.runAllTimersAsync();
    await Promise.all([first.done, second.done, other.done]);

    expect(throttledBy(bucket, [...first.startedAt, ...second.startedAt, ...other.startedAt], 1_000_000)).toBe(0);
  });

  it('pauses its calls after a throttled answer, and paces them again after that', async () => {
    const { duringPause, after } = await callsAfterThrottle(3);

    // Ten tokens of the rate: 500 ms.
    expect(duringPause).toBe(0);
    expect(after.startedAt.length).toBe(3);
  });

  it('holds calls marked together back for the pause too, and then sends them in groups', async () => {
    const { duringPause, after } = await callsAfterThrottle(10, { together: true });

    expect(duringPause).toBe(0);
    expect(new Set(after.startedAt).size).toBeLessThan(10);
  });

  it('has its burst again after a quiet period', async () => {
    const pacer = new Pacer({ bucket });
    const cold = startCalls(pacer, 90);
    await vi.runAllTimersAsync();
    await cold.done;

    await vi.advanceTimersByTimeAsync(10_000);
    const rested = startCalls(pacer, 90);
    await vi.advanceTimersByTimeAsync(0);

    expect(rested.startedAt.length).toBeGreaterThanOrEqual(90);
    await rested.done;
  });

  it('rejects waiting calls when its signal aborts', async () => {
    const stop = new AbortController();
    const pacer = new Pacer({ bucket: { burst: 1, perSecond: 1 }, signal: stop.signal });
    const first = pacer.run(async () => {});
    await vi.advanceTimersByTimeAsync(2000);
    await first;

    const waiting = pacer.run(async () => 'ran');
    stop.abort(new Error('stopping'));

    await expect(waiting).rejects.toThrow('stopping');
  });

  it('gives the paced turns to the lowest priority first, in arrival order within one priority', async () => {
    // A burst of 4 leaves no token once the reserve is kept: every call waits for a paced turn.
    const pacer = new Pacer({ bucket: { burst: 4, perSecond: 20 } });
    const order: string[] = [];
    const calls = [
      ['a', 2],
      ['b', 1],
      ['c', 2],
      ['d', 0],
      ['e', 1],
    ] as const;

    const done = Promise.all(calls.map(([name, priority]) => pacer.run(async () => void order.push(name), { priority })));
    await vi.runAllTimersAsync();
    await done;

    // Every turn waits for a token, so all five are waiting when the first is chosen.
    expect(order).toEqual(['d', 'b', 'e', 'a', 'c']);
  });

  it('rejects every waiting call of whatever priority when its signal aborts, and runs none of them', async () => {
    const stop = new AbortController();
    const pacer = new Pacer({ bucket: { burst: 1, perSecond: 1 }, signal: stop.signal });
    const first = pacer.run(async () => {});
    await vi.advanceTimersByTimeAsync(2000);
    await first;
    let ran = 0;

    const waiting = [3, 0, 1].map((priority) => pacer.run(async () => void (ran += 1), { priority }));
    stop.abort(new Error('stopping'));

    for (const call of waiting) await expect(call).rejects.toThrow('stopping');
    expect(ran).toBe(0);
    await expect(pacer.run(async () => 'late')).rejects.toThrow('stopping');
  });
});
