import { setMaxListeners } from 'node:events';

/**
 * What rides on the input object of an SDK command, which the SDK hands to every middleware as
 * `args.input` (a paginator sends the one input it was given for every page):
 * - its priority: which AWS calls go first when a bucket makes calls wait, those of the cluster
 *   that was listed first. Clusters are read concurrently, and with a fair queue they would all
 *   finish at the end of a cold round; in this order they finish one after the other, so the
 *   first targets are published early and each cluster's resolution overlaps the calls of the
 *   next. Lower goes first; calls outside any cluster (ListClusters) have priority 0.
 * - whether it may go out together with other paced calls (aws/pacer.ts): in rounds after the
 *   first, whose targets are published only at their end, so that a call waiting a moment for
 *   others delays nothing anyone sees.
 * - its abort signal: here rather than in `send`'s options, because a client sent no options
 *   resolves its middleware stack once per command (the SDK's `cacheMiddleware`) instead of at
 *   every call, some 40 KB and a fraction of a millisecond each. attachCallSignals
 *   (aws/boundedHttpHandler.ts) makes it stop the call.
 *
 * Not AsyncLocalStorage: on Node.js 20 it turns on promise hooks for the whole process, and the
 * SDK's chains of promises then cost some 15 % more CPU in every round.
 */
export interface CallOptions extends CallTurn {
  signal?: AbortSignal | undefined;
}

/** How a call takes its turn when its bucket makes calls wait (see CallOptions). */
export interface CallTurn {
  priority?: number;
  together?: boolean;
}

const optionsByInput = new WeakMap<object, CallOptions>();

/** `input`, marked with the turn and abort signal of its calls. */
export function withCallOptions<Input extends object>(input: Input, options: CallOptions): Input {
  // A signal serves many calls at once, each listening to it until it ends: not a leak.
  if (options.signal !== undefined) setMaxListeners(0, options.signal);
  if ((options.priority ?? 0) !== 0 || options.together === true || options.signal !== undefined) optionsByInput.set(input, options);
  return input;
}

/** The turn marked on a command's input: priority 0, alone, when none was. */
export function callTurnOf(input: unknown): CallTurn {
  return (typeof input === 'object' && input !== null ? optionsByInput.get(input) : undefined) ?? {};
}

/** The abort signal marked on a command's input, if any. */
export function callSignalOf(input: unknown): AbortSignal | undefined {
  return typeof input === 'object' && input !== null ? optionsByInput.get(input)?.signal : undefined;
}
