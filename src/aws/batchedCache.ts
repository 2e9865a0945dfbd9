import { LRUCache } from 'lru-cache';

/** Fetches a batch of keys; keys it does not return were not found. */
export type BatchFetcher<V> = (keys: string[]) => Promise<Map<string, V>>;

export interface CacheCounters {
  hit(count: number): void;
  miss(count: number): void;
}

export interface BatchedCacheOptions<V> {
  /** Most entries kept; the least recently used go first. */
  max: number;
  /** Most keys per fetch (AWS's batch limit of the describe call). */
  batchSize: number;
  /**
   * How long a fetched value may be kept, in ms: undefined keeps it until evicted, 0 not at all
   * (a PENDING task must be described again). @default () => undefined
   */
  ttlOf?: (value: V) => number | undefined;
  counters?: CacheCounters;
}

function toChunks<T>(items: T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
  return chunks;
}

/**
 * An LRU cache of immutable AWS objects in front of a batch describe call: misses are fetched in
 * chunks of `batchSize`, and a key that is already being fetched is awaited, not fetched again.
 */
export class BatchedCache<V extends object> {
  readonly #cache: LRUCache<string, V>;
  readonly #inFlight = new Map<string, Promise<V | undefined>>();
  readonly #batchSize: number;
  readonly #ttlOf: (value: V) => number | undefined;
  readonly #counters: CacheCounters | undefined;

  constructor({ max, batchSize, ttlOf = () => undefined, counters }: BatchedCacheOptions<V>) {
    // Bounded by count through maxSize, not max: lru-cache allocates `max` slots up front (some
    // 1.2 MB for 50,000), maxSize grows with what is cached.
    this.#cache = new LRUCache({ maxSize: max, sizeCalculation: () => 1 });
    this.#batchSize = batchSize;
    this.#ttlOf = ttlOf;
    this.#counters = counters;
  }

  get size(): number {
    return this.#cache.size;
  }

  delete(key: string): void {
    this.#cache.delete(key);
  }

  /** Keeps a value learnt otherwise than by fetching it (an event told it), as a fetch would. */
  set(key: string, value: V): void {
    const ttl = this.#ttlOf(value);
    if (ttl !== 0) this.#cache.set(key, value, ttl === undefined ? {} : { ttl });
  }

  /** The values of `keys` that exist; rejects when a fetch fails. */
  async getMany(keys: Iterable<string>, fetch: BatchFetcher<V>): Promise<Map<string, V>> {
    const found = new Map<string, V>();
    const waiting: [string, Promise<V | undefined>][] = [];
    const missing: string[] = [];
    for (const key of new Set(keys)) {
      const cached = this.#cache.get(key);
      if (cached !== undefined) found.set(key, cached);
      else if (this.#inFlight.has(key)) waiting.push([key, this.#inFlight.get(key) as Promise<V | undefined>]);
      else missing.push(key);
    }
    this.#counters?.hit(found.size);
    this.#counters?.miss(missing.length);

    for (const chunk of toChunks(missing, this.#batchSize)) {
      const batch = fetch(chunk).then((values) => {
        for (const [key, value] of values) {
          const ttl = this.#ttlOf(value);
          if (ttl !== 0) this.#cache.set(key, value, ttl === undefined ? {} : { ttl });
        }
        return values;
      });
      const forget = () => chunk.forEach((key) => this.#inFlight.delete(key));
      batch.then(forget, forget);
      for (const key of chunk) {
        const value = batch.then((values) => values.get(key));
        this.#inFlight.set(key, value);
        waiting.push([key, value]);
      }
    }

    const settled = await Promise.allSettled(waiting.map(([, value]) => value));
    const failure = settled.find((result) => result.status === 'rejected');
    if (failure) throw failure.reason;
    waiting.forEach(([key], index) => {
      const result = settled[index];
      if (result?.status === 'fulfilled' && result.value !== undefined) found.set(key, result.value);
    });
    return found;
  }
}
