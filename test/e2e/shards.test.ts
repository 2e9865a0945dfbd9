import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeAws, type FakeFleet } from '../../src/fake/fakeAws.js';
import { addDefinition, addTask, emptyFleet, makeTaskDefinition } from '../../src/fake/fleet.js';
import { RunningDiscoverer, assertBuilt, fakeAwsEnv, freePort } from '../support/runningDiscoverer.js';

/**
 * Two real Prometheus servers, each on one shard of two (`/targets?shard=i&of=2`), scrape
 * disjoint halves whose union is every target; a third job, on the first server, shards the
 * whole list with Prometheus' own hashmod relabeling and must take exactly the first half.
 * Adding 10 % more tasks moves no target from one server to the other.
 */
const PROMETHEUS = '/usr/bin/prometheus';
const installed = existsSync(PROMETHEUS);
if (!installed) {
  if (process.env['CI']) throw new Error(`${PROMETHEUS} is missing in CI: .ci/run should have installed Debian's prometheus package`);
  console.warn(`\n*** SKIPPING the Prometheus shards test: ${PROMETHEUS} is not installed (apt-get install prometheus) ***\n`);
}

const TASKS = 40;
const app = makeTaskDefinition('app', 1, 'awsvpc', [{ name: 'app', environment: { PROMETHEUS: 'true' }, portMappings: [{ containerPort: 9100 }] }]);
const addressOf = (index: number) => `127.0.60.${index + 1}:9100`;

function addTasks(fleet: FakeFleet, from: number, to: number): void {
  for (let index = from; index < to; index++) {
    addTask(fleet, { cluster: 'web', id: `task${index}`, definition: app, launchType: 'FARGATE', eniIp: `127.0.60.${index + 1}`, containers: [{ name: 'app' }] });
  }
}

interface PrometheusServer {
  process: ChildProcess;
  url: string;
}

let fake: FakeAws;
let discoverer: RunningDiscoverer;
let workDir: string;
const servers: PrometheusServer[] = [];

async function startPrometheus(name: string, scrapeConfigs: string): Promise<PrometheusServer> {
  const directory = join(workDir, name);
  await writeFile(join(workDir, `${name}.yml`), `global:\n  scrape_interval: 1m\nscrape_configs:\n${scrapeConfigs}`);
  const port = await freePort();
  const child = spawn(
    PROMETHEUS,
    [`--config.file=${join(workDir, `${name}.yml`)}`, `--storage.tsdb.path=${directory}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const server = { process: child, url: `http://127.0.0.1:${port}` };
  servers.push(server);
  return server;
}

/** The addresses each scrape pool of a server has, once Prometheus answers. */
async function poolsOf(server: PrometheusServer): Promise<Map<string, string[]>> {
  const pools = new Map<string, string[]>();
  try {
    const response = await fetch(`${server.url}/api/v1/targets?state=active`);
    const { data } = (await response.json()) as { data: { activeTargets: { scrapePool: string; labels: Record<string, string> }[] } };
    for (const target of data.activeTargets) pools.set(target.scrapePool, [...(pools.get(target.scrapePool) ?? []), target.labels['instance'] ?? ''].sort());
  } catch {
    // Still starting.
  }
  return pools;
}

/** Waits until both servers' shards hold `count` targets between them; returns every pool. */
async function untilSharded(count: number, first: PrometheusServer, second: PrometheusServer) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const [a, b] = await Promise.all([poolsOf(first), poolsOf(second)]);
    const shard0 = a.get('shard0') ?? [];
    const shard1 = b.get('shard1') ?? [];
    const hashmod0 = a.get('hashmod0') ?? [];
    if (shard0.length + shard1.length === count && hashmod0.length === shard0.length) return { shard0, shard1, hashmod0 };
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${count} targets on the two shards: shard0 ${shard0.length}, shard1 ${shard1.length}, hashmod0 ${hashmod0.length}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe.skipIf(!installed)('two Prometheus servers on two shards', () => {
  let first: PrometheusServer;
  let second: PrometheusServer;

  beforeAll(async () => {
    assertBuilt();
    const fleet = emptyFleet();
    addDefinition(fleet, app);
    addTasks(fleet, 0, TASKS);
    fake = new FakeAws(fleet);
    await fake.start();
    workDir = await mkdtemp(join(tmpdir(), 'discoverer-shards-'));
    const httpPort = await freePort();
    discoverer = new RunningDiscoverer(
      ['--interval', '1', '--output-dir', join(workDir, 'targets'), '--http-host', '127.0.0.1', '--http-port', String(httpPort)],
      fakeAwsEnv(fake.url),
    );
    await discoverer.waitForRounds(1);
    const sd = (query: string) => `    http_sd_configs:\n      - url: 'http://127.0.0.1:${httpPort}/targets${query}'\n        refresh_interval: 1s\n`;
    first = await startPrometheus(
      'first',
      `  - job_name: shard0\n${sd('?shard=0&of=2')}  - job_name: hashmod0\n${sd('')}    relabel_configs:\n      - source_labels: [__address__]\n        modulus: 2\n        target_label: __tmp_shard\n        action: hashmod\n      - source_labels: [__tmp_shard]\n        regex: '0'\n        action: keep\n`,
    );
    second = await startPrometheus('second', `  - job_name: shard1\n${sd('?shard=1&of=2')}`);
  }, 60_000);

  afterAll(async () => {
    for (const server of servers) if (server.process.pid) process.kill(server.process.pid, 'SIGTERM');
    await discoverer?.stop('SIGTERM');
    await fake?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('scrape disjoint halves whose union is every target, the halves hashmod makes, and keep them when 10 % more tasks come', async () => {
    const before = await untilSharded(TASKS, first, second);
    addTasks(fake.fleet, TASKS, TASKS + TASKS / 10);
    const after = await untilSharded(TASKS + TASKS / 10, first, second);

    const everyAddress = (count: number) => Array.from({ length: count }, (_, index) => addressOf(index)).sort();
    expect([...before.shard0, ...before.shard1].sort()).toEqual(everyAddress(TASKS));
    expect(before.shard0.filter((address) => before.shard1.includes(address))).toEqual([]);
    expect(before.shard0.length).toBeGreaterThan(0);
    expect(before.shard1.length).toBeGreaterThan(0);
    expect(before.hashmod0).toEqual(before.shard0);
    expect([...after.shard0, ...after.shard1].sort()).toEqual(everyAddress(TASKS + TASKS / 10));
    expect(after.hashmod0).toEqual(after.shard0);
    // No target moved: each one of before is on the same server after.
    expect(before.shard0.filter((address) => !after.shard0.includes(address))).toEqual([]);
    expect(before.shard1.filter((address) => !after.shard1.includes(address))).toEqual([]);
  });
});
