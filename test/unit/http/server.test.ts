import { Agent, get as httpGet, type Server } from 'node:http';
import { rawRequest } from '../../support/rawHttp.js';
import { gunzipSync } from 'node:zlib';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StaticDirectory } from '../../../src/output/staticDirectory.js';
import { compare } from 'bcryptjs';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toPublishedGroup } from '../../../src/discovery/targetGroups.js';
import type { ClusterState, RoundReport, Snapshot } from '../../../src/round.js';
import { BasicAuth } from '../../../src/http/basicAuth.js';
import { close, createHttpServer, listen, requestsInFlight } from '../../../src/http/server.js';
import { Status } from '../../../src/http/status.js';
import type { EventsView } from '../../../src/http/statusPage.js';
import { silentLogger } from '../../../src/log.js';
import { createMetrics } from '../../../src/metrics.js';
import { loadWebSecurity } from '../../../src/http/webSecurity.js';
import { makeTestPki } from '../../support/testPki.js';

const report = (outcome: RoundReport['outcome'], failure?: string): RoundReport => ({
  outcome,
  startedAt: Date.parse('2026-11-24T10:00:00Z'),
  durationMs: 120,
  apiCalls: 5,
  clusters: 1,
  tasks: 2,
  pendingTasks: 0,
  targets: { generic: 1, '15s': 1, '30s': 0, '1m': 0, '5m': 0 },
  failures: failure ? [failure] : [],
  unreadClusters: [],
});

const cluster: ClusterState = {
  region: 'eu-west-1',
  cluster: { name: 'prod', arn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod' },
  tasks: 2,
  pendingTasks: 0,
  targets: [],
  skips: [
    {
      cluster: 'prod',
      taskArn: 'arn:aws:ecs:eu-west-1:123456789012:task/prod/abc123',
      container: '<script>',
      family: 'jobs',
      revision: 2,
      service: 'jobs',
      reason: 'bad_port',
      detail: 'PROMETHEUS_PORT "9x9" is not a port in 1..65535',
    },
  ],
  warnings: [],
  lastSuccessAt: Date.parse('2026-11-24T10:00:00Z'),
  error: undefined,
};

const prodGroups = {
  generic: toPublishedGroup({ interval: 'generic', cluster: 'prod', address: '127.0.0.1:8080', labels: { __meta_ecs_cluster: 'prod', job: 'api' } }),
  '15s': toPublishedGroup({ interval: '15s', cluster: 'prod', address: '127.0.0.2:9100', labels: { __meta_ecs_cluster: 'prod', job: 'node' } }),
};
/** Another account's cluster of the same name and region. */
const otherProd: ClusterState = {
  ...cluster,
  cluster: { name: 'prod', arn: 'arn:aws:ecs:eu-west-1:222222222222:cluster/prod' },
  skips: [],
  targets: [toPublishedGroup({ interval: '15s', cluster: 'prod', address: '127.0.0.3:9100', labels: { __meta_ecs_account_id: '222222222222', job: 'node' } })],
};

const snapshot: Snapshot = {
  finishedAt: Date.parse('2026-11-24T10:00:01Z'),
  clusters: [{ ...cluster, targets: [prodGroups.generic, prodGroups['15s']] }],
  groups: { generic: [prodGroups.generic], '15s': [prodGroups['15s']], '30s': [], '1m': [], '5m': [] },
};

/** bcryptjs' hash of "correct horse", cost 4. */
const ALICE_HASH = '$2y$04$9rgXdjNECdizwsB8LSdbreqwFWg/lil0hfaBYfBj8mUJCEx2VAkrS';

let server: Server;
let base: string;
let status: Status;
let metrics: ReturnType<typeof createMetrics>;

beforeEach(async () => {
  status = new Status({ unreadyAfterFailedRounds: 2, version: '1.2.3' });
  metrics = createMetrics();
  server = createHttpServer({ status, registry: metrics.registry, logger: silentLogger });
  const address = await listen(server, '127.0.0.1', 0);
  base = `http://127.0.0.1:${address.port}`;
});
afterEach(async () => {
  await close(server);
});

const page = (of: Status) => of.page;

describe('HTTP server', () => {
  it('answers 503 on /targets before the first published round, saying whether a round has ended', async () => {
    const response = await fetch(`${base}/targets`);
    status.recordRound(report('failed', 'region eu-west-1: ListClusters failed'));
    const afterFailedRound = await fetch(`${base}/targets`);

    expect(response.status).toBe(503);
    expect(await response.text()).toBe('the first round has not ended yet\n');
    expect(afterFailedRound.status).toBe(503);
    expect(await afterFailedRound.text()).toBe('no round has published targets yet\n');
  });

  it('serves the snapshot as HTTP SD JSON, with filters', async () => {
    status.publish(snapshot);

    const all = await fetch(`${base}/targets`);
    const fifteen = await fetch(`${base}/targets?interval=15s&cluster=prod`);
    const none = await fetch(`${base}/targets?cluster=staging`);

    expect(all.status).toBe(200);
    expect(all.headers.get('content-type')).toBe('application/json');
    expect(await all.json()).toEqual([
      { targets: ['127.0.0.2:9100'], labels: { __meta_ecs_cluster: 'prod', job: 'node', __scrape_interval__: '15s', __scrape_timeout__: '10s' } },
      { targets: ['127.0.0.1:8080'], labels: { __meta_ecs_cluster: 'prod', job: 'api' } },
    ]);
    expect(((await fifteen.json()) as unknown[]).length).toBe(1);
    expect(none.status).toBe(200);
    expect(await none.text()).toBe('[]');
  });

  it('tells apart clusters of one name in two accounts: filters by account, region and cluster', async () => {
    const clusters = [snapshot.clusters[0]!, otherProd];
    status.publish({ ...snapshot, clusters, groups: { ...snapshot.groups, '15s': [prodGroups['15s'], otherProd.targets[0]!] } });
    const addresses = async (query: string) => ((await (await fetch(`${base}/targets?${query}`)).json()) as { targets: string[] }[]).map((group) => group.targets[0]);

    expect(await addresses('cluster=prod')).toEqual(['127.0.0.2:9100', '127.0.0.3:9100', '127.0.0.1:8080']);
    expect(await addresses('account=222222222222&region=eu-west-1&cluster=prod')).toEqual(['127.0.0.3:9100']);
    expect(await addresses('account=123456789012&cluster=prod&interval=15s')).toEqual(['127.0.0.2:9100']);
    expect(await addresses('region=us-east-1')).toEqual([]);
    expect(await addresses('account=333333333333')).toEqual([]);
  });

  it('answers 400 with a one-line reason for a bad filter', async () => {
    status.publish(snapshot);

    const response = await fetch(`${base}/targets?interval=2m`);

    expect(response.status).toBe(400);
    expect(await response.text()).toBe('interval "2m" is not one of 15s, 30s, 1m, 5m, generic\n');
  });

  it('serves the metrics registry on /metrics', async () => {
    metrics.apiCalls.inc({ action: 'ListTasks', outcome: 'ok' }, 3);

    const response = await fetch(`${base}/metrics`);

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    expect(await response.text()).toContain('ecs_discoverer_aws_api_calls_total{action="ListTasks",outcome="ok"} 3');
  });

  it('is healthy while running, and ready only once a round has published and not all recent rounds failed', async () => {
    const ready = async () => {
      const response = await fetch(`${base}/-/ready`);
      return `${response.status} ${(await response.text()).trim()}`;
    };

    expect((await fetch(`${base}/-/healthy`)).status).toBe(200);
    expect(await ready()).toBe('503 the first round has not ended yet');
    status.recordRound(report('failed', 'region eu-west-1: ListClusters failed'));
    expect(await ready()).toBe('503 no round has published targets yet');
    status.publish(snapshot);
    status.recordRound(report('ok'));
    expect(await ready()).toBe('200 ready');
    status.recordRound(report('failed', 'region eu-west-1: ListClusters failed'));
    expect(await ready()).toBe('200 ready');
    status.recordRound(report('failed', 'region eu-west-1: ListClusters failed'));
    expect(await ready()).toBe(
      '503 the last 2 rounds failed (serving the last good targets): region eu-west-1: ListClusters failed',
    );
    status.recordRound(report('partial'));
    expect(await ready()).toBe('200 ready');
  });

  it('renders a status page with the last round, the clusters and the skipped containers, escaped', async () => {
    status.publish(snapshot);
    status.recordRound(report('ok'));

    const response = await fetch(`${base}/`);
    const page = await response.text();

    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page).toContain('<h1>prometheus-ecs-discoverer <span class="version">1.2.3</span></h1>');
    expect(page).toContain('<td>120 ms</td><td>ok</td><td>5</td>');
    expect(page).toContain('<tr><td>123456789012</td><td>eu-west-1</td><td><a href="targets?cluster=prod&amp;region=eu-west-1&amp;account=123456789012">prod</a></td><td>2</td>');
    expect(page).toContain('<span class="what">bad_port</span>: PROMETHEUS_PORT &quot;9x9&quot; is not a port in 1..65535');
    expect(page).toContain('<tr><td>prod</td><td>abc123</td><td>2</td><td>PROMETHEUS_PORT &quot;9x9&quot; is not a port in 1..65535</td></tr>');
    expect(page).toContain('container &lt;script&gt; of jobs:2 (service jobs) in prod');
    expect(page.match(/<script/g), 'the page\'s own script alone').toHaveLength(1);
  });

  it('shows on the status page whether the event queue answers, what came of its messages, and again when that changes', async () => {
    // Prepare
    let events: EventsView = {
      queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/ecs-events',
      listening: true,
      since: Date.parse('2026-11-24T10:00:00Z'),
      lastError: undefined,
      counts: { applied: 12, stale: 3, ignored: 1, unreadable: 0, failed: 0 },
      lastAppliedAt: Date.parse('2026-11-24T10:05:00Z'),
      resyncSeconds: 300,
      intervalSeconds: 15,
    };
    // A fixed clock: the page carries the time it is served, and two readings must differ only by the events.
    const withEvents = new Status({ unreadyAfterFailedRounds: 2, version: '1.2.3', events: () => events, now: () => Date.parse('2026-11-24T10:07:00Z') });
    withEvents.publish(snapshot);
    withEvents.recordRound(report('ok'));

    // Act
    const listening = withEvents.page;
    events = { ...events, listening: false, since: Date.parse('2026-11-24T10:06:00Z'), lastError: 'ReceiveMessage failed: <ServiceUnavailable>' };
    const cached = withEvents.page;
    withEvents.eventsChanged();
    const down = withEvents.page;

    // Assess
    const time = (iso: string) => `<time datetime="${iso}" data-at="${Date.parse(iso)}" title="${iso}">${iso.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}</time>`;
    expect(listening).toContain(`Listening since ${time('2026-11-24T10:00:00.000Z')}: full rounds every 300 s.`);
    expect(listening).toContain('<tr><td>12</td><td>3</td><td>1</td><td>0</td><td>0</td></tr>');
    expect(listening).toContain(`last change applied: ${time('2026-11-24T10:05:00.000Z')}`);
    expect(cached).toBe(listening);
    expect(down).toContain(`The queue does not answer since ${time('2026-11-24T10:06:00.000Z')}: full rounds every 15 s until it does. ReceiveMessage failed: &lt;ServiceUnavailable&gt;`);
    expect(page(withEvents)).not.toContain('<ServiceUnavailable>');
  });

  it('shows no events section without events', async () => {
    status.publish(snapshot);

    expect(page(status)).not.toContain('<h2>Events</h2>');
  });

  it('answers 404 for other paths, 405 for other methods, and HEAD without a body', async () => {
    status.publish(snapshot);

    const missing = await fetch(`${base}/nope`);
    const post = await fetch(`${base}/targets`, { method: 'POST' });
    const head = await fetch(`${base}/targets`, { method: 'HEAD' });

    expect(missing.status).toBe(404);
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    expect(Number(head.headers.get('content-length'))).toBeGreaterThan(2);
  });
});

describe('HTTP server: shared answers, prefix, strict targets, authentication', () => {
  const servers: ReturnType<typeof createHttpServer>[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((created) => close(created)));
  });

  /** A server of its own, with a logger that keeps its lines. */
  async function start(options: Partial<Parameters<typeof createHttpServer>[0]> = {}) {
    const lines: { level: string; message: string; fields: unknown }[] = [];
    const record = (level: string) => (message: string, fields?: unknown) => lines.push({ level, message, fields });
    const own = new Status({ unreadyAfterFailedRounds: 2, version: '1.2.3', linkBase: options.linkBase ?? '/' });
    own.publish(bigSnapshot());
    const created = createHttpServer({
      status: own,
      registry: createMetrics().registry,
      logger: { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') },
      ...options,
    });
    servers.push(created);
    const { port } = await listen(created, '127.0.0.1', 0);
    return { url: `http://127.0.0.1:${port}`, port, lines, status: own };
  }

  /** Enough groups that gzip is worth it. */
  function bigSnapshot(): Snapshot {
    const groups = Array.from({ length: 200 }, (_, index) =>
      toPublishedGroup({ interval: 'generic', cluster: 'prod', address: `127.0.${Math.floor(index / 250)}.${index % 250}:8080`, labels: { job: 'api' } }),
    );
    return { ...snapshot, groups: { ...snapshot.groups, generic: groups } };
  }

  it('gzips /targets for a client that accepts it, with Vary and an ETag, and answers 304 to If-None-Match', async () => {
    const { url, status: own } = await start();

    const plain = await fetch(`${url}/targets`, { headers: { 'accept-encoding': 'identity' } });
    const plainBody = Buffer.from(await plain.arrayBuffer());
    const zipped = await new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
      httpGet(`${url}/targets`, { headers: { 'accept-encoding': 'gzip' } }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ headers: response.headers, body: Buffer.concat(chunks) }));
      }).on('error', reject);
    });
    const again = await fetch(`${url}/targets`, { headers: { 'if-none-match': String(plain.headers.get('etag')) } });

    expect(plain.headers.get('vary')).toBe('Accept-Encoding');
    expect(plain.headers.get('content-encoding')).toBeNull();
    expect(plainBody.equals(own.targetsAnswer({})?.body as Buffer)).toBe(true);
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.headers['vary']).toBe('Accept-Encoding');
    expect(zipped.headers['etag']).toBe(String(plain.headers.get('etag')).replace(/"$/, '-gzip"'));
    expect(gunzipSync(zipped.body).equals(plainBody)).toBe(true);
    expect(zipped.body.length).toBeLessThan(plainBody.length / 4);
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
  });

  it('changes the ETag when a new snapshot changes the answer', async () => {
    const { url, status: own } = await start();
    const before = (await fetch(`${url}/targets`)).headers.get('etag');

    own.publish(snapshot);
    const after = await fetch(`${url}/targets`, { headers: { 'if-none-match': String(before) } });

    expect(after.status).toBe(200);
    expect(after.headers.get('etag')).not.toBe(before);
  });

  it('serves every endpoint under the route prefix only, the page at the prefix with a slash, its links under it', async () => {
    const { url } = await start({ routePrefix: '/monitoring/ecs', linkBase: '/monitoring/ecs/' });

    const targets = await fetch(`${url}/monitoring/ecs/targets`);
    const healthy = await fetch(`${url}/monitoring/ecs/-/healthy`);
    const page = await fetch(`${url}/monitoring/ecs/`);
    const bare = await fetch(`${url}/monitoring/ecs`, { redirect: 'manual' });
    const outside = await fetch(`${url}/targets`);
    const root = await fetch(`${url}/`);

    expect(targets.status).toBe(200);
    expect(healthy.status).toBe(200);
    expect(page.status).toBe(200);
    const text = await page.text();
    expect(text).toContain('<base href="/monitoring/ecs/">');
    expect(text).toContain('href="targets"');
    expect(bare.status).toBe(302);
    expect(bare.headers.get('location')).toBe('/monitoring/ecs/');
    expect(outside.status).toBe(404);
    expect(root.status).toBe(404);
  });

  it('answers //targets with 404, not the status page', async () => {
    const { url } = await start();

    const response = await fetch(`${url}//targets`);

    expect(response.status).toBe(404);
    expect(await response.text()).toBe('not found: //targets\n');
  });

  it('answers 400 to an absolute-form target that does not parse and to a malformed request line, without an error log line', async () => {
    const { port, lines } = await start();

    const absolute = await rawRequest('127.0.0.1', port, 'GET http://[bad/targets HTTP/1.1\r\nHost: x\r\n\r\n');
    const garbage = await rawRequest('127.0.0.1', port, 'GARBAGE\r\n\r\n');
    const good = await rawRequest('127.0.0.1', port, 'GET http://discoverer:8080/-/healthy HTTP/1.1\r\nHost: discoverer\r\n\r\n');

    expect(absolute).toMatch(/^HTTP\/1\.1 400 /);
    expect(garbage).toMatch(/^HTTP\/1\.1 400 /);
    expect(good).toMatch(/^HTTP\/1\.1 200 /);
    expect(lines.filter((line) => line.level === 'error')).toEqual([]);
  });

  it('asks for basic auth on every path, logs wrong credentials without the password, and can leave health open', async () => {
    const auth = new BasicAuth(new Map([['alice', ALICE_HASH]]), compare);
    const security = { file: 'web.yml', tls: undefined, headers: { 'X-Frame-Options': 'deny' }, auth, files: ['web.yml'] };
    const { url, lines } = await start({ security: () => security, openHealthEndpoints: true });
    const as = (credentials: string) => ({ headers: { authorization: `Basic ${Buffer.from(credentials).toString('base64')}` } });

    const none = await fetch(`${url}/targets`);
    const wrong = await fetch(`${url}/targets`, as('alice:hunter2'));
    const missing = await fetch(`${url}/nope`);
    const right = await fetch(`${url}/targets`, as('alice:correct horse'));
    const healthy = await fetch(`${url}/-/healthy`);
    const ready = await fetch(`${url}/-/ready`);

    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic /);
    expect(none.headers.get('x-frame-options')).toBe('deny');
    expect(wrong.status).toBe(401);
    expect(missing.status).toBe(401);
    expect(right.status).toBe(200);
    expect(healthy.status).toBe(200);
    expect(ready.status).toBe(200);
    const refused = lines.filter((line) => line.message.includes('wrong credentials'));
    expect(refused).toHaveLength(1);
    expect(refused[0]?.fields).toMatchObject({ reason: 'wrong password', user: 'alice', path: '/targets' });
    expect(JSON.stringify(lines)).not.toContain('hunter2');
  });
});

describe('HTTP server: the status page as a snapshot', () => {
  it('has an ETag that changes with its content, and answers 304 while it does not', async () => {
    // The page carries the time it is served: a clock that stands still keeps it the same.
    const own = new Status({ unreadyAfterFailedRounds: 2, version: '1.2.3', now: () => Date.parse('2026-11-24T10:00:05Z') });
    own.publish(snapshot);
    own.recordRound(report('ok'));
    const pageServer = createHttpServer({ status: own, registry: createMetrics().registry, logger: silentLogger });
    const { port } = await listen(pageServer, '127.0.0.1', 0);
    try {
      const first = await fetch(`http://127.0.0.1:${port}/`);
      const etag = String(first.headers.get('etag'));
      const same = await fetch(`http://127.0.0.1:${port}/`, { headers: { 'if-none-match': etag } });
      own.recordRound(report('failed', 'region eu-west-1: ListClusters failed'));
      const changed = await fetch(`http://127.0.0.1:${port}/`, { headers: { 'if-none-match': etag } });

      expect(first.status).toBe(200);
      expect(first.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(same.status).toBe(304);
      expect(changed.status).toBe(200);
      expect(await changed.text()).toContain('ListClusters failed');
    } finally {
      await close(pageServer);
    }
  });
});

describe('HTTP server: the targets API behind basic auth', () => {
  it('stores static targets for a user of the web configuration, and for nobody else', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'api-auth-'));
    const own = new Status({ unreadyAfterFailedRounds: 2, version: '1.2.3' });
    own.publish(snapshot);
    const logged: { message: string; fields: unknown }[] = [];
    const auth = new BasicAuth(new Map([['alice', ALICE_HASH]]), compare);
    const apiServer = createHttpServer({
      status: own,
      registry: createMetrics().registry,
      logger: { ...silentLogger, info: (message, fields) => void logged.push({ message, fields }) },
      security: () => ({ file: 'web.yml', tls: undefined, headers: {}, auth, files: ['web.yml'] }),
      targetsApi: { directory: new StaticDirectory({ directory, logger: silentLogger }) },
    });
    const { port } = await listen(apiServer, '127.0.0.1', 0);
    const put = (authorization?: string) =>
      fetch(`http://127.0.0.1:${port}/api/v1/static/lab`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', ...(authorization && { authorization }) },
        body: JSON.stringify([{ targets: ['127.0.0.9:9100'], labels: { job: 'lab' } }]),
      });
    try {
      const anonymous = await put();
      const alice = await put(`Basic ${Buffer.from('alice:correct horse').toString('base64')}`);

      expect(anonymous.status).toBe(401);
      expect(alice.status).toBe(200);
      expect(logged).toEqual([expect.objectContaining({ message: 'static targets stored', fields: expect.objectContaining({ name: 'lab', user: 'alice' }) as unknown })]);
    } finally {
      await close(apiServer);
      await rm(directory, { recursive: true, force: true });
    }
  });
});

describe('HTTP server: closing with requests in flight', () => {
  /**
   * A server whose /metrics answers only when `answer` is called; `asked` resolves once a request
   * waits for it, `askedTwice` once two do, `askedTimes(n)` once n do.
   */
  async function withHeldMetrics(limits?: Parameters<typeof createHttpServer>[0]['limits'], tls?: Parameters<typeof createHttpServer>[0]['tls']) {
    const answers: ((text: string) => void)[] = [];
    const waiting: { times: number; resolve: () => void }[] = [];
    const askedTimes = (times: number) => new Promise<void>((resolve) => waiting.push({ times, resolve }));
    const asked = askedTimes(1);
    const askedTwice = askedTimes(2);
    const registry = {
      contentType: 'text/plain; version=0.0.4; charset=utf-8',
      metrics: () => {
        const answer = new Promise<string>((resolve) => answers.push(resolve));
        for (const { times, resolve } of waiting) if (answers.length === times) resolve();
        return answer;
      },
    } as unknown as ReturnType<typeof createMetrics>['registry'];
    const held = createHttpServer({ status: new Status({ unreadyAfterFailedRounds: 2, version: '1.2.3' }), registry, logger: silentLogger, ...(limits && { limits }), ...(tls && { tls }) });
    const { port } = await listen(held, '127.0.0.1', 0);
    return { held, port, asked, askedTwice, askedTimes, answer: (text: string) => answers.forEach((answer) => answer(text)) };
  }

  /** A client that keeps its connections open as long as the server does (Node's global agent closes them after 5 s). */
  const agent = new Agent({ keepAlive: true });
  afterAll(() => agent.destroy());

  /** GET over a keep-alive connection: the status and body, or the error that ended it. */
  function keepAliveGet(port: number, path: string): Promise<{ status: number; body: string } | { error: string }> {
    return new Promise((resolve) => {
      const request = httpGet({ host: '127.0.0.1', port, path, agent }, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      });
      request.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
    });
  }

  it('lets a request in flight finish, refuses new connections meanwhile, and closes the connection once the answer is sent', async () => {
    // Keep-alive for ten minutes: closing must not wait for the connection's timeout once its answer is done.
    const limits = { headersTimeoutMs: 600_000, requestTimeoutMs: 600_000, keepAliveTimeoutMs: 600_000, writeTimeoutMs: 600_000, maxConnections: 10 };
    const { held, port, asked, answer } = await withHeldMetrics(limits);
    const inFlight = keepAliveGet(port, '/metrics');
    await asked;

    const closed = close(held, 600_000);
    const refused = await keepAliveGet(port, '/-/healthy');
    answer('up 1\n');

    expect(refused).toEqual({ error: 'ECONNREFUSED' });
    expect(await inFlight).toEqual({ status: 200, body: 'up 1\n' });
    expect(await closed).toBe(true);
  });

  it('forgets an answer queued behind another (pipelining) once its client has gone', async () => {
    const { held, port, askedTwice } = await withHeldMetrics();
    const serverSide = new Promise<Socket>((resolve) => held.once('connection', resolve));
    const client = connect(port, '127.0.0.1', () => client.write('GET /metrics HTTP/1.1\r\nhost: a\r\n\r\nGET /metrics HTTP/1.1\r\nhost: a\r\n\r\n'));
    const socket = await serverSide;
    await askedTwice;

    expect(requestsInFlight(held)).toBe(2);
    const gone = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    client.destroy();
    await gone;

    expect(requestsInFlight(held)).toBe(0);
    await close(held);
  });

  it('keeps one listener per connection, not one per request, however many are pipelined on it', async () => {
    const { held, port, askedTimes, answer } = await withHeldMetrics();
    const serverSide = new Promise<Socket>((resolve) => held.once('connection', resolve));
    const pipelined = 'GET /metrics HTTP/1.1\r\nhost: a\r\n\r\n'.repeat(15);
    const client = connect(port, '127.0.0.1', () => client.write(pipelined));
    const socket = await serverSide;
    await askedTimes(15);

    expect(requestsInFlight(held)).toBe(15);
    // Past this (ten by default), Node.js prints MaxListenersExceededWarning.
    expect(socket.listenerCount('close')).toBeLessThan(socket.getMaxListeners());
    const gone = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    client.destroy();
    await gone;

    expect(requestsInFlight(held)).toBe(0);
    answer('up 1\n');
    await close(held);
  });

  it('closes an HTTPS connection that never began its handshake when the grace is over', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'close-tls-'));
    const pki = makeTestPki(directory);
    await writeFile(join(directory, 'web.yml'), `tls_server_config:\n  cert_file: ${pki.serverCert}\n  key_file: ${pki.serverKey}\n`);
    const { tls } = await loadWebSecurity(join(directory, 'web.yml'));
    // The handshake may take ten minutes: only close() can end this connection in time.
    const limits = { headersTimeoutMs: 600_000, requestTimeoutMs: 600_000, keepAliveTimeoutMs: 600_000, writeTimeoutMs: 600_000, maxConnections: 10 };
    const { held, port } = await withHeldMetrics(limits, tls);
    const serverSide = new Promise<Socket>((resolve) => held.once('connection', resolve));
    const silent = connect(port, '127.0.0.1');
    silent.on('error', () => {});
    await serverSide;

    expect(await close(held, 0)).toBe(true);
    silent.destroy();
    await rm(directory, { recursive: true, force: true });
  });

  it('cuts a request still in flight when the grace is over, and says so', async () => {
    const { held, port, asked } = await withHeldMetrics();
    const inFlight = keepAliveGet(port, '/metrics');
    await asked;

    expect(await close(held, 0)).toBe(false);
    expect(await inFlight).toEqual({ error: 'ECONNRESET' });
  });
});
