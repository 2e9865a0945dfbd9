import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { toPublishedGroup } from '../../../src/discovery/targetGroups.js';
import { close, createHttpServer, listen, type AnyServer, type HttpLimits } from '../../../src/http/server.js';
import { Status } from '../../../src/http/status.js';
import { silentLogger } from '../../../src/log.js';
import { createMetrics } from '../../../src/metrics.js';
import type { Snapshot } from '../../../src/round.js';

/** A /targets answer of about 16 MB: more than the kernel's socket buffers hold for a client that reads nothing. */
let huge: Snapshot | undefined;
function hugeSnapshot(): Snapshot {
  huge ??= makeHugeSnapshot();
  return huge;
}

function makeHugeSnapshot(): Snapshot {
  const generic = Array.from({ length: 100_000 }, (_, index) =>
    toPublishedGroup({
      interval: 'generic',
      cluster: 'prod',
      address: `127.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}:8080`,
      labels: { job: 'api', __meta_ecs_task_arn: `arn:aws:ecs:eu-west-1:123456789012:task/prod/${index.toString(16).padStart(32, '0')}` },
    }),
  );
  return {
    finishedAt: 0,
    clusters: [{ region: 'eu-west-1', cluster: { name: 'prod', arn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod' }, tasks: 0, pendingTasks: 0, targets: [], skips: [], warnings: [], lastSuccessAt: 0, error: undefined }],
    groups: { generic, '15s': [], '30s': [], '1m': [], '5m': [] },
  };
}

const LIMITS: HttpLimits = { headersTimeoutMs: 5_000, requestTimeoutMs: 5_000, keepAliveTimeoutMs: 5_000, writeTimeoutMs: 300, maxConnections: 2 };

let server: AnyServer;
const sockets: Socket[] = [];
afterEach(async () => {
  sockets.splice(0).forEach((socket) => socket.destroy());
  await close(server);
});

/** The server's side of each connection, in the order they came: a client that reads nothing never sees its own close. */
let serverSides: Socket[] = [];

async function start(snapshot: Snapshot): Promise<{ port: number; status: Status }> {
  const status = new Status({ unreadyAfterFailedRounds: 2, version: '1.2.3' });
  status.publish(snapshot);
  server = createHttpServer({ status, registry: createMetrics().registry, logger: silentLogger, limits: LIMITS });
  serverSides = [];
  server.on('connection', (socket: Socket) => serverSides.push(socket));
  const { port } = await listen(server, '127.0.0.1', 0);
  return { port, status };
}

const connections = () => new Promise<number>((resolve, reject) => server.getConnections((error, count) => (error ? reject(error) : resolve(count))));

/** A client that sends `request` and never reads; `closed` resolves when the server drops the connection. */
async function neverReading(port: number, request: string): Promise<{ closed: Promise<void> }> {
  const accepted = serverSides.length;
  const socket = connect({ port, host: '127.0.0.1' }, () => {
    socket.write(request);
    socket.pause();
  });
  sockets.push(socket);
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('connect', resolve));
  while (serverSides.length <= accepted) await new Promise((resolve) => setImmediate(resolve));
  const serverSide = serverSides[accepted] as Socket;
  const closed = new Promise<void>((resolve) => (serverSide.destroyed ? resolve() : serverSide.once('close', () => resolve())));
  return { closed };
}

describe('clients that stop reading', () => {
  it('are dropped once their answer goes unread for the write timeout', async () => {
    const { port, status } = await start(hugeSnapshot());
    expect(status.targetsAnswer({})?.body.length).toBeGreaterThan(12_000_000);

    const client = await neverReading(port, 'GET /targets HTTP/1.1\r\nHost: x\r\n\r\n');
    await client.closed;

    expect(await connections()).toBe(0);
  });

  it('are dropped with pipelined requests too, never given a second answer to hold', async () => {
    const { port } = await start(hugeSnapshot());

    const client = await neverReading(port, 'GET /targets HTTP/1.1\r\nHost: x\r\n\r\nGET /targets?interval=generic HTTP/1.1\r\nHost: x\r\n\r\nGET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
    await client.closed;

    expect(await connections()).toBe(0);
  });

  it('leave other clients served meanwhile', async () => {
    const { port } = await start(hugeSnapshot());
    const client = await neverReading(port, 'GET /targets HTTP/1.1\r\nHost: x\r\n\r\n');

    const healthy = await fetch(`http://127.0.0.1:${port}/-/healthy`);
    await client.closed;

    expect(healthy.status).toBe(200);
  });
});

describe('clients that read', () => {
  it('get the whole answer, sent in slices as they read it, and gzipped likewise', async () => {
    const { port, status } = await start(hugeSnapshot());
    const expected = status.targetsAnswer({})?.body as Buffer;

    const plain = Buffer.from(await (await fetch(`http://127.0.0.1:${port}/targets`, { headers: { 'accept-encoding': 'identity' } })).arrayBuffer());
    const decoded = Buffer.from(await (await fetch(`http://127.0.0.1:${port}/targets`, { headers: { 'accept-encoding': 'gzip' } })).arrayBuffer());

    expect(plain.equals(expected)).toBe(true);
    expect(decoded.equals(expected)).toBe(true);
  });
});

describe('the connection cap', () => {
  it('closes connections past http.maxConnections as they come', async () => {
    const { port } = await start(hugeSnapshot());
    const open = async () => {
      const socket = connect({ port, host: '127.0.0.1' });
      sockets.push(socket);
      socket.on('error', () => {});
      await new Promise((resolve) => socket.once('connect', resolve));
      return socket;
    };
    await open();
    await open();

    const third = await open();
    await new Promise((resolve) => third.once('close', resolve));

    expect(third.destroyed).toBe(true);
  });
});
