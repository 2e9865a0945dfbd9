/**
 * The HTTP scenario of the benchmark (`npm run bench -- --http`): the built discoverer serving a
 * 10,000-task fleet from the in-repo fake, then
 *   1. 2,000 concurrent clients that send GET /targets and never read the answer: the
 *      discoverer's RSS (now and its high-water mark) while they hang on;
 *   2. 100 concurrent clients reading /targets with gzip, over and over: p50 and p99 latency;
 *   3. during both, a prober asking /-/healthy one request at a time, from a thread of its own
 *      (the clients' answers queue on the main thread's event loop): p50 and p99.
 * Between 1 and 2 the 2,000 clients go away at once; the prober's figures while the discoverer
 * closes their connections (until it holds none but the prober's) are reported apart,
 * so that neither phase's figures hold the other's work.
 * Every connection goes to 127.0.0.1. Figures of a loaded machine say nothing: run it alone.
 */
import { request as httpRequest, Agent } from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { FakeAws } from '../src/fake/fakeAws.js';
import { fleetOfTasks } from './fleetOfTasks.js';
import { RunningDiscoverer, fakeAwsEnv, freePort } from '../test/support/runningDiscoverer.js';
import { makeTestPki } from '../test/support/testPki.js';

export interface HttpLoadOptions {
  tasks: number;
  /** Clients that send a request and never read. */
  idleClients: number;
  /** Concurrent readers of /targets with gzip. */
  readers: number;
  /** Requests each reader makes, one after the other. */
  requestsPerReader: number;
  /** How long the idle clients hang on, in seconds. */
  holdSeconds: number;
  /** Serve HTTPS (a web config with a certificate made for the run), as the README recommends. */
  tls: boolean;
}

/** How the clients reach the discoverer: plain HTTP, or TLS trusting the run's CA. */
interface Transport {
  ca: string | undefined;
  agent(keepAlive: boolean): Agent;
}

export interface HttpLoadFigures {
  tasks: number;
  targetsBytes: number;
  targetsGzipBytes: number;
  idleClientsConnected: number;
  idleRssMb: number;
  idlePeakRssMb: number;
  healthDuringIdle: { p50: number; p99: number; failed: number };
  /** While the idle clients' connections are being closed, all at once. */
  healthDuringDisconnect: { p50: number; p99: number; max: number; failed: number };
  disconnectMs: number;
  readerLatency: { p50: number; p99: number; failed: number; requests: number };
  healthDuringReaders: { p50: number; p99: number; failed: number };
  peakRssMb: number;
}

async function memoryMb(pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) / 1024);
}

const percentile = (values: number[], p: number): number => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
};

/** One GET, its body read to the end; resolves with the milliseconds it took and the bytes. */
function timedGet(port: number, path: string, agent: Agent, headers: Record<string, string> = {}): Promise<{ ms: number; bytes: number; status: number }> {
  const started = performance.now();
  const send = agent instanceof HttpsAgent ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send({ host: '127.0.0.1', port, path, agent, headers }, (response) => {
      let bytes = 0;
      response.on('data', (chunk: Buffer) => (bytes += chunk.length));
      response.on('end', () => resolve({ ms: performance.now() - started, bytes, status: response.statusCode ?? 0 }));
      response.on('error', reject);
    });
    request.setTimeout(60_000, () => request.destroy(new Error('no answer in 60 s')));
    request.on('error', reject);
    request.end();
  });
}

/**
 * The prober's loop, run in a thread of its own: in this thread, the answers of 100 readers (or
 * 2,000 TLS handshakes) queue on the same event loop, and their wait would be counted as the
 * discoverer's. Asks /-/healthy one request at a time, 20 ms apart, until told to stop; then
 * posts its latencies and failures.
 */
const PROBER = `
const { parentPort, workerData } = require('node:worker_threads');
const { port, ca } = workerData;
const http = require(ca === undefined ? 'node:http' : 'node:https');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1, ...(ca !== undefined && { ca }) });
const latencies = [];
let failed = 0;
let stopped = false;
parentPort.on('message', () => (stopped = true));
const once = () => new Promise((resolve) => {
  const started = performance.now();
  const request = http.get({ host: '127.0.0.1', port, path: '/-/healthy', agent }, (response) => {
    response.resume();
    response.on('end', () => resolve(response.statusCode === 200 ? performance.now() - started : undefined));
    response.on('error', () => resolve(undefined));
  });
  request.setTimeout(60000, () => request.destroy(new Error('no answer in 60 s')));
  request.on('error', () => resolve(undefined));
});
(async () => {
  while (!stopped) {
    const ms = await once();
    if (ms === undefined) failed += 1;
    else latencies.push(ms);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  agent.destroy();
  parentPort.postMessage({ latencies, failed });
})();
`;

/** Asks /-/healthy one request at a time, from a thread of its own, until `stop` resolves. */
async function probeHealth(port: number, transport: Transport, stop: Promise<void>): Promise<{ p50: number; p99: number; max: number; failed: number }> {
  const prober = new Worker(PROBER, { eval: true, workerData: { port, ca: transport.ca } });
  const result = new Promise<{ latencies: number[]; failed: number }>((resolve, reject) => {
    prober.once('message', resolve);
    prober.once('error', reject);
  });
  await stop;
  prober.postMessage('stop');
  const { latencies, failed } = await result;
  await prober.terminate();
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.length === 0 ? NaN : Math.max(...latencies), failed };
}

/** Connections to 127.0.0.1:`port` that its server has not closed yet (established, or closed by the client only). */
async function openConnections(port: number): Promise<number> {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const lines = (await readFile('/proc/net/tcp', 'utf8')).split('\n');
  // Fields: sl, local_address, rem_address, st; 01 ESTABLISHED, 08 CLOSE_WAIT.
  return lines.filter((line) => {
    const [, address, , state] = line.trim().split(/\s+/);
    return address === local && (state === '01' || state === '08');
  }).length;
}

/** Resolves once the server holds at most `remaining` connections (the prober's). */
async function untilConnectionsClosed(port: number, remaining: number): Promise<void> {
  while ((await openConnections(port)) > remaining) await new Promise((resolve) => setTimeout(resolve, 10));
}

/** A client that sends GET /targets and reads nothing; resolves once connected and sent. */
function idleClient(port: number, transport: Transport): Promise<Socket> {
  return new Promise((resolve) => {
    const connected = () => {
      socket.write('GET /targets HTTP/1.1\r\nHost: discoverer\r\n\r\n');
      socket.pause();
      resolve(socket);
    };
    const socket: Socket = transport.ca === undefined ? connect({ port, host: '127.0.0.1' }, connected) : tlsConnect({ port, host: '127.0.0.1', ca: transport.ca }, connected);
    socket.on('error', () => resolve(socket));
  });
}

export async function measureHttpLoad(options: HttpLoadOptions): Promise<HttpLoadFigures> {
  const clusters = Math.max(1, Math.round(options.tasks / 2000));
  const fleet = fleetOfTasks({ tasks: options.tasks, clusters, definitions: Math.max(5, Math.round(options.tasks / 100)) });
  const fake = new FakeAws(fleet);
  await fake.start();
  const outputDir = await mkdtemp(join(tmpdir(), 'discoverer-bench-http-'));
  const port = await freePort();
  const webConfig: string[] = [];
  let transport: Transport = { ca: undefined, agent: (keepAlive) => new Agent({ keepAlive, maxSockets: 1 }) };
  if (options.tls) {
    const pki = makeTestPki(outputDir);
    await writeFile(join(outputDir, 'web.yml'), `tls_server_config:\n  cert_file: ${pki.serverCert}\n  key_file: ${pki.serverKey}\n`);
    webConfig.push('--web.config.file', join(outputDir, 'web.yml'));
    const ca = await readFile(pki.caCert, 'utf8');
    transport = { ca, agent: (keepAlive) => new HttpsAgent({ keepAlive, maxSockets: 1, ca }) };
  }
  // The settings as shipped, but for where to listen and a long interval: rounds stay out of the figures.
  const discoverer = new RunningDiscoverer(['--interval', '600', '--output-dir', outputDir, '--http-host', '127.0.0.1', '--http-port', String(port), ...webConfig], fakeAwsEnv(fake.url));
  const pid = discoverer.pid as number;
  const sockets: Socket[] = [];
  try {
    await discoverer.waitForRounds(1, 600_000);
    const warm = transport.agent(false);
    const plain = await timedGet(port, '/targets', warm);
    const gzipped = await timedGet(port, '/targets', warm, { 'accept-encoding': 'gzip' });
    warm.destroy();

    // 1. Clients that never read, with the prober.
    process.stderr.write(`${options.idleClients} clients that never read...\n`);
    let endIdle = () => {};
    const idleOver = new Promise<void>((resolve) => (endIdle = resolve));
    const healthDuringIdle = probeHealth(port, transport, idleOver);
    for (let index = 0; index < options.idleClients; index += 100) {
      sockets.push(...(await Promise.all(Array.from({ length: Math.min(100, options.idleClients - index) }, () => idleClient(port, transport)))));
    }
    const idleClientsConnected = sockets.filter((socket) => !socket.destroyed).length;
    await new Promise((resolve) => setTimeout(resolve, options.holdSeconds * 1000));
    const idleRssMb = await memoryMb(pid, 'VmRSS');
    const idlePeakRssMb = await memoryMb(pid, 'VmHWM');
    endIdle();
    const idleHealth = await healthDuringIdle;

    // The idle clients go, all at once; the next phase starts once the discoverer has closed their connections.
    let endDisconnect = () => {};
    const disconnected = new Promise<void>((resolve) => (endDisconnect = resolve));
    const healthDuringDisconnect = probeHealth(port, transport, disconnected);
    const disconnectStarted = performance.now();
    sockets.splice(0).forEach((socket) => socket.destroy());
    await untilConnectionsClosed(port, 1);
    const disconnectMs = performance.now() - disconnectStarted;
    endDisconnect();
    const disconnectHealth = await healthDuringDisconnect;

    // 2. Readers with gzip, with the prober.
    process.stderr.write(`${options.readers} readers with gzip, ${options.requestsPerReader} requests each...\n`);
    let endReaders = () => {};
    const readersOver = new Promise<void>((resolve) => (endReaders = resolve));
    const healthDuringReaders = probeHealth(port, transport, readersOver);
    const latencies: number[] = [];
    let failed = 0;
    await Promise.all(
      Array.from({ length: options.readers }, async () => {
        const agent = transport.agent(true);
        for (let request = 0; request < options.requestsPerReader; request++) {
          try {
            const { ms, status } = await timedGet(port, '/targets', agent, { 'accept-encoding': 'gzip' });
            if (status === 200) latencies.push(ms);
            else failed += 1;
          } catch {
            failed += 1;
          }
        }
        agent.destroy();
      }),
    );
    endReaders();
    return {
      tasks: fleet.clusters.reduce((sum, cluster) => sum + cluster.tasks.length, 0),
      targetsBytes: plain.bytes,
      targetsGzipBytes: gzipped.bytes,
      idleClientsConnected,
      idleRssMb,
      idlePeakRssMb,
      healthDuringIdle: idleHealth,
      healthDuringDisconnect: disconnectHealth,
      disconnectMs,
      readerLatency: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), failed, requests: latencies.length + failed },
      healthDuringReaders: await healthDuringReaders,
      peakRssMb: await memoryMb(pid, 'VmHWM'),
    };
  } finally {
    sockets.forEach((socket) => socket.destroy());
    await discoverer.stop('SIGTERM');
    await fake.stop();
    await rm(outputDir, { recursive: true, force: true });
  }
}

export function printHttpLoad(figures: HttpLoadFigures, options: HttpLoadOptions): void {
  const ms = (value: number) => `${value.toFixed(1)} ms`;
  console.log(`HTTP scenario${options.tls ? ' over TLS' : ''}: ${figures.tasks.toLocaleString('en-US')} tasks; /targets is ${(figures.targetsBytes / 1e6).toFixed(1)} MB, ${(figures.targetsGzipBytes / 1e6).toFixed(2)} MB gzipped`);
  console.log(`1. ${options.idleClients} clients that send GET /targets and never read, held ${options.holdSeconds} s (${figures.idleClientsConnected} connected):`);
  console.log(`   discoverer RSS ${figures.idleRssMb} MB, high-water mark ${figures.idlePeakRssMb} MB`);
  console.log(`   /-/healthy meanwhile: p50 ${ms(figures.healthDuringIdle.p50)}, p99 ${ms(figures.healthDuringIdle.p99)}, failed ${figures.healthDuringIdle.failed}`);
  const gone = figures.healthDuringDisconnect;
  console.log(`   then all ${options.idleClients} went at once; their connections closed in ${figures.disconnectMs.toFixed(0)} ms, /-/healthy meanwhile: p50 ${ms(gone.p50)}, p99 ${ms(gone.p99)}, max ${ms(gone.max)}, failed ${gone.failed}`);
  console.log(`2. ${options.readers} concurrent readers of /targets with gzip, ${options.requestsPerReader} requests each (${figures.readerLatency.requests} requests):`);
  console.log(`   latency p50 ${ms(figures.readerLatency.p50)}, p99 ${ms(figures.readerLatency.p99)}, failed ${figures.readerLatency.failed}`);
  console.log(`   /-/healthy meanwhile: p50 ${ms(figures.healthDuringReaders.p50)}, p99 ${ms(figures.healthDuringReaders.p99)}, failed ${figures.healthDuringReaders.failed}`);
  console.log(`discoverer RSS high-water mark over the whole run: ${figures.peakRssMb} MB`);
  console.log('Targets of issue 17: RSS below 300 MB in 1; p99 under 2 s in 2; /-/healthy p99 under 100 ms in both.');
}
