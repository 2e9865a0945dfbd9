import pThrottle from 'p-throttle';
import type { CallTurn } from '../callOptions.js';

/** An ECS-style token bucket: `burst` requests at once, refilled at `perSecond`. */
export interface Bucket {
  burst: number;
  perSecond: number;
}

/**
 * Share of AWS's sustained rate that we use once the burst is spent: our calls reach AWS later
 * than we count them (latency), which is on our side, so we can pace at almost the full rate.
 * Other clients of the account draw on the same bucket: a throttled answer makes us pause
 * (slowDown), and the SDK's retries remain the backstop.
 */
const RATE_SHARE = 0.97;

/**
 * Tokens of the burst left unused. The paced calls start while the burst's calls are still
 * going out, and a call may reach AWS a little earlier or later than we count it: a few
 * tokens of margin, and the one of the first paced call, which p-throttle sends at once.
 */
const BURST_RESERVE = 4;

/** How long a throttled answer holds back our next calls, in tokens of the bucket's rate. */
const PAUSE_TOKENS = 10;

/**
 * Paced calls marked `together` go out up to this many at once, every as many tokens of the rate
 * (258 ms at 19.4 a second): the same rate, but the process wakes once for a few answers instead
 * of once per call. One by one, a call cost two to three times the CPU of the same call in the
 * burst: our code per task cost the same, the SDK's and Node.js's per request did not (in a
 * profile; CPU caches gone cold between wake-ups are the likely cause). Measured on steady rounds
 * of 50,000 tasks, held to the rate: 55-56 ms per 1,000 tasks one by one, 34-40 five at once.
 * Only marked calls wait for others: in a cold round, a cluster's pages that follow one another
 * would each wait for a group, and its first targets would come later (at 10,000 tasks, 3.3-3.6 s
 * when every call went together, against 1.7-2.1 s one by one).
 */
const PACED_AT_ONCE = 5;

/**
 * Requests of one bucket in flight at once. At 20 ms a call this still allows hundreds of calls
 * a second, far above AWS's sustained rates, but a cold burst no longer holds a hundred parsed
 * answers in memory at the same time.
 */
const MAX_IN_FLIGHT = 8;

interface WaitingCall {
  priority: number;
  together: boolean;
  run: () => Promise<void>;
  reject: (reason: unknown) => void;
}

export interface PacerOptions {
  bucket: Bucket;
  /** Rejects waiting calls when aborted (shutdown). */
  signal?: AbortSignal;
  now?: () => number;
}

/**
 * Paces calls of one AWS rate-limit bucket, aware of warm-up: while the bucket is (estimated to
 * be) full, calls go at once, so a cold start uses the whole burst; after that they are paced at
 * just under the sustained rate, one by one or, those marked `together`, a few at once; no call
 * goes out before our estimate of the bucket has a token for it, so that AWS does not throttle
 * us; when it does anyway, the calls pause before they are paced again.
 */
export class Pacer {
  readonly #burst: number;
  readonly #perMillisecond: number;
  readonly #now: () => number;
  readonly #throttle: <T>(call: () => Promise<T>) => Promise<T>;
  readonly #queue: { queueSize: number };
  /** Estimated tokens left in AWS's bucket, for the calls sent so far; negative during a pause. */
  #credit: number;
  #updatedAt: number;
  #inFlight = 0;
  readonly #waitingForSlot: (() => void)[] = [];
  /** Calls waiting for a paced turn, lowest priority first, then in arrival order: each turn takes the first. */
  readonly #waiting: WaitingCall[] = [];
  /** The paced turns take their tokens one after the other: the last one's. */
  #lastToken: Promise<void> = Promise.resolve();
  readonly #signal: AbortSignal | undefined;
  readonly #pauseTokens: number;

  constructor({ bucket, signal, now = Date.now }: PacerOptions) {
    // The burst (the bucket is full when we start, or our estimate of it says so), but for a margin.
    this.#burst = Math.max(0, bucket.burst - BURST_RESERVE);
    const perSecond = bucket.perSecond * RATE_SHARE;
    this.#pauseTokens = PAUSE_TOKENS * RATE_SHARE;
    this.#signal = signal;
    this.#perMillisecond = perSecond / 1000;
    this.#now = now;
    this.#credit = this.#burst;
    this.#updatedAt = now();
    // Not strict: p-throttle's strict mode would space the calls of a group one by one.
    const throttled = pThrottle({ limit: PACED_AT_ONCE, interval: (PACED_AT_ONCE * 1000) / perSecond, ...(signal && { signal }) })(
      (call: () => Promise<unknown>) => call(),
    );
    this.#throttle = throttled as <T>(call: () => Promise<T>) => Promise<T>;
    this.#queue = throttled;
  }

  /** Runs `call` now if the burst allows it, else in a paced turn: the turns go to the lowest `priority` first. */
  run<T>(call: () => Promise<T>, { priority = 0, together = false }: CallTurn = {}): Promise<T> {
    this.#refill();
    const direct = this.#credit >= 1 && this.#waiting.length === 0 && this.#queue.queueSize === 0;
    if (!direct) return this.#paced(call, priority, together);
    this.#credit -= 1;
    // Only the burst needs the in-flight cap: paced calls are already spaced, and holding them
    // for a slot would release them in bunches.
    return this.#inSlot(call);
  }

  /**
   * AWS throttled a call of this bucket: someone else draws on it too. We take it to be empty,
   * and hold our next calls back for a while before pacing them again.
   */
  slowDown(): void {
    this.#refill();
    this.#credit = Math.min(this.#credit, 0) - this.#pauseTokens;
  }

  #refill(): void {
    const now = this.#now();
    this.#credit = Math.min(this.#burst, this.#credit + (now - this.#updatedAt) * this.#perMillisecond);
    this.#updatedAt = now;
  }

  /**
   * p-throttle times the turns (one per call, so their number is right) but serves them in
   * arrival order; which call a turn runs is chosen when it comes: the first waiting one.
   */
  #paced<T>(call: () => Promise<T>, priority: number, together: boolean): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const waiting: WaitingCall = { priority, together, run: () => call().then(resolve, reject), reject };
      const index = this.#waiting.findIndex((other) => other.priority > priority);
      this.#waiting.splice(index === -1 ? this.#waiting.length : index, 0, waiting);
      // An aborted signal rejects the turn without running it: the call it would have taken is told so.
      const turn = () => this.#takeToken().then(() => this.#waiting.shift()?.run());
      this.#throttle(turn).catch((error: unknown) => this.#waiting.shift()?.reject(error));
    });
  }

  /**
   * Waits until our estimate of the bucket has a token, and takes it. p-throttle's spacing alone
   * does not know of the calls the burst sent just before, nor of a pause.
   */
  #takeToken(): Promise<void> {
    const token = this.#lastToken.then(async () => {
      this.#refill();
      // Short of a token: wait for one, then, when the first waiting call may go together, for
      // one per such call waiting by then. Whole milliseconds, rounded up: a wait cut short by a
      // fraction of a token would leave the last call of a group short.
      let wanted = 1;
      while (this.#credit < wanted) {
        await this.#wait(Math.ceil((wanted - this.#credit) / this.#perMillisecond));
        this.#refill();
        const group = this.#groupSize();
        if (group <= wanted) break;
        wanted = group;
      }
      this.#credit -= 1;
    });
    this.#lastToken = token.catch(() => {});
    return token;
  }

  /**
   * How many calls the next paced turns may send at once: the waiting calls marked `together`,
   * up to PACED_AT_ONCE, if the first waiting call is one of them; never more than the burst,
   * since the estimate holds no more tokens than that.
   */
  #groupSize(): number {
    if (this.#waiting[0]?.together !== true) return 1;
    let size = 0;
    for (const waiting of this.#waiting) {
      if (waiting.together) size += 1;
      if (size === PACED_AT_ONCE) break;
    }
    return Math.min(size, this.#burst);
  }

  #wait(ms: number): Promise<void> {
    const signal = this.#signal;
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason as Error);
      };
      // The listener goes with the wait: the signal lives as long as the process.
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
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
