import { setMaxListeners } from 'node:events';
import type { Readable } from 'node:stream';
import type { HttpHandler, HttpRequest, HttpResponse } from '@smithy/core/protocols';
import { NodeHttpHandler, type NodeHttpHandlerOptions } from '@smithy/node-http-handler';
import { untilAborted } from '../abort.js';
import { callSignalOf } from '../callOptions.js';
import { AnswerTooLargeError, RequestTimeoutError } from '../errors.js';
import type { ClientWithMiddleware } from './clientMiddleware.js';

/** Far above any real answer (a DescribeTasks page of 100 tasks is well under 1 MB). */
export const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

type HandleOptions = NonNullable<Parameters<NodeHttpHandler['handle']>[1]>;

export interface BoundedHttpHandlerOptions extends Omit<NodeHttpHandlerOptions, 'requestTimeout' | 'throwOnRequestTimeout'> {
  /** The whole answer, headers and body, must have arrived this many ms after the request went out. */
  requestTimeoutMs: number;
  /** The most bytes one answer's body may have. @default MAX_ANSWER_BYTES (64 MB) */
  maxAnswerBytes?: number;
}

const MB = 1024 * 1024;
const toSeconds = (ms: number) => `${ms / 1000} s`;
const toSize = (bytes: number) => (bytes % MB === 0 ? `${bytes / MB} MB` : `${bytes} bytes`);

/** The SDK's own AbortError (name, message, cause), as a request aborted in the handler has always read (callers of a client get attachCallSignals' first). */
function toAbortError(signal: AbortSignal): Error {
  const error = new Error('Request aborted', { cause: signal.reason });
  error.name = 'AbortError';
  return error;
}

/** Each request's abort signal, from its command's input (callOptions.ts), for the handler. */
const requestSignals = new WeakMap<object, AbortSignal>();

/**
 * Makes the abort signal a command's input carries (callOptions.ts) stop its call, as a signal
 * in `send`'s options would:
 * - around the whole call (initialize step, first): the caller is released at once, also while
 *   the SDK's retry strategy waits before another attempt (it only heeds a signal from options);
 * - with each request (deserialize step, the last before the handler: signing has made the
 *   request object the handler gets by then, and each attempt passes here), so that the handler
 *   abandons it. An attempt after an abort is stopped before it is paced in the clients with
 *   our instrumentation (instrumentation.ts); in the others the handler rejects it unsent.
 * The caller's AbortError then says the abort's reason (abort.ts), not the SDK's "Request aborted".
 */
export function attachCallSignals(client: ClientWithMiddleware): void {
  client.middlewareStack.remove('ecsDiscovererCallAbort');
  client.middlewareStack.remove('ecsDiscovererCallSignal');
  client.middlewareStack.add(
    (next: (args: { input: unknown }) => Promise<unknown>) => (args: { input: unknown }) => {
      const signal = callSignalOf(args.input);
      return signal === undefined ? next(args) : untilAborted(next(args), signal);
    },
    { step: 'initialize', priority: 'high', name: 'ecsDiscovererCallAbort' },
  );
  client.middlewareStack.add(
    (next: (args: { input: unknown; request: unknown }) => Promise<unknown>) => (args: { input: unknown; request: unknown }) => {
      const signal = callSignalOf(args.input);
      if (signal !== undefined && typeof args.request === 'object' && args.request !== null) requestSignals.set(args.request, signal);
      return next(args);
    },
    { step: 'deserialize', priority: 'low', name: 'ecsDiscovererCallSignal' },
  );
}

/**
 * The SDK's NodeHttpHandler (with all its settings: agents, connection and socket timeouts),
 * bounded: the SDK's own requestTimeout stops counting once the headers are in, so a body that
 * drips a byte a second, or never ends, could hold a round for good and fill the memory. Here
 * one deadline covers headers and body, and the body is read here, counting bytes, before the
 * SDK sees it. A request past its deadline fails with a TimeoutError, which the SDK's retry
 * strategy retries as it does any timeout; an answer larger than the cap is abandoned
 * (AnswerTooLargeError, not retried); an abort of the caller fails the request with the SDK's AbortError.
 */
export class BoundedHttpHandler implements HttpHandler<NodeHttpHandlerOptions> {
  readonly metadata = { handlerProtocol: 'http/1.1' };
  readonly #inner: NodeHttpHandler;
  readonly #requestTimeoutMs: number;
  readonly #maxAnswerBytes: number;

  constructor({ requestTimeoutMs, maxAnswerBytes = MAX_ANSWER_BYTES, ...options }: BoundedHttpHandlerOptions) {
    this.#inner = new NodeHttpHandler(options);
    this.#requestTimeoutMs = requestTimeoutMs;
    this.#maxAnswerBytes = maxAnswerBytes;
  }

  async handle(request: HttpRequest, options: HandleOptions = {}): Promise<{ response: HttpResponse }> {
    // The caller's signal rides on the request (attachCallSignals); the SDK's type of options also allows an older interface.
    const caller = requestSignals.get(request) ?? (options.abortSignal instanceof AbortSignal ? options.abortSignal : undefined);
    // One controller for the caller's abort and the deadline, not AbortSignal.any: on Node.js 20 that
    // keeps weak references and a finalization registration for each call, which showed in profiles of steady rounds.
    const aborter = new AbortController();
    let expired = false;
    const timer = setTimeout(() => {
      expired = true;
      aborter.abort(new RequestTimeoutError(`no complete answer within ${toSeconds(this.#requestTimeoutMs)} (aws.requestTimeout)`));
    }, this.#requestTimeoutMs);
    const onCallerAbort = () => aborter.abort(caller?.reason);
    if (caller?.aborted) onCallerAbort();
    else if (caller !== undefined) {
      // A round's signal serves hundreds of calls at once, a listener each: no leak, each is removed when its call ends.
      setMaxListeners(0, caller);
      caller.addEventListener('abort', onCallerAbort, { once: true });
    }
    const signal = aborter.signal;
    try {
      // requestTimeout 0: the inner handler's own timer would cover the headers only.
      const { response } = await this.#inner.handle(request, { ...options, abortSignal: signal, requestTimeout: 0 });
      response.body = await this.#readBody(response.body, signal);
      return { response };
    } catch (error) {
      if (expired && !caller?.aborted) throw signal.reason;
      throw error;
    } finally {
      clearTimeout(timer);
      caller?.removeEventListener('abort', onCallerAbort);
    }
  }

  /** The whole body, read under the deadline and the size cap; the stream is destroyed on either. */
  #readBody(body: unknown, signal: AbortSignal): Promise<Uint8Array> {
    if (body instanceof Uint8Array) return Promise.resolve(body);
    if (body === undefined || body === null) return Promise.resolve(new Uint8Array());
    const stream = body as Readable;
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const stopListening = () => {
        signal.removeEventListener('abort', onAbort);
        stream.off('data', onData);
        stream.off('end', onEnd);
        stream.off('error', onError);
      };
      const abandon = (error: Error) => {
        stopListening();
        chunks.length = 0;
        stream.on('error', () => {}); // What the destroyed socket says next is no news.
        stream.destroy();
        reject(error);
      };
      const onAbort = () => abandon(toAbortError(signal));
      const onData = (chunk: Buffer) => {
        size += chunk.length;
        if (size > this.#maxAnswerBytes) abandon(new AnswerTooLargeError(`answer larger than ${toSize(this.#maxAnswerBytes)}: abandoned while reading`));
        else chunks.push(chunk);
      };
      const onEnd = () => {
        stopListening();
        resolve(Buffer.concat(chunks));
      };
      const onError = (error: Error) => {
        stopListening();
        reject(error);
      };
      if (signal.aborted) {
        onAbort();
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });
      stream.on('data', onData);
      stream.on('end', onEnd);
      stream.on('error', onError);
    });
  }

  updateHttpClientConfig(key: keyof NodeHttpHandlerOptions, value: NodeHttpHandlerOptions[typeof key]): void {
    this.#inner.updateHttpClientConfig(key, value);
  }

  httpHandlerConfigs(): NodeHttpHandlerOptions {
    return this.#inner.httpHandlerConfigs();
  }

  destroy(): void {
    this.#inner.destroy();
  }
}
