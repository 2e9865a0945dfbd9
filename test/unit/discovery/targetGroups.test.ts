import { describe, expect, it } from 'vitest';
import type { Target } from '../../../src/discovery/resolveTargets.js';
import { toFileSdJson, toGroupsByInterval } from '../../../src/discovery/targetGroups.js';

const target = (interval: Target['interval'], address: string, job: string): Target => ({
  interval,
  cluster: 'prod',
  address,
  labels: { instance: address, job },
});

describe('toGroupsByInterval', () => {
  it('puts each target in the group of its interval, one target per group', () => {
    const groups = toGroupsByInterval([target('15s', '127.0.0.1:80', 'a'), target('generic', '127.0.0.2:80', 'b')]);

    expect(groups['15s']).toEqual([{ targets: ['127.0.0.1:80'], labels: { instance: '127.0.0.1:80', job: 'a' } }]);
    expect(groups.generic).toEqual([{ targets: ['127.0.0.2:80'], labels: { instance: '127.0.0.2:80', job: 'b' } }]);
    expect(groups['30s']).toEqual([]);
    expect(groups['1m']).toEqual([]);
    expect(groups['5m']).toEqual([]);
  });

  it('gives the same groups in the same order whatever the input order', () => {
    const targets = [
      target('generic', '127.0.0.3:80', 'c'),
      target('generic', '127.0.0.1:81', 'a'),
      target('generic', '127.0.0.1:80', 'b'),
      target('generic', '127.0.0.1:80', 'a'),
    ];

    const forward = toGroupsByInterval(targets);
    const backward = toGroupsByInterval([...targets].reverse());

    expect(toFileSdJson(forward.generic)).toBe(toFileSdJson(backward.generic));
    expect(forward.generic.map((group) => `${group.targets[0]} ${group.labels['job']}`)).toEqual([
      '127.0.0.1:80 a',
      '127.0.0.1:80 b',
      '127.0.0.1:81 a',
      '127.0.0.3:80 c',
    ]);
  });

  it('drops a target that appears twice with the same labels', () => {
    const groups = toGroupsByInterval([target('1m', '127.0.0.1:80', 'a'), target('1m', '127.0.0.1:80', 'a')]);

    expect(groups['1m']).toHaveLength(1);
  });
});

describe('toFileSdJson', () => {
  it('writes [] for no groups', () => {
    expect(toFileSdJson([])).toBe('[]\n');
  });
});
