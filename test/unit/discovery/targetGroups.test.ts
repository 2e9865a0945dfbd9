import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { sortLabels } from '../../../src/discovery/labels.js';
import type { Target } from '../../../src/discovery/resolveTargets.js';
import { INTERVALS } from '../../../src/discovery/endpoints.js';
import {
  mergeGroupsByInterval,
  toAllGroups,
  toFileSdJson,
  toGroupJson,
  toGroupsByInterval,
  toPublishedGroup,
  type GroupsByInterval,
  type TargetGroup,
} from '../../../src/discovery/targetGroups.js';

const target = (interval: Target['interval'], address: string, job: string): Target => ({
  interval,
  cluster: 'prod',
  address,
  labels: { instance: address, job },
});
const published = (...targets: Target[]) => targets.map(toPublishedGroup);
const parsed = (groups: readonly { json: string }[]) => groups.map((group) => JSON.parse(group.json) as TargetGroup);

describe('toPublishedGroup', () => {
  it('gives the group as JSON text, with its interval and cluster', () => {
    const group = toPublishedGroup(target('1m', '127.0.0.1:80', 'a'));

    expect({ interval: group.interval, cluster: group.cluster, json: group.json }).toEqual({
      interval: '1m',
      cluster: 'prod',
      json: '{"targets":["127.0.0.1:80"],"labels":{"instance":"127.0.0.1:80","job":"a"}}',
    });
  });
});

describe('toGroupJson', () => {
  it('writes the labels in sorted order, whatever order they were set in', () => {
    expect(toGroupJson('127.0.0.1:80', { job: 'a', __metrics_path__: '/m', instance: '127.0.0.1:80' })).toBe(
      '{"targets":["127.0.0.1:80"],"labels":{"__metrics_path__":"/m","instance":"127.0.0.1:80","job":"a"}}',
    );
  });

  it('gives the text of the sorted labels for any label set, labels named "targets" or "labels" too', () => {
    const name = fc.oneof(fc.constantFrom('targets', 'labels', 'job', 'instance', '__meta_ecs_x', 'a', 'Z', '_', '0', '9', '10'), fc.string({ maxLength: 8 }));
    fc.assert(
      fc.property(fc.string(), fc.dictionary(name, fc.string(), { maxKeys: 12 }), (address, labels) => {
        expect(toGroupJson(address, labels)).toBe(JSON.stringify({ targets: [address], labels: sortLabels(labels) }));
      }),
    );
    // Labels defined in sorted order, as resolution defines them, give the same text.
    fc.assert(
      fc.property(fc.string(), fc.dictionary(name, fc.string(), { maxKeys: 12 }), (address, labels) => {
        expect(toGroupJson(address, sortLabels(labels))).toBe(JSON.stringify({ targets: [address], labels: sortLabels(labels) }));
      }),
    );
  });

  it('writes labels defined in sorted order as they are, with no list of names (JSON.stringify\'s fast path)', () => {
    const stringify = vi.spyOn(JSON, 'stringify');
    try {
      toGroupJson('127.0.0.1:80', sortLabels({ job: 'a', __metrics_path__: '/m', instance: '127.0.0.1:80' }));
      toGroupJson('127.0.0.1:80', { job: 'a', __metrics_path__: '/m', instance: '127.0.0.1:80' });

      expect(stringify.mock.calls.map((call) => call.length)).toEqual([1, 2]);
    } finally {
      stringify.mockRestore();
    }
  });
});

describe('toGroupsByInterval', () => {
  it('puts each target in the group of its interval, one target per group', () => {
    const groups = toGroupsByInterval(published(target('15s', '127.0.0.1:80', 'a'), target('generic', '127.0.0.2:80', 'b')));

    expect(parsed(groups['15s'])).toEqual([{ targets: ['127.0.0.1:80'], labels: { instance: '127.0.0.1:80', job: 'a' } }]);
    expect(parsed(groups.generic)).toEqual([{ targets: ['127.0.0.2:80'], labels: { instance: '127.0.0.2:80', job: 'b' } }]);
    expect(groups['30s']).toEqual([]);
    expect(groups['1m']).toEqual([]);
    expect(groups['5m']).toEqual([]);
  });

  it('gives the same groups in the same order whatever the input order', () => {
    const targets = published(
      target('generic', '127.0.0.3:80', 'c'),
      target('generic', '127.0.0.1:81', 'a'),
      target('generic', '127.0.0.1:80', 'b'),
      target('generic', '127.0.0.1:80', 'a'),
    );

    const forward = toGroupsByInterval(targets);
    const backward = toGroupsByInterval([...targets].reverse());

    expect(toFileSdJson(forward.generic)).toBe(toFileSdJson(backward.generic));
    expect(parsed(forward.generic).map((group) => `${group.targets[0]} ${group.labels['job']}`)).toEqual([
      '127.0.0.1:80 a',
      '127.0.0.1:80 b',
      '127.0.0.1:81 a',
      '127.0.0.3:80 c',
    ]);
  });

  it('hands out frozen groups: the object, the list of each interval and each group', () => {
    const groups = toGroupsByInterval(published(target('1m', '127.0.0.1:80', 'a')));

    expect(Object.isFrozen(groups)).toBe(true);
    expect(Object.isFrozen(groups['1m'])).toBe(true);
    expect(Object.isFrozen(groups.generic)).toBe(true);
    expect(Object.isFrozen(groups['1m'][0])).toBe(true);
  });

  it('drops a target that appears twice with the same labels', () => {
    const groups = toGroupsByInterval(published(target('1m', '127.0.0.1:80', 'a'), target('1m', '127.0.0.1:80', 'a')));

    expect(groups['1m']).toHaveLength(1);
  });
});

describe('the order of the groups', () => {
  const texts = (groups: GroupsByInterval) => Object.fromEntries(INTERVALS.map((interval) => [interval, groups[interval].map((group) => group.json)]));
  // Addresses that are prefixes of each other, that JSON escapes, with characters before and after the quote.
  const address = fc.oneof(
    fc.constantFrom('127.0.0.1:80', '127.0.0.1:8080', '127.0.0.1:8', '[::1]:80', 'a"b:1', 'a\\b:2', 'a b:3', 'a!b:4', 'a\u0001:5', 'é:6', 'a', 'a#'),
    fc.string({ maxLength: 5 }),
  );
  const targets = fc.array(
    fc.record({
      interval: fc.constantFrom(...INTERVALS),
      cluster: fc.constantFrom('a', 'b'),
      address,
      labels: fc.dictionary(fc.constantFrom('job', 'instance', 'x'), fc.constantFrom('1', '2', '"')),
    }),
    { maxLength: 40 },
  );
  /** What sorting the texts gives: per interval, each text once, in string order. */
  const expected = (all: Target[]) =>
    Object.fromEntries(INTERVALS.map((interval) => [interval, [...new Set(all.filter((one) => one.interval === interval).map((one) => toPublishedGroup(one).json))].sort()]));

  it('is the order of their texts, each text once, for any addresses and labels', () => {
    fc.assert(
      fc.property(targets, (all) => {
        expect(texts(toGroupsByInterval(all.map(toPublishedGroup)))).toEqual(expected(all));
      }),
    );
  });

  it('is the same when the groups of parts are merged as when all are sorted at once', () => {
    fc.assert(
      fc.property(targets, fc.integer({ min: 1, max: 4 }), (all, partCount) => {
        const parts = Array.from({ length: partCount }, (_, part) => toGroupsByInterval(all.filter((_, index) => index % partCount === part).map(toPublishedGroup)));

        expect(texts(mergeGroupsByInterval(parts))).toEqual(expected(all));
      }),
    );
  });

  it('puts every interval\'s groups in one sorted list for the single file', () => {
    fc.assert(
      fc.property(targets, (all) => {
        const byInterval = toGroupsByInterval(all.map(toPublishedGroup));

        expect(toAllGroups(byInterval).map((group) => group.json)).toEqual(Object.values(expected(all)).flat().sort());
      }),
    );
  });
});

describe('toFileSdJson', () => {
  it('writes [] for no groups', () => {
    expect(toFileSdJson([])).toBe('[]\n');
  });

  it('writes a JSON array with one group per line', () => {
    const content = toFileSdJson(published(target('1m', '127.0.0.1:80', 'a'), target('1m', '127.0.0.2:80', 'b')));

    expect(content).toBe(
      '[\n{"targets":["127.0.0.1:80"],"labels":{"instance":"127.0.0.1:80","job":"a"}},\n' +
        '{"targets":["127.0.0.2:80"],"labels":{"instance":"127.0.0.2:80","job":"b"}}\n]\n',
    );
    expect(JSON.parse(content)).toHaveLength(2);
  });
});
