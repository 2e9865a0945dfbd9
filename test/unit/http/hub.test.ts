import type { IncomingMessage, Server } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseMatchers, type LabelMatcher } from '../../../src/discovery/matchers.js';
import { toPublishedGroup } from '../../../src/discovery/targetGroups.js';
import { close, createHttpServer, listen } from '../../../src/http/server.js';
import { Status } from '../../../src/http/status.js';
import { silentLogger, type Logger } from '../../../src/log.js';
import { createMetrics } from '../../../src/metrics.js';
import { StaticDirectory } from '../../../src/output/staticDirectory.js';
import type { Snapshot } from '../../../src/round.js';

const group = (address: string, team: string) =>
  toPublishedGroup({ interval: 'generic', cluster: 'prod', address, labels: { __meta_ecs_cluster: 'prod', job: `api-${team}`, team } });
const snapshot: Snapshot = {
  finishedAt: 1,
  clusters: [],
  groups: { generic: [group('127.0.0.1:80', 'payments'), group('127.0.0.2:80', 'search')], '15s': [], '30s': [], '1m': [], '5m': [] },
};
const selector = (text: string): readonly LabelMatcher[] => {
  const parsed = parseMatchers(text);
  if ('error' in parsed) throw new Error(parsed.error);
  return parsed.matchers;
};

let server: Server;
let base: string;
let directory: string;
let staticDirectory: StaticDirectory;
let logged: { message: string; fields: Record<string, unknown> | undefined }[];

/** Stands in for the server's authentication: a request with `x-test-user` is that user. */
const testUser = (request: IncomingMessage) => (typeof request.headers['x-test-user'] === 'string' ? request.headers['x-test-user'] : undefined);

async function start(authenticatedUser: ((request: IncomingMessage) => string | undefined) | undefined) {
  const status = new Status({ unreadyAfterFailedRounds: 2, version: '1' });
  status.publish(snapshot);
  logged = [];
  const logger: Logger = { ...silentLogger, info: (message, fields) => void logged.push({ message, fields }) };
  server = createHttpServer({
    status,
    registry: createMetrics().registry,
    logger,
    selections: new Map([['payments', selector('team="payments"')], ['nobody', selector('team="none"')]]),
    targetsApi: { directory: staticDirectory, authenticatedUser },
  });
  base = `http://127.0.0.1:${(await listen(server, '127.0.0.1', 0)).port}`;
}

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'hub-static-'));
  staticDirectory = new StaticDirectory({ directory, logger: silentLogger });
});
afterEach(async () => {
  await close(server);
  await rm(directory, { recursive: true, force: true });
});

const targetsOf = async (path: string) => ((await (await fetch(`${base}${path}`)).json()) as { targets: string[] }[]).flatMap((served) => served.targets);

describe('selections', () => {
  beforeEach(() => start(undefined));

  it('serves a named selection at /targets/<name>, with the other filters too', async () => {
    expect(await targetsOf('/targets/payments')).toEqual(['127.0.0.1:80']);
    expect(await targetsOf('/targets?match=team%3Dsearch')).toEqual(['127.0.0.2:80']);
    expect(await targetsOf('/targets/payments?match=job%3D~api-.*')).toEqual(['127.0.0.1:80']);
  });

  it('answers 200 [] for a selection that matches nothing, and 404 for an unknown name', async () => {
    const nothing = await fetch(`${base}/targets/nobody`);
    const unknown = await fetch(`${base}/targets/team-x`);

    expect([nothing.status, await nothing.text()]).toEqual([200, '[]']);
    expect([unknown.status, await unknown.text()]).toEqual([404, 'no selection named "team-x"\n']);
  });

  it('answers 400 for a bad matcher or a malformed path', async () => {
    expect((await fetch(`${base}/targets?match=%3D%3D`)).status).toBe(400);
    expect((await fetch(`${base}/targets/%E0%A4%A`)).status).toBe(400);
  });
});

describe('targets API', () => {
  const body = JSON.stringify([{ targets: ['127.0.0.9:9187'], labels: { job: 'rds' } }]);

  it('refuses writes when the server has no authentication, and still reads', async () => {
    await start(undefined);

    const put = await fetch(`${base}/api/v1/static/rds`, { method: 'PUT', body, headers: { 'x-test-user': 'alice' } });
    const get = await fetch(`${base}/api/v1/static/rds`);

    expect(put.status).toBe(403);
    expect(((await put.json()) as { message: string }).message).toContain('need authentication');
    expect(get.status).toBe(404);
  });

  it('refuses a write without a user when authentication is configured', async () => {
    await start(testUser);

    const put = await fetch(`${base}/api/v1/static/rds`, { method: 'PUT', body });

    expect(put.status).toBe(403);
  });

  it('stores PUT groups as <name>.json (JSON or YAML), serves them, replaces them, and removes them on DELETE, logging the user', async () => {
    await start(testUser);

    const put = await fetch(`${base}/api/v1/static/rds`, { method: 'PUT', body, headers: { 'x-test-user': 'alice' } });
    const stored = JSON.parse(await readFile(join(directory, 'rds.json'), 'utf8')) as unknown;
    const get = await fetch(`${base}/api/v1/static/rds`);
    const replaced = await fetch(`${base}/api/v1/static/rds`, {
      method: 'PUT',
      body: '- targets: ["127.0.0.8:9100"]\n',
      headers: { 'x-test-user': 'bob', 'content-type': 'application/yaml' },
    });
    const after = await (await fetch(`${base}/api/v1/static/rds`)).json();
    const removed = await fetch(`${base}/api/v1/static/rds`, { method: 'DELETE', headers: { 'x-test-user': 'alice' } });
    const gone = await fetch(`${base}/api/v1/static/rds`);

    expect(put.status).toBe(200);
    expect(await put.json()).toEqual({ message: 'stored rds', groups: 1, targets: 1 });
    expect(stored).toEqual([{ targets: ['127.0.0.9:9187'], labels: { job: 'rds' } }]);
    expect(await get.json()).toEqual(stored);
    expect(replaced.status).toBe(200);
    expect(after).toEqual([{ targets: ['127.0.0.8:9100'], labels: {} }]);
    expect(removed.status).toBe(200);
    expect(gone.status).toBe(404);
    expect(logged.map((line) => [line.message, line.fields?.['user']])).toEqual([
      ['static targets stored', 'alice'],
      ['static targets stored', 'bob'],
      ['static targets removed', 'alice'],
    ]);
  });

  it('answers 400 with a JSON message for groups that do not validate, and for a bad name; nothing is stored', async () => {
    await start(testUser);

    const bad = await fetch(`${base}/api/v1/static/rds`, { method: 'PUT', body: '[{"targets":["nope"]}]', headers: { 'x-test-user': 'alice' } });
    const badName = await fetch(`${base}/api/v1/static/_hidden`, { method: 'PUT', body, headers: { 'x-test-user': 'alice' } });

    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ message: 'group 1: target "nope" is not host:port' });
    expect(badName.status).toBe(400);
    expect(((await badName.json()) as { message: string }).message).toContain('name "_hidden" is not valid');
    expect(await staticDirectory.read('rds')).toBeUndefined();
  });

  it('answers 405 for other methods', async () => {
    await start(testUser);
    const post = await fetch(`${base}/api/v1/static/rds`, { method: 'POST', body, headers: { 'x-test-user': 'alice' } });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD, PUT, DELETE');
  });
});

describe('the status page of the hub', () => {
  beforeEach(() => start(undefined));

  it('counts the targets per shard when asked (?shards=n), links each shard, and refuses a bad count', async () => {
    const page = await (await fetch(`${base}/?shards=2`)).text();
    const bad = await fetch(`${base}/?shards=0`);
    const counts = [...page.matchAll(/<a href="targets\?shard=(\d)&amp;of=2">\d<\/a><\/td><td>(\d+)<\/td>/g)].map((match) => [Number(match[1]), Number(match[2])]);

    expect(counts.map(([shard]) => shard)).toEqual([0, 1]);
    expect(counts.reduce((sum, [, count]) => sum + (count ?? 0), 0)).toBe(2);
    expect(bad.status).toBe(400);
  });
});

describe('the status page with static targets', () => {
  it('names a bad static file and why, escaped', async () => {
    const status = new Status({ unreadyAfterFailedRounds: 2, version: '1' });
    status.publish(snapshot);
    status.showStatic([
      { name: 'good.json', groups: [{}], error: undefined },
      { name: 'bad<x>.json', groups: [], error: 'group 1: target "<script>" is not host:port' },
    ]);

    expect(status.page).toContain('<td>good.json</td><td>1</td><td>ok</td>');
    expect(status.page).toContain('<td>bad&lt;x&gt;.json</td><td>0</td><td><span class="error">skipped: group 1: target &quot;&lt;script&gt;&quot; is not host:port</span></td>');
  });
});
