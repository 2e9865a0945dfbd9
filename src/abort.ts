/** An AbortError (as the SDK names its own) that says why, with the signal's reason as cause. */
export function toAbortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  const error = new Error(reason instanceof Error ? reason.message : String(reason), { cause: reason });
  error.name = 'AbortError';
  return error;
}

/** Whether an error is an abort (ours, from toAbortError, or the SDK's own AbortError). */
export const isAbort = (error: unknown): boolean => (error as { name?: string } | undefined)?.name === 'AbortError';

/**
 * The promise's outcome or, as soon as the signal aborts, an AbortError: the waiting stops even
 * when the work behind the promise does not heed the signal at once (a call waiting for its
 * turn, or one that other clusters wait on too and that goes on for them).
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  promise.catch(() => {}); // Once abandoned, its own failure is no news.
  if (signal.aborted) return Promise.reject(toAbortError(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(toAbortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
