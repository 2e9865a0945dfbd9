import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countByShard, isInShard, parseShard, shardOf } from '../../../src/discovery/shards.js';

/** 10,000 distinct loopback addresses, as a fleet of that size has. */
const addresses = Array.from({ length: 10_000 }, (_, index) => `127.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}:${9000 + (index % 7)}`);

describe('shardOf', () => {
  it.each([
    // Worked out apart from this code (Python's hashlib: int.from_bytes(md5(address)[8:], 'big') % count),
    // the way Prometheus' hashmod relabeling computes it on __address__.
    ['127.0.0.1:9100', [0, 1, 0]],
    ['[::1]:9464', [1, 2, 7]],
    ['127.0.10.1:32768', [1, 2, 7]],
  ])('puts %s where Prometheus hashmod does, for 2, 3 and 10 shards', (address, expected) => {
    expect([shardOf(address, 2), shardOf(address, 3), shardOf(address, 10)]).toEqual(expected);
  });

  it('gives each address the same shard whatever the other targets: adding 10 % more moves none', () => {
    const before = new Map(addresses.map((address) => [address, shardOf(address, 4)]));
    const more = [...addresses, ...Array.from({ length: 1_000 }, (_, index) => `127.200.${index >> 8}.${index & 255}:9100`)];
    const after = new Map(more.map((address) => [address, shardOf(address, 4)]));
    expect([...before].filter(([address, shard]) => after.get(address) !== shard)).toEqual([]);
  });

  it('spreads 10,000 targets within ±5 % of an even share, for 2, 3, 4 and 5 shards', () => {
    for (let count = 2; count <= 5; count++) {
      const even = addresses.length / count;
      for (const share of countByShard(addresses, count)) expect(Math.abs(share - even) / even).toBeLessThan(0.05);
    }
  });

  it('puts every address in exactly one shard', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 1, max: 50 }), (address, count) => {
        const owners = Array.from({ length: count }, (_, index) => index).filter((index) => isInShard(address, { index, count }));
        expect(owners).toEqual([shardOf(address, count)]);
      }),
    );
  });
});

describe('parseShard', () => {
  it('reads a shard and a count', () => {
    expect(parseShard('1', '2')).toEqual({ shard: { index: 1, count: 2 } });
  });

  it.each([
    ['2', '2', 'shard "2" is not a shard number from 0 to 1'],
    ['-1', '2', 'shard "-1" is not a shard number from 0 to 1'],
    ['0', '0', 'of "0" is not a number of shards from 1 to 1000'],
    ['0', '1001', 'of "1001" is not a number of shards from 1 to 1000'],
    ['a', '2', 'shard "a" is not a shard number from 0 to 1'],
    ['0', '2.5', 'of "2.5" is not a number of shards from 1 to 1000'],
  ])('rejects shard=%s&of=%s', (index, count, error) => {
    expect(parseShard(index, count)).toEqual({ error });
  });
});
