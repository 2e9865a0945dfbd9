import { createHash } from 'node:crypto';

/** Which part of the targets one Prometheus server takes: shard `index` of `count`. */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

/** More shards than this is a typo: no setup runs a thousand Prometheus servers on one job. */
export const MAX_SHARDS = 1000;

/**
 * The shard of a target address: the last 8 bytes of its MD5, big-endian, modulo `count`. That
 * is exactly Prometheus' `hashmod` relabeling on `__address__`, so a server that shards with
 * relabeling and one that asks us for `?shard=i&of=n` take the same targets. Each address's
 * shard depends on nothing but the address and the count: adding or removing other targets
 * never moves it.
 */
export function shardOf(address: string, count: number): number {
  const digest = createHash('md5').update(address).digest();
  return Number(digest.readBigUInt64BE(8) % BigInt(count));
}

/** Whether a target address belongs to the shard. */
export const isInShard = (address: string, shard: Shard): boolean => shardOf(address, shard.count) === shard.index;

/** How many of the addresses fall into each shard of `count`. */
export function countByShard(addresses: Iterable<string>, count: number): number[] {
  const counts = new Array<number>(count).fill(0);
  for (const address of addresses) {
    const shard = shardOf(address, count);
    counts[shard] = (counts[shard] ?? 0) + 1;
  }
  return counts;
}

export type ParsedShard = { shard: Shard } | { error: string };

/** `shard` and `of` as a client sends them: whole numbers, 0 ≤ shard < of ≤ MAX_SHARDS. */
export function parseShard(index: string, count: string): ParsedShard {
  const whole = /^\d{1,4}$/;
  if (!whole.test(count) || Number(count) < 1 || Number(count) > MAX_SHARDS) {
    return { error: `of "${count}" is not a number of shards from 1 to ${MAX_SHARDS}` };
  }
  if (!whole.test(index) || Number(index) >= Number(count)) {
    return { error: `shard "${index}" is not a shard number from 0 to ${Number(count) - 1}` };
  }
  return { shard: { index: Number(index), count: Number(count) } };
}
