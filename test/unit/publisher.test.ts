import { describe, expect, it } from 'vitest';
import { toStaticPublishedGroups } from '../../src/discovery/staticGroups.js';
import { toPublishedGroup, type PublishedGroup } from '../../src/discovery/targetGroups.js';
import { silentLogger } from '../../src/log.js';
import { Publisher } from '../../src/publisher.js';
import type { Snapshot } from '../../src/round.js';

const ecsGroup = toPublishedGroup({ interval: '15s', cluster: 'prod', address: '127.0.0.2:9100', labels: { job: 'node' } });
const snapshot = (groups: PublishedGroup[]): Snapshot =>
  Object.freeze({ finishedAt: 1, clusters: [], groups: { generic: [], '15s': groups, '30s': [], '1m': [], '5m': [] } });

describe('Publisher', () => {
  it('publishes a round with the static targets, and again with the same round when only they change', async () => {
    let staticGroups: readonly PublishedGroup[] = toStaticPublishedGroups('a.json', [{ targets: ['127.0.0.9:9187'], labels: {} }]);
    const published: Snapshot[] = [];
    const publisher = new Publisher({ publish: async (given) => void published.push(given), staticGroups: () => staticGroups, logger: silentLogger });

    await publisher.publishRound(snapshot([ecsGroup]));
    staticGroups = [];
    await publisher.republish();

    expect(published.map((given) => [given.groups['15s'].length, given.groups.generic.map((group) => group.staticFile)])).toEqual([
      [1, ['a.json']],
      [1, []],
    ]);
    expect(Object.isFrozen(published[0])).toBe(true);
  });

  it('publishes nothing on a static change before the first round (the round will carry them)', async () => {
    const published: Snapshot[] = [];
    const publisher = new Publisher({ publish: async (given) => void published.push(given), staticGroups: () => [], logger: silentLogger });
    await publisher.republish();
    expect(published).toEqual([]);
  });

  it('runs publications one at a time, in order, even when one fails', async () => {
    const events: string[] = [];
    let release: () => void = () => {};
    const first = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    const publisher = new Publisher({
      publish: async (given) => {
        calls += 1;
        const call = calls;
        events.push(`start ${call}`);
        if (call === 1) await first;
        events.push(`end ${call}`);
        if (call === 2) throw new Error('disk full');
        void given;
      },
      logger: silentLogger,
    });

    const one = publisher.publishRound(snapshot([ecsGroup]));
    const two = publisher.publishRound(snapshot([]));
    const three = publisher.republish();
    release();
    await one;
    await expect(two).rejects.toThrow('disk full');
    await three;

    expect(events).toEqual(['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
  });
});
