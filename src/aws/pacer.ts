import pThrottle from 'p-throttle';

/** An ECS-style token bucket: `burst` requests at once, refilled at `perSecond`. */
export interface Bucket {
  burst: number;
  perSecond: number;
}

/**
 * Share of AWS's published bucket that we use. Our view of the bucket is an estimate (request
 * latency varies, and other tools may use the same account), so we stay a little under it.
 */
const HEADROOM = 0.9;

/**
 * Requests of one bucket in flight at once. At 20 ms a call this still allows hundreds of calls
 * a second, far above AWS's sustained rates, but a cold burst no longer holds a hundred parsed
 * answers in memory at the same time.
 */
const MAX_IN_FLIGHT = 8;

export interface PacerOptions {
  bucket: Bucket;
  /** Rejects waiting calls when aborted (shutdown). */
  signal?: AbortSignal;
  now?: () => number;
}

/**
 * Paces calls of one AWS rate-limit bucket, aware of warm-up: while the bucket is (estimated to
 * be) full, calls go at once, so a cold start uses the burst; after that p-throttle spaces them
 * at just under the sustained rate, so that AWS does not throttle us.
 */
export class Pacer {
  readonly #burst: number;
  readonly #perMillisecond: number;
  readonly #now: () => number;
  readonly #throttle: <T>(call: () => Promise<T>) => Promise<T>;
  readonly #queue: { queueSize: number };
  /** Estimated tokens left in AWS's bucket; negative while calls wait for refills. */
  #credit: number;
  #updatedAt: number;
  #inFlight = 0;
  readonly #waitingForSlot: (() => void)[] = [];

  constructor({ bucket, signal, now = Date.now }: PacerOptions) {
    this.#burst = Math.floor(bucket.burst * HEADROOM);
    const perSecond = bucket.perSecond * HEADROOM;
    this.#perMillisecond = perSecond / 1000;
    this.#now = now;
    this.#credit = this.#burst;
    this.#updatedAt = now();
    const throttled = pThrottle({ limit: 1, interval: 1000 / perSecond, strict: true, ...(signal && { signal }) })(
      (call: () => Promise<unknown>) => call(),
    );
    this.#throttle = throttled as <T>(call: () => Promise<T>) => Promise<T>;
    this.#queue = throttled;
  }

  /** Runs `call` now if the burst allows it, else in its paced turn. */
  run<T>(call: () => Promise<T>): Promise<T> {
    const now = this.#now();
    this.#credit = Math.min(this.#burst, this.#credit + (now - this.#updatedAt) * this.#perMillisecond);
    this.#updatedAt = now;
    const direct = this.#credit >= 1 && this.#queue.queueSize === 0;
    this.#credit -= 1;
    // Only the burst needs the in-flight cap: paced calls are already spaced, and holding them
    // for a slot would release them in bunches.
    return direct ? this.#inSlot(call) : this.#throttle(call);
  }

  /** Runs `call` once fewer than MAX_IN_FLIGHT calls are running. */
  async #inSlot<T>(call: () => Promise<T>): Promise<T> {
    while (this.#inFlight >= MAX_IN_FLIGHT) await new Promise<void>((resolve) => this.#waitingForSlot.push(resolve));
    this.#inFlight += 1;
    try {
      return await call();
    } finally {
      this.#inFlight -= 1;
      this.#waitingForSlot.shift()?.();
    }
  }
}
