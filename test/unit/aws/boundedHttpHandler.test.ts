import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ECSClient, ListClustersCommand } from '@aws-sdk/client-ecs';
import { HttpRequest } from '@smithy/core/protocols';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BoundedHttpHandler } from '../../../src/aws/boundedHttpHandler.js';
import { createEc2Client, createEcsClient, createSqsClient, createSsmClient, type ClientSettings } from '../../../src/aws/clients.js';
import { withCallOptions } from '../../../src/callOptions.js';

/** How the local server answers each request: by its path. */
type Behaviour = (request: IncomingMessage, response: ServerResponse) => void;

const BEHAVIOURS: Record<string, Behaviour> = {
  '/ok': (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
    response.end('{"clusterArns":[]}');
  },
  // Headers at once, then one byte now and then, for ever.
  '/drip': (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
    response.flushHeaders();
    const timer = setInterval(() => response.write(' '), 20);
    response.on('close', () => clearInterval(timer));
  },
  // Headers at once, then as much as the client reads, for ever.
  '/endless': (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const pump = () => {
      while (!response.destroyed && response.write(chunk));
    };
    response.on('drain', pump);
    pump();
  },
  // Never a header.
  '/silent': () => {},
};
// The same as /drip, under a path of its own: a test that counts closed connections sees none of another test's.
BEHAVIOURS['/held'] = BEHAVIOURS['/drip'] as Behaviour;

let server: Server;
let port: number;
const requests: string[] = [];
const closed: string[] = [];

beforeEach(async () => {
  requests.length = 0;
  closed.length = 0;
  server = createServer((request, response) => {
    // The SDK sends to the endpoint's path with a slash at the end.
    const path = (request.url ?? '/').replace(/(.)\/$/, '$1');
    requests.push(path);
    response.on('close', () => closed.push(path));
    response.on('error', () => {});
    request.resume();
    (BEHAVIOURS[path] ?? BEHAVIOURS['/ok'])?.(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterEach(async () => {
  vi.unstubAllEnvs();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const CLIENT_SETTINGS: ClientSettings = {
  region: 'eu-west-1',
  maxAttempts: 1,
  retryMode: 'standard',
  requestTimeoutMs: 60_000,
  credentials: async () => ({ accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake' }),
};

const requestTo = (path: string) => new HttpRequest({ protocol: 'http:', hostname: '127.0.0.1', port, method: 'POST', path, headers: { host: `127.0.0.1:${port}` }, body: '{}' });

/** What a promise rejects with. */
async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('BoundedHttpHandler', () => {
  it('hands over the whole body, read, with status and headers', async () => {
    const handler = new BoundedHttpHandler({ requestTimeoutMs: 5000 });

    const { response } = await handler.handle(requestTo('/ok'));

    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(Buffer.from(response.body as Uint8Array).toString()).toBe('{"clusterArns":[]}');
    handler.destroy();
  });

  it('fails with a TimeoutError when the body drips and is not complete within the request timeout', async () => {
    const handler = new BoundedHttpHandler({ requestTimeoutMs: 200 });

    const error = await rejectionOf(handler.handle(requestTo('/drip')));

    expect(error.name).toBe('TimeoutError');
    expect(error.message).toBe('no complete answer within 0.2 s (aws.requestTimeout)');
    await expect.poll(() => closed).toContain('/drip');
    handler.destroy();
  });

  it('fails with a TimeoutError when no header comes', async () => {
    const handler = new BoundedHttpHandler({ requestTimeoutMs: 200 });

    const error = await rejectionOf(handler.handle(requestTo('/silent')));

    expect(error).toMatchObject({ name: 'TimeoutError', message: 'no complete answer within 0.2 s (aws.requestTimeout)' });
    handler.destroy();
  });

  it('abandons a body that grows past the cap while it is read', async () => {
    const handler = new BoundedHttpHandler({ requestTimeoutMs: 60_000, maxAnswerBytes: 1024 * 1024 });

    const error = await rejectionOf(handler.handle(requestTo('/endless')));

    expect(error).toMatchObject({ name: 'AnswerTooLargeError', message: 'answer larger than 1 MB: abandoned while reading' });
    await expect.poll(() => closed).toContain('/endless');
    handler.destroy();
  });

  it('stays the SDK\'s AbortError, with the reason as cause, when the caller aborts while the body is read', async () => {
    const handler = new BoundedHttpHandler({ requestTimeoutMs: 60_000 });
    const round = new AbortController();
    const handling = handler.handle(requestTo('/drip'), { abortSignal: round.signal });
    await expect.poll(() => requests).toContain('/drip');

    round.abort(new Error('round took longer than 120s'));
    const error = await rejectionOf(handling);

    expect(error).toMatchObject({ name: 'AbortError', message: 'Request aborted' });
    expect((error.cause as Error).message).toBe('round took longer than 120s');
    handler.destroy();
  });

  it('is retried by the SDK as a timeout, and a too large answer is not', async () => {
    const client = (path: string, maxAnswerBytes?: number) =>
      new ECSClient({
        region: 'eu-west-1',
        endpoint: `http://127.0.0.1:${port}${path}`,
        credentials: { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake' },
        maxAttempts: 2,
        requestHandler: new BoundedHttpHandler({ requestTimeoutMs: 200, ...(maxAnswerBytes && { maxAnswerBytes }) }),
      });
    const dripping = client('/drip');
    const endless = client('/endless', 1024 * 1024);

    const timeout = await rejectionOf(dripping.send(new ListClustersCommand({})));
    const tooLarge = await rejectionOf(endless.send(new ListClustersCommand({})));

    expect(timeout).toMatchObject({ name: 'TimeoutError', message: 'no complete answer within 0.2 s (aws.requestTimeout)' });
    expect(tooLarge).toMatchObject({ name: 'AnswerTooLargeError' });
    expect(requests).toEqual(['/drip', '/drip', '/endless']);
    dripping.destroy();
    endless.destroy();
  });

  it('aborts a call by the signal its command input carries, each call by its own, with the stack resolved once per command', async () => {
    vi.stubEnv('AWS_ENDPOINT_URL_ECS', `http://127.0.0.1:${port}/held`);
    const client = createEcsClient(CLIENT_SETTINGS);
    const resolving = vi.spyOn(ListClustersCommand.prototype, 'resolveMiddleware');
    const first = new AbortController();
    const second = new AbortController();
    const firstCall = client.send(new ListClustersCommand(withCallOptions({}, { signal: first.signal })));
    const secondCall = client.send(new ListClustersCommand(withCallOptions({}, { signal: second.signal })));
    await expect.poll(() => requests.filter((path) => path === '/held')).toEqual(['/held', '/held']);

    first.abort(new Error('first cluster timed out'));
    const firstError = await rejectionOf(firstCall);
    // Its request is abandoned, not only its caller answered; the other one goes on.
    await expect.poll(() => closed.filter((path) => path === '/held')).toEqual(['/held']);
    second.abort(new Error('round stopped'));
    const secondError = await rejectionOf(secondCall);
    await expect.poll(() => closed.filter((path) => path === '/held')).toEqual(['/held', '/held']);

    expect(resolving).toHaveBeenCalledTimes(1);
    expect(firstError).toMatchObject({ name: 'AbortError', message: 'first cluster timed out' });
    expect((firstError.cause as Error).message).toBe('first cluster timed out');
    expect((secondError.cause as Error).message).toBe('round stopped');
    client.destroy();
  });

  it('hands each request its signal last before the handler, and wraps each whole call, in every client made here', async () => {
    const clients = [createEcsClient(CLIENT_SETTINGS), await createEc2Client(CLIENT_SETTINGS), await createSsmClient(CLIENT_SETTINGS), await createSqsClient(CLIENT_SETTINGS)];

    const stacks = clients.map((client) => client.middlewareStack.identify());

    for (const stack of stacks) {
      // Nothing after it can put another request object in the handler's hands.
      expect(stack.at(-1)).toBe('ecsDiscovererCallSignal - deserialize');
      // In the initialize step: around the retries of the finalize step.
      expect(stack).toContain('ecsDiscovererCallAbort - initialize');
    }
    for (const client of clients) client.destroy();
  });

  it('serves many calls at once under one caller signal without a warning of a listener leak', async () => {
    const handler = new BoundedHttpHandler({ requestTimeoutMs: 60_000 });
    const round = new AbortController();
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    const calls = Array.from({ length: 12 }, () => rejectionOf(handler.handle(requestTo('/silent'), { abortSignal: round.signal })));
    await expect.poll(() => requests.length).toBe(12);

    round.abort(new Error('round stopped'));
    const errors = await Promise.all(calls);
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', onWarning);

    expect(errors.map((error) => error.name)).toEqual(Array.from({ length: 12 }, () => 'AbortError'));
    expect(warnings).toEqual([]);
    handler.destroy();
  });
});
