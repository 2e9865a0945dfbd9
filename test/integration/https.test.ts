import { readFileSync } from 'node:fs';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest, Agent, type RequestOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { hashSync } from 'bcryptjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeAws } from '../../src/fake/fakeAws.js';
import { RunningDiscoverer, assertBuilt, fakeAwsEnv, freePort } from '../support/runningDiscoverer.js';
import { edgeFleet } from '../support/edgeFleet.js';
import { rawRequest } from '../support/rawHttp.js';
import { issueCertificate, makeTestPki, SERVER_EXTENSIONS, type TestPki } from '../support/testPki.js';

/**
 * The built CLI over HTTPS with basic auth and client certificates, against a real TLS client
 * (node:https) and certificates made here; rotation of the certificate while it runs; listeners
 * on IPv6 and on several addresses; the prefix, gzip and ETags; bad requests.
 */

const PASSWORD = 'tr0ub4dor&3-not-in-logs';
const WRONG_PASSWORD = 'hunter2-never-logged';

let fake: FakeAws;
let pki: TestPki;
let workDir: string;
const running: RunningDiscoverer[] = [];

beforeAll(async () => {
  assertBuilt();
  workDir = await mkdtemp(join(tmpdir(), 'discoverer-https-'));
  pki = makeTestPki(workDir);
  fake = new FakeAws(edgeFleet());
  await fake.start();
}, 60_000);
afterEach(async () => {
  await Promise.all(running.splice(0).map((discoverer) => discoverer.stop('SIGKILL')));
});
afterAll(async () => {
  await fake?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

/** Writes a file as rotation tools do: a new file renamed over the old one. */
async function replaceFile(path: string, content: string | Buffer): Promise<void> {
  await writeFile(`${path}.new`, content);
  await rename(`${path}.new`, path);
}

async function start(args: string[], webConfig?: string): Promise<RunningDiscoverer> {
  const outputDir = await mkdtemp(join(workDir, 'out-'));
  const extra: string[] = [];
  if (webConfig !== undefined) {
    const file = join(await mkdtemp(join(workDir, 'web-')), 'web.yml');
    await writeFile(file, webConfig);
    extra.push('--web.config.file', file);
  }
  const discoverer = new RunningDiscoverer(['--interval', '1', '--output-dir', outputDir, ...extra, ...args], fakeAwsEnv(fake.url));
  running.push(discoverer);
  await discoverer.waitForRounds(1);
  return discoverer;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** SHA-256 fingerprint of the server's certificate. */
  certificate: string;
  socket: TLSSocket;
}

function get(port: number, path: string, options: RequestOptions = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = httpsRequest({ host: '127.0.0.1', port, path, ca: readPem(pki.caCert), agent: false, ...options }, (response) => {
      // Read now: a keep-alive agent takes the socket back at the end.
      const socket = response.socket as TLSSocket;
      const certificate = socket.getPeerCertificate().fingerprint256;
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks), certificate, socket }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end();
  });
}

const readPem = (path: string): string => readFileSync(path, 'utf8');

/** What a request ends in: its status, or the error that ended its connection. */
const outcome = (promise: Promise<Answer>) =>
  promise.then(
    (answer) => answer.status,
    (error: NodeJS.ErrnoException) => `refused (${error.code ?? error.message})`,
  );

function webConfigWith(extra = ''): string {
  return `tls_server_config:
  cert_file: ${pki.serverCert}
  key_file: ${pki.serverKey}
${extra}basic_auth_users:
  alice: ${hashSync(PASSWORD, 4)}
`;
}

describe('HTTPS with basic auth', () => {
  it('serves /targets to a client that trusts the CA and knows the password; 401 without it, and a log line without the password', async () => {
    const port = await freePort();
    const discoverer = await start(['--http-host', '127.0.0.1', '--http-port', String(port)], webConfigWith());

    const good = await get(port, '/targets', { auth: `alice:${PASSWORD}` });
    const none = await get(port, '/targets');
    const wrong = await get(port, '/targets', { auth: `alice:${WRONG_PASSWORD}` });
    const untrusted = await outcome(get(port, '/targets', { auth: `alice:${PASSWORD}`, ca: readPem(pki.strangerCert) }));
    await discoverer.waitFor(() => discoverer.lines.some((line) => line['msg'] === 'HTTP request refused: wrong credentials'), 'the refusal line');

    expect(good.status).toBe(200);
    expect((JSON.parse(good.body.toString()) as unknown[]).length).toBeGreaterThan(150);
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Basic /);
    expect(wrong.status).toBe(401);
    expect(untrusted).toMatch(/^refused/);
    expect(discoverer.lines.find((line) => line['msg'] === 'listening')).toMatchObject({ address: `127.0.0.1:${port}`, tls: true });
    expect(discoverer.lines.filter((line) => line['msg'] === 'HTTP request refused: wrong credentials')).toEqual([
      expect.objectContaining({ level: 'warn', reason: 'wrong password', user: 'alice', path: '/targets' }),
    ]);
    expect(discoverer.stderr).not.toContain(WRONG_PASSWORD);
    expect(discoverer.stderr).not.toContain(PASSWORD);
  });

  it('requires and verifies client certificates with RequireAndVerifyClientCert', async () => {
    const port = await freePort();
    await start(
      ['--http-host', '127.0.0.1', '--http-port', String(port)],
      webConfigWith(`  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ${pki.caCert}\n`),
    );
    const auth = `alice:${PASSWORD}`;

    const withCert = await outcome(get(port, '/targets', { auth, cert: readPem(pki.clientCert), key: readPem(pki.clientKey) }));
    const withoutCert = await outcome(get(port, '/targets', { auth }));
    const strangerCert = await outcome(get(port, '/targets', { auth, cert: readPem(pki.strangerCert), key: readPem(pki.strangerKey) }));

    expect(withCert).toBe(200);
    expect(withoutCert).toMatch(/^refused/);
    expect(strangerCert).toMatch(/^refused/);
  });

  it('closes connections without a certificate under RequireAnyClientCert, and with an unverified one under VerifyClientCertIfGiven', async () => {
    const [anyPort, ifGivenPort] = [await freePort(), await freePort()];
    await start(['--http-host', '127.0.0.1', '--http-port', String(anyPort)], webConfigWith('  client_auth_type: RequireAnyClientCert\n'));
    await start(
      ['--http-host', '127.0.0.1', '--http-port', String(ifGivenPort)],
      webConfigWith(`  client_auth_type: VerifyClientCertIfGiven\n  client_ca_file: ${pki.caCert}\n`),
    );
    const auth = `alice:${PASSWORD}`;
    const stranger = { cert: readPem(pki.strangerCert), key: readPem(pki.strangerKey) };

    expect(await outcome(get(anyPort, '/targets', { auth }))).toMatch(/^refused/);
    expect(await outcome(get(anyPort, '/targets', { auth, ...stranger }))).toBe(200);
    expect(await outcome(get(ifGivenPort, '/targets', { auth }))).toBe(200);
    expect(await outcome(get(ifGivenPort, '/targets', { auth, cert: readPem(pki.clientCert), key: readPem(pki.clientKey) }))).toBe(200);
    expect(await outcome(get(ifGivenPort, '/targets', { auth, ...stranger }))).toMatch(/^refused/);
  });

  it('picks up a rotated certificate without a restart, keeps open connections, and keeps the last good one when the new file is bad', async () => {
    const port = await freePort();
    const cert = join(workDir, 'rotating.crt');
    const key = join(workDir, 'rotating.key');
    const first = issueCertificate(workDir, 'ca', 'first', SERVER_EXTENSIONS);
    await replaceFile(cert, readPem(first.cert));
    await replaceFile(key, readPem(first.key));
    const discoverer = await start(
      ['--http-host', '127.0.0.1', '--http-port', String(port)],
      `tls_server_config:\n  cert_file: ${cert}\n  key_file: ${key}\nbasic_auth_users:\n  alice: ${hashSync(PASSWORD, 4)}\n`,
    );
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
    const auth = `alice:${PASSWORD}`;
    const before = await get(port, '/-/healthy', { auth, agent: keepAlive });
    const reloads = () => discoverer.lines.filter((line) => line['msg'] === 'web config reloaded').length;
    const refusals = () => discoverer.lines.filter((line) => line['msg'] === 'web config not reloaded; the one in force is kept').length;

    const second = issueCertificate(workDir, 'ca', 'second', SERVER_EXTENSIONS);
    // The key first, then the certificate: in between, the pair does not match and is not used.
    await replaceFile(key, readPem(second.key));
    await replaceFile(cert, readPem(second.cert));
    await discoverer.waitFor(() => reloads() >= 1, 'the reload');
    const rotated = await get(port, '/-/healthy', { auth });
    const sameConnection = await get(port, '/-/healthy', { auth, agent: keepAlive });

    const refusalsBefore = refusals();
    await replaceFile(cert, 'not a certificate\n');
    await discoverer.waitFor(() => refusals() > refusalsBefore, 'the refusal of the bad file');
    const afterBadFile = await get(port, '/-/healthy', { auth });
    keepAlive.destroy();

    expect(before.status).toBe(200);
    expect(rotated.status).toBe(200);
    expect(rotated.certificate).not.toBe(before.certificate);
    expect(sameConnection.socket).toBe(before.socket);
    expect(sameConnection.certificate).toBe(before.certificate);
    expect(afterBadFile.status).toBe(200);
    expect(afterBadFile.certificate).toBe(rotated.certificate);
    const refusal = discoverer.lines.filter((line) => line['msg'] === 'web config not reloaded; the one in force is kept').at(-1);
    expect(String(refusal?.['error'])).toMatch(/tls_server_config\.cert_file: not a PEM certificate/);
    expect(reloads()).toBe(1);
  });

  it('refuses to start with a web config it cannot use, naming the file and the key, exit code 2', async () => {
    const file = join(workDir, 'bad-web.yml');
    await writeFile(file, 'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  min_versoin: TLS13\n');
    const discoverer = new RunningDiscoverer(['--output-dir', join(workDir, 'never'), '--web.config.file', file, '--http-port', String(await freePort())], fakeAwsEnv(fake.url));
    running.push(discoverer);

    expect(await discoverer.exited).toBe(2);
    expect(discoverer.stderr.trim()).toBe(
      `prometheus-ecs-discoverer: http.webConfigFile (--web.config.file, ECS_DISCOVERER_HTTP_WEB_CONFIG_FILE): ${file}: tls_server_config.min_versoin: unknown key (expected one of cert, key, client_ca, cert_file, key_file, client_ca_file, client_auth_type, min_version, max_version, cipher_suites, prefer_server_cipher_suites, curve_preferences)`,
    );
  });
});

describe('plain HTTP listeners', () => {
  it('listens on ::1 given as --http-host', async () => {
    const port = await freePort('::1');
    const discoverer = await start(['--http-host', '::1', '--http-port', String(port)]);

    const response = await fetch(`http://[::1]:${port}/-/healthy`);

    expect(response.status).toBe(200);
    expect(discoverer.lines.find((line) => line['msg'] === 'listening')).toMatchObject({ address: `[::1]:${port}`, tls: false });
  });

  it('listens on every --web.listen-address, IPv4 and IPv6, under the prefix of --web.external-url', async () => {
    const [v4, v6] = [await freePort(), await freePort('::1')];
    const discoverer = await start(['--web.listen-address', `127.0.0.1:${v4}`, '--web.listen-address', `[::1]:${v6}`, '--web.external-url', 'https://proxy.example/monitoring/ecs/']);

    const fromV4 = await fetch(`http://127.0.0.1:${v4}/monitoring/ecs/targets`);
    const fromV6 = await fetch(`http://[::1]:${v6}/monitoring/ecs/targets`);
    const page = await (await fetch(`http://127.0.0.1:${v4}/monitoring/ecs/`)).text();
    const outside = await fetch(`http://127.0.0.1:${v4}/targets`);

    expect(fromV4.status).toBe(200);
    expect(await fromV6.text()).toBe(await fromV4.text());
    expect(page).toContain('<base href="/monitoring/ecs/">');
    expect(page).toContain('href="targets"');
    expect(outside.status).toBe(404);
    expect(discoverer.lines.filter((line) => line['msg'] === 'listening').map((line) => line['address'])).toEqual([`127.0.0.1:${v4}`, `[::1]:${v6}`]);
  });

  it('refuses --web.listen-address together with --http-port, exit code 2', async () => {
    const discoverer = new RunningDiscoverer(['--web.listen-address', '127.0.0.1:1', '--http-port', '9999'], fakeAwsEnv(fake.url));
    running.push(discoverer);

    expect(await discoverer.exited).toBe(2);
    expect(discoverer.stderr).toContain('http.listenAddresses (--web.listen-address, ECS_DISCOVERER_HTTP_LISTEN_ADDRESSES) and http.port (--http-port, ECS_DISCOVERER_HTTP_PORT) are both set');
  });

  it('gzips /targets with an ETag and answers 304; //targets is 404; bad request lines are 400 with no error line', async () => {
    const port = await freePort();
    const discoverer = await start(['--http-host', '127.0.0.1', '--http-port', String(port)]);

    const plain = await fetch(`http://127.0.0.1:${port}/targets`, { headers: { 'accept-encoding': 'identity' } });
    const plainBody = await plain.text();
    const zipped = await rawRequest('127.0.0.1', port, 'GET /targets HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n');
    const notModified = await fetch(`http://127.0.0.1:${port}/targets`, { headers: { 'if-none-match': plain.headers.get('etag') ?? '' } });
    const doubleSlash = await fetch(`http://127.0.0.1:${port}//targets`);
    const garbage = await rawRequest('127.0.0.1', port, 'GARBAGE\r\n\r\n');
    const badUrl = await rawRequest('127.0.0.1', port, 'GET http://[oops/targets HTTP/1.1\r\nHost: x\r\n\r\n');
    const zippedLength = Number(/content-length: (\d+)/i.exec(zipped)?.[1]);

    expect(plain.headers.get('etag')).toMatch(/^"[\w-]+"$/);
    expect(plain.headers.get('vary')).toBe('Accept-Encoding');
    expect(zipped).toMatch(/content-encoding: gzip/i);
    expect(zippedLength).toBeGreaterThan(0);
    expect(zippedLength).toBeLessThan(Buffer.byteLength(plainBody) / 4);
    expect(notModified.status).toBe(304);
    expect(doubleSlash.status).toBe(404);
    expect(garbage).toMatch(/^HTTP\/1\.1 400 /);
    expect(badUrl).toMatch(/^HTTP\/1\.1 400 /);
    expect(discoverer.lines.filter((line) => line['level'] === 'error')).toEqual([]);
  });
});
