/**
 * One copy of each string that many records repeat: a task definition's ARN in each of its
 * thousands of tasks, a container instance's in each task on it, groups, zones, container
 * names. Each answer from AWS brings copies of its own; records keep the pooled one.
 */
export class StringPool {
  readonly #strings = new Map<string, string>();
  readonly #max: number;

  /** @param max distinct strings kept; past them the pool starts afresh (what it handed out stays valid). @default 100_000 */
  constructor(max = 100_000) {
    this.#max = max;
  }

  get size(): number {
    return this.#strings.size;
  }

  /** The pooled copy of `text`; undefined stays undefined. */
  intern<T extends string | undefined>(text: T): T {
    if (text === undefined) return text;
    const pooled = this.#strings.get(text);
    if (pooled !== undefined) return pooled as T;
    if (this.#strings.size >= this.#max) this.#strings.clear();
    this.#strings.set(text, text);
    return text;
  }
}

/** No pooling: each string as it came. */
export const NO_POOL: Pick<StringPool, 'intern'> = { intern: (text) => text };
