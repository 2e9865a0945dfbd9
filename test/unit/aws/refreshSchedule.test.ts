import { describe, expect, it } from 'vitest';
import { RefreshSchedule } from '../../../src/aws/refreshSchedule.js';

/** The tasks due in each of `rounds` readings of a cluster, each due count described at once. */
function dueOver(schedule: RefreshSchedule, clusterArn: string, rounds: number, cached: number, share: number): number[] {
  return Array.from({ length: rounds }, () => {
    const due = schedule.due(clusterArn, cached, share);
    schedule.spend(clusterArn, due);
    return due;
  });
}

describe('RefreshSchedule', () => {
  it('gives whole calls only, once their worth is owed', () => {
    const schedule = new RefreshSchedule(100);

    expect(dueOver(schedule, 'a', 16, 250, 12.5)).toEqual([0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 0, 0, 0, 0, 100]);
  });

  it('takes the whole cluster as the call when it is smaller than a call', () => {
    const schedule = new RefreshSchedule(100);

    expect(dueOver(schedule, 'a', 8, 8, 2)).toEqual([0, 0, 0, 8, 0, 0, 0, 8]);
  });

  it('counts a sum of fractions that falls a hair short of a whole call as that call', () => {
    const schedule = new RefreshSchedule(100);

    // 0.1 × 10 is 0.9999999999999999 in binary floating point.
    expect(dueOver(schedule, 'a', 10, 1, 0.1).at(-1)).toBe(1);
  });

  it('takes off what rode along in calls that went anyway', () => {
    const schedule = new RefreshSchedule(100);
    schedule.due('a', 250, 50);
    schedule.spend('a', 97);

    expect(dueOver(schedule, 'a', 2, 250, 50)).toEqual([0, 100]);
  });

  it('owes never more than every task: with a refresh shorter than the interval, the whole cluster every round', () => {
    const schedule = new RefreshSchedule(100);

    expect(dueOver(schedule, 'a', 3, 8, 12)).toEqual([8, 8, 8]);
  });

  it('gives the whole cluster, not whole calls of it, when every task is owed', () => {
    const schedule = new RefreshSchedule(100);

    expect(dueOver(schedule, 'a', 2, 250, 250)).toEqual([250, 250]);
  });

  it('starts each new cluster at another point of the cycle, so that clusters alike refresh in different rounds', () => {
    const schedule = new RefreshSchedule(100);
    const firstDue = Array.from({ length: 10 }, (_, index) => dueOver(schedule, `c${index}`, 20, 5, 0.25).indexOf(5));

    expect(new Set(firstDue).size).toBe(10);
    expect(firstDue.every((round) => round >= 0)).toBe(true);
  });

  it('starts a cluster again from its own point when it comes back after it was forgotten', () => {
    const schedule = new RefreshSchedule(100);
    dueOver(schedule, 'a', 3, 100, 40);
    schedule.retain(new Set(['b']));

    // Forgotten: nothing owed carries over, and the next start is the second cluster's point (0.618 of a call).
    expect(schedule.due('a', 100, 40)).toBe(100);
  });

  it('owes nothing to a cluster with no cached task', () => {
    const schedule = new RefreshSchedule(100);

    expect(dueOver(schedule, 'a', 3, 0, 0)).toEqual([0, 0, 0]);
  });
});
