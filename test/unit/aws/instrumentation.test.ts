import { Readable } from 'node:stream';
import { ECSClient, ListClustersCommand, ServerException, paginateListTasks } from '@aws-sdk/client-ecs';
import type { RetryStrategyV2, RetryToken } from '@smithy/types';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { attachCallSignals } from '../../../src/aws/boundedHttpHandler.js';
import { attemptOf, createInstrumentation, toOutcome } from '../../../src/aws/instrumentation.js';
import { Pacer } from '../../../src/aws/pacer.js';
import { withCallOptions } from '../../../src/callOptions.js';
import { createMetrics } from '../../../src/metrics.js';

/** An ECS client whose requests are answered, in turn, by `answers` (status and AWS JSON error type), never by the network. */
function clientAnswering(answers: { status: number; type?: string }[], retryStrategy?: RetryStrategyV2) {
  const attempts: string[] = [];
  const client = new ECSClient({
    ...(retryStrategy && { retryStrategy }),
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake' },
    maxAttempts: 3,
    requestHandler: {
      handle: async (request: { headers: Record<string, string> }) => {
        attempts.push(request.headers['amz-sdk-request'] ?? '');
        const answer = answers.shift() ?? { status: 200 };
        const body = answer.type === undefined ? '{"clusterArns":[]}' : JSON.stringify({ __type: answer.type, message: 'fake' });
        return {
          response: { statusCode: answer.status, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: Readable.from([body]) },
        };
      },
    },
  });
  return { client, attempts };
}

const counted = async (metrics: ReturnType<typeof createMetrics>) =>
  Object.fromEntries((await metrics.apiCalls.get()).values.map((value) => [`${value.labels.action} ${value.labels.outcome}`, value.value]));

describe('toOutcome', () => {
  it.each([
    { name: 'no error', error: undefined, expected: 'ok' },
    { name: 'ThrottlingException', error: Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }), expected: 'throttled' },
    { name: 'EC2 RequestLimitExceeded', error: Object.assign(new Error('limit'), { name: 'RequestLimitExceeded' }), expected: 'throttled' },
    { name: 'HTTP 429', error: Object.assign(new Error('x'), { name: 'Whatever', $metadata: { httpStatusCode: 429 } }), expected: 'throttled' },
    { name: 'a throttling trait', error: Object.assign(new Error('x'), { name: 'Odd', $retryable: { throttling: true } }), expected: 'throttled' },
    { name: 'ServerException', error: new ServerException({ message: 'boom', $metadata: { httpStatusCode: 500 } }), expected: 'error' },
    { name: 'a network error', error: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), expected: 'error' },
    { name: 'a thrown string', error: 'weird', expected: 'error' },
  ])('classifies $name as $expected', ({ error, expected }) => {
    expect(toOutcome(error)).toBe(expected);
  });
});

describe('attemptOf', () => {
  it.each([
    { what: 'attempt=1; max=5', request: { headers: { 'amz-sdk-request': 'attempt=1; max=5' } }, expected: 1 },
    { what: 'attempt=3; max=5', request: { headers: { 'amz-sdk-request': 'attempt=3; max=5' } }, expected: 3 },
    { what: 'no amz-sdk-request header', request: { headers: {} }, expected: 1 },
    { what: 'no request', request: undefined, expected: 1 },
  ])('reads attempt $expected from $what', ({ request, expected }) => {
    expect(attemptOf(request)).toBe(expected);
  });
});

describe('createInstrumentation', () => {
  it('counts every attempt by outcome, and the retries, the way the SDK retried them', async () => {
    // Prepare
    const metrics = createMetrics();
    const instrumentation = createInstrumentation(metrics);
    const { client, attempts } = clientAnswering([{ status: 400, type: 'ThrottlingException' }, { status: 500, type: 'ServerException' }, { status: 200 }]);
    instrumentation.attach(client);

    // Act
    await client.send(new ListClustersCommand({}));

    // Assess
    expect(attempts.map((header) => /attempt=(\d)/.exec(header)?.[1])).toEqual(['1', '2', '3']);
    expect(await counted(metrics)).toEqual({ 'ListClusters throttled': 1, 'ListClusters error': 1, 'ListClusters ok': 1 });
    expect((await metrics.apiRetries.get()).values).toEqual([{ labels: { action: 'ListClusters' }, value: 2 }]);
    expect(instrumentation.requests).toBe(3);
  });

  it('counts an answer the SDK does not retry as one error', async () => {
    const metrics = createMetrics();
    const instrumentation = createInstrumentation(metrics);
    const { client } = clientAnswering([{ status: 400, type: 'AccessDeniedException' }]);
    instrumentation.attach(client);

    await expect(client.send(new ListClustersCommand({}))).rejects.toThrow();

    expect(await counted(metrics)).toEqual({ 'ListClusters error': 1 });
    expect((await metrics.apiRetries.get()).values).toEqual([]);
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('hands the pacer the turn marked on a call\'s input, on every page of a listing; unmarked calls go at 0, alone', async () => {
    // Prepare: ListTasks answers two pages, ListClusters one.
    const paced = vi.spyOn(Pacer.prototype, 'run');
    const instrumentation = createInstrumentation(createMetrics());
    const client = new ECSClient({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake' },
      requestHandler: {
        handle: async (request: { headers: Record<string, string>; body?: string }) => {
          const firstPage = request.headers['x-amz-target']?.endsWith('ListTasks') && (JSON.parse(request.body ?? '{}') as { nextToken?: string }).nextToken === undefined;
          const body = firstPage ? '{"taskArns":[],"nextToken":"page-2"}' : '{"taskArns":[],"clusterArns":[]}';
          return { response: { statusCode: 200, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: Readable.from([body]) } };
        },
      },
    });
    instrumentation.attach(client);

    // Act
    let pages = 0;
    for await (const page of paginateListTasks({ client }, withCallOptions({ cluster: 'prod' }, { priority: 3, together: true }))) pages += page.taskArns === undefined ? 0 : 1;
    await client.send(new ListClustersCommand({}));

    // Assess
    expect(pages).toBe(2);
    expect(paced.mock.calls.map(([, turn]) => `${turn?.priority ?? 0} ${turn?.together ?? false}`)).toEqual(['3 true', '3 true', '0 false']);
  });

  /** A retry strategy whose wait before the second attempt lasts until the test ends it. */
  function retryWaitingForTheTest() {
    let endWait!: () => void;
    let waiting!: () => void;
    const waitStarted = new Promise<void>((resolve) => (waiting = resolve));
    // The SDK's retrying ends with a success, or with an error it does not retry (as the standard strategy's).
    const state = { ended: false };
    const token = (count: number): RetryToken => ({ getRetryCount: () => count, getRetryDelay: () => 0 });
    const retryStrategy: RetryStrategyV2 = {
      acquireInitialRetryToken: async () => token(0),
      refreshRetryTokenForRetry: (_token, { errorType }) => {
        if (errorType !== 'THROTTLING') {
          state.ended = true;
          return Promise.reject(new Error('not retried'));
        }
        waiting();
        return new Promise((resolve) => (endWait = () => resolve(token(1))));
      },
      recordSuccess: () => {
        state.ended = true;
      },
    };
    return { retryStrategy, waitStarted, endWait: () => endWait(), retryingEnded: () => state.ended };
  }

  /** A call sent through the instrumentation, its first answer a throttle, and what it ended with. */
  function throttledCall(options: { callSignal?: AbortSignal; instrumentationSignal?: AbortSignal }) {
    const retrying = retryWaitingForTheTest();
    const { client, attempts } = clientAnswering([{ status: 400, type: 'ThrottlingException' }], retrying.retryStrategy);
    attachCallSignals(client);
    const metrics = createMetrics();
    createInstrumentation(metrics, options.instrumentationSignal).attach(client);
    const outcome: { error?: Error } = {};
    client.send(new ListClustersCommand(withCallOptions({}, { ...(options.callSignal && { signal: options.callSignal }) }))).then(
      () => (outcome.error = new Error('expected a rejection')),
      (reason: unknown) => (outcome.error = reason as Error),
    );
    return { ...retrying, attempts, metrics, outcome };
  }

  it('stops a call aborted while the SDK waits to retry: its caller at once, its next attempt before it is paced or sent', async () => {
    const round = new AbortController();
    const call = throttledCall({ callSignal: round.signal });
    await call.waitStarted;

    // Act: aborted while the SDK waits; the wait ends only after the caller has its answer.
    round.abort(new Error('round stopped'));
    await expect.poll(() => call.outcome.error).toBeDefined();
    call.endWait();

    // Assess: the SDK's second attempt is stopped before it is counted, paced or sent.
    expect(call.outcome.error).toMatchObject({ name: 'AbortError', message: 'round stopped' });
    await expect.poll(() => call.retryingEnded()).toBe(true);
    expect((await call.metrics.apiRetries.get()).values).toEqual([]);
    expect(call.attempts).toHaveLength(1);
    expect(await counted(call.metrics)).toEqual({ 'ListClusters throttled': 1 });
  });

  it('sends no attempt once its own signal is aborted (shutdown, or the end of a one-round run), even of a call whose caller still waits', async () => {
    // A call shared by clusters that all failed outlives them, on the round's signal: a
    // one-round run that exits after its round must not have it send a retry meanwhile.
    const stopping = new AbortController();
    const call = throttledCall({ instrumentationSignal: stopping.signal });
    await call.waitStarted;

    stopping.abort(new Error('the round is over'));
    call.endWait();

    await expect.poll(() => call.outcome.error).toBeDefined();
    expect(call.outcome.error).toMatchObject({ name: 'AbortError', message: 'the round is over' });
    expect(call.attempts).toHaveLength(1);
    expect(await counted(call.metrics)).toEqual({ 'ListClusters throttled': 1 });
  });

  it('sends no call that was waiting for a free slot of its bucket when its signal is aborted', async () => {
    const stopping = new AbortController();
    const sent: (() => void)[] = [];
    let handled = 0;
    const client = new ECSClient({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake' },
      maxAttempts: 1,
      requestHandler: {
        handle: async () => {
          handled += 1;
          // Held until the test answers them; any request after the abort is answered at once.
          if (!stopping.signal.aborted) await new Promise<void>((resolve) => sent.push(resolve));
          return { response: { statusCode: 200, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: Readable.from(['{"clusterArns":[]}']) } };
        },
      },
    });
    const instrumentation = createInstrumentation(createMetrics(), stopping.signal);
    instrumentation.attach(client);
    // More calls than a bucket has requests in flight at once (8): the last ones wait for a slot.
    const calls = Array.from({ length: 10 }, () => client.send(new ListClustersCommand({})).then(() => 'answered', (error: Error) => error.name));
    await expect.poll(() => sent.length).toBe(8);

    stopping.abort(new Error('the round is over'));
    for (const answer of sent.splice(0)) answer();

    expect(await Promise.all(calls)).toEqual([...Array<string>(8).fill('answered'), 'AbortError', 'AbortError']);
    expect(handled).toBe(8);
    expect(instrumentation.requests).toBe(8);
  });

  it('tells when no request is in flight: at once when idle, else once the last one has ended', async () => {
    const instrumentation = createInstrumentation(createMetrics());
    let entered: () => void = () => {};
    const inFlight = new Promise<void>((resolve) => (entered = resolve));
    let answer: () => void = () => {};
    const answered = new Promise<void>((resolve) => (answer = resolve));
    const client = new ECSClient({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake' },
      requestHandler: {
        handle: async () => {
          entered();
          await answered;
          return { response: { statusCode: 200, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: Readable.from(['{"clusterArns":[]}']) } };
        },
      },
    });
    instrumentation.attach(client);
    await instrumentation.settled();

    const call = client.send(new ListClustersCommand({}));
    await inFlight;
    let settled = false;
    const whenSettled = instrumentation.settled().then(() => (settled = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);

    answer();
    await call;
    await whenSettled;
    expect(settled).toBe(true);
  });
});
