export interface CoalescerOptions {
  /** The work. A failure goes to onError. */
  run: () => Promise<void>;
  /** Runs this long after the last ask of a burst... @default 100 */
  quietMs?: number;
  /** ...but no later than this after its first ask, however long the burst. @default 500 */
  maxDelayMs?: number;
  onError?: (error: unknown) => void;
  now?: () => number;
}

/**
 * Runs a piece of work once for a burst of asks: `quietMs` after the last ask, or `maxDelayMs`
 * after the first one, whichever comes first; so 500 asks in a second are a handful of runs, and
 * none waits longer than the bound. Runs never overlap: a burst that comes due while the work
 * runs runs after it. (lodash's debounce has the bound, but neither the exclusion nor a flush
 * that waits for the work.)
 */
export class Coalescer {
  readonly #run: () => Promise<void>;
  readonly #quietMs: number;
  readonly #maxDelayMs: number;
  readonly #onError: (error: unknown) => void;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #firstAskAt: number | undefined;
  /** The last run started, until it ends. */
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor({ run, quietMs = 100, maxDelayMs = 500, onError = () => {}, now = Date.now }: CoalescerOptions) {
    this.#run = run;
    this.#quietMs = quietMs;
    this.#maxDelayMs = maxDelayMs;
    this.#onError = onError;
    this.#now = now;
  }

  /** Asks for a run soon. */
  request(): void {
    if (this.#stopped) return;
    const now = this.#now();
    this.#firstAskAt ??= now;
    clearTimeout(this.#timer);
    const delayMs = Math.max(0, Math.min(this.#quietMs, this.#firstAskAt + this.#maxDelayMs - now));
    this.#timer = setTimeout(() => void this.#fire(), delayMs);
  }

  /** Runs at once what was asked for, and waits until the work has ended. */
  async flush(): Promise<void> {
    if (this.#timer !== undefined) await this.#fire();
    else await this.#running;
  }

  /** No more runs; one under way goes on. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #fire(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#firstAskAt = undefined;
    const previous = this.#running;
    const run = (async () => {
      await previous;
      try {
        await this.#run();
      } catch (error) {
        this.#onError(error);
      }
    })();
    this.#running = run;
    void run.finally(() => {
      if (this.#running === run) this.#running = undefined;
    });
    return run;
  }
}

/** The function, with calls that overlap run one after the other, in the order they came. */
export function oneAtATime<A>(run: (argument: A) => Promise<void>): (argument: A) => Promise<void> {
  let last: Promise<unknown> = Promise.resolve();
  return (argument) => {
    const next = last.then(() => run(argument));
    last = next.catch(() => {});
    return next;
  };
}
