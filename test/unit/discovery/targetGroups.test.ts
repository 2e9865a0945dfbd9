import { describe, expect, it } from 'vitest';
import type { Target } from '../../../src/discovery/resolveTargets.js';
import { toFileSdJson, toGroupsByInterval, toPublishedGroup, type TargetGroup } from '../../../src/discovery/targetGroups.js';

const target = (interval: Target['interval'], address: string, job: string): Target => ({
  interval,
  cluster: 'prod',
  address,
  labels: { instance: address, job },
});
const published = (...targets: Target[]) => targets.map(toPublishedGroup);
const parsed = (groups: readonly { json: string }[]) => groups.map((group) => JSON.parse(group.json) as TargetGroup);

describe('toPublishedGroup', () => {
  it('holds the group as JSON text, with its interval and cluster', () => {
    expect(toPublishedGroup(target('1m', '127.0.0.1:80', 'a'))).toEqual({
      interval: '1m',
      cluster: 'prod',
      json: '{"targets":["127.0.0.1:80"],"labels":{"instance":"127.0.0.1:80","job":"a"}}',
    });
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
