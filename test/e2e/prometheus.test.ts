import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeAws, type FakeFleet } from '../../src/fake/fakeAws.js';
import { addDefinition, addTask, makeTaskDefinition } from '../../src/fake/fleet.js';
import { RunningDiscoverer, assertBuilt, fakeAwsEnv, freePort } from '../support/runningDiscoverer.js';
import { BIG_CLUSTER_TASKS, EXPECTED_PROD, bigClusterIp, edgeFleet } from '../support/edgeFleet.js';

/**
 * A real Prometheus, fed from the discoverer's files (one job per interval file) and from its
 * HTTP SD endpoint (one job), must discover exactly the targets that the edge fleet implies.
 * .ci/run installs Debian's prometheus package; elsewhere the test is skipped, loudly.
 */
const PROMETHEUS = '/usr/bin/prometheus';
const installed = existsSync(PROMETHEUS);
if (!installed) {
  if (process.env['CI']) throw new Error(`${PROMETHEUS} is missing in CI: .ci/run should have installed Debian's prometheus package`);
  console.warn(`\n*** SKIPPING the Prometheus end-to-end test: ${PROMETHEUS} is not installed (apt-get install prometheus) ***\n`);
}

interface ActiveTarget {
  scrapePool: string;
  scrapeUrl: string;
  scrapeInterval: string;
  labels: Record<string, string>;
  health: 'up' | 'down' | 'unknown';
  lastError: string;
}

/** One expected target as Prometheus shows it: pool, URL, job label and interval. */
type Seen = `${string} ${string} job=${string} every ${string}`;

const FILE_JOBS = [
  { job: 'file-15s', file: '15s-tasks.json', interval: '15s' },
  { job: 'file-30s', file: '30s-tasks.json', interval: '30s' },
  { job: 'file-1m', file: '1m-tasks.json', interval: '1m' },
  { job: 'file-5m', file: '5m-tasks.json', interval: '5m' },
  { job: 'file-generic', file: 'tasks.json', interval: '2m' },
] as const;
/** The http job's own interval: what groups without __scrape_interval__ get. */
const HTTP_JOB_INTERVAL = '2m';

/** Every target of the edge fleet, by file, as address, path and job. */
function expectedByFile(): Record<string, { address: string; path: string; job: string }[]> {
  const byFile: Record<string, { address: string; path: string; job: string }[]> = {};
  for (const [file, groups] of Object.entries(EXPECTED_PROD)) {
    byFile[file] = groups.map((group) => ({
      address: group.targets[0] as string,
      path: group.labels.__metrics_path__,
      job: group.labels.job,
    }));
  }
  for (let index = 0; index < BIG_CLUSTER_TASKS; index++) {
    byFile['30s-tasks.json']?.push({ address: `${bigClusterIp(index)}:8000`, path: '/metrics', job: 'worker' });
  }
  byFile['15s-tasks.json']?.push(ipv6Target);
  return byFile;
}

function expectedSeen(): Seen[] {
  const seen: Seen[] = [];
  const byFile = expectedByFile();
  for (const { job, file, interval } of FILE_JOBS) {
    for (const target of byFile[file] ?? []) seen.push(`${job} http://${target.address}${target.path} job=${target.job} every ${interval}`);
  }
  for (const { file, interval } of FILE_JOBS) {
    const httpInterval = file === 'tasks.json' ? HTTP_JOB_INTERVAL : interval;
    for (const target of byFile[file] ?? []) seen.push(`http http://${target.address}${target.path} job=${target.job} every ${httpInterval}`);
  }
  return seen.sort();
}

/**
 * An IPv6-only Fargate task, added to the edge fleet, whose exporter is a tiny /metrics served
 * by the test on [::1]: Prometheus must discover it at [::1]:port and scrape it.
 */
let ipv6Target: { address: string; path: string; job: string };
function withIpv6Task(fleet: FakeFleet, port: number): FakeFleet {
  const definition = addDefinition(
    fleet,
    makeTaskDefinition('v6only', 1, 'awsvpc', [{ name: 'app', environment: { PROMETHEUS: 'true', PROMETHEUS_ENDPOINT: '15s:/metrics' }, portMappings: [{ containerPort: port }] }]),
  );
  addTask(fleet, { cluster: 'v6', id: 'v6task', definition, launchType: 'FARGATE', eniIp: '::1', containers: [{ name: 'app' }] });
  return fleet;
}

/** A /metrics on [::1], on a free port. */
async function serveMetricsOnIpv6Loopback(): Promise<{ server: Server; port: number }> {
  const server = createServer((request, response) => {
    if (request.url !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end('# TYPE e2e_ipv6_exporter_up gauge\ne2e_ipv6_exporter_up 1\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '::1', resolve);
  });
  return { server, port: (server.address() as { port: number }).port };
}

/** Prometheus' active targets, or undefined while it is still starting. */
async function activeTargets(): Promise<ActiveTarget[] | undefined> {
  try {
    const response = await fetch(`${prometheusUrl}/api/v1/targets?state=active`);
    const { data } = (await response.json()) as { data: { activeTargets: ActiveTarget[] } };
    return data.activeTargets;
  } catch {
    return undefined;
  }
}

/**
 * Asks Prometheus again until `isDone` holds of its active targets. The deadline only bounds a
 * failing run: a passing one ends as soon as Prometheus has done it.
 */
async function pollTargets(isDone: (targets: ActiveTarget[]) => boolean): Promise<ActiveTarget[]> {
  let targets: ActiveTarget[] = [];
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    targets = (await activeTargets()) ?? targets;
    if (isDone(targets)) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return targets;
}

let fake: FakeAws;
let discoverer: RunningDiscoverer;
let prometheus: ChildProcess;
let workDir: string;
let prometheusUrl: string;
let exporter: Server | undefined;

describe.skipIf(!installed)('a real Prometheus fed by the discoverer', () => {
  beforeAll(async () => {
    assertBuilt();
    const served = await serveMetricsOnIpv6Loopback();
    exporter = served.server;
    ipv6Target = { address: `[::1]:${served.port}`, path: '/metrics', job: 'v6only' };
    fake = new FakeAws(withIpv6Task(edgeFleet(), served.port));
    await fake.start();
    workDir = await mkdtemp(join(tmpdir(), 'discoverer-e2e-'));
    const targetsDir = join(workDir, 'targets');
    const httpPort = await freePort();
    discoverer = new RunningDiscoverer(
      ['--interval', '2', '--output-dir', targetsDir, '--http-host', '127.0.0.1', '--http-port', String(httpPort)],
      fakeAwsEnv(fake.url),
    );
    await discoverer.waitForRounds(1);

    const fileJobs = FILE_JOBS.map(
      ({ job, file, interval }) => `  - job_name: ${job}
    scrape_interval: ${interval}
    file_sd_configs:
      - files: ['${join(targetsDir, file)}']
        refresh_interval: 5s`,
    ).join('\n');
    await writeFile(
      join(workDir, 'prometheus.yml'),
      `global:
  scrape_interval: 1m
scrape_configs:
${fileJobs}
  - job_name: http
    scrape_interval: ${HTTP_JOB_INTERVAL}
    http_sd_configs:
      - url: 'http://127.0.0.1:${httpPort}/targets'
        refresh_interval: 5s
`,
    );
    const prometheusPort = await freePort();
    prometheusUrl = `http://127.0.0.1:${prometheusPort}`;
    prometheus = spawn(
      PROMETHEUS,
      [
        `--config.file=${join(workDir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(workDir, 'data')}`,
        `--web.listen-address=127.0.0.1:${prometheusPort}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
  }, 60_000);

  afterAll(async () => {
    if (prometheus?.pid) process.kill(prometheus.pid, 'SIGTERM');
    await discoverer?.stop('SIGTERM');
    await fake?.stop();
    await new Promise((resolve) => (exporter ? exporter.close(resolve) : resolve(undefined)));
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('discovers exactly the expected targets, with their metrics path, job and scrape interval', async () => {
    const expected = expectedSeen();
    const toSeen = (target: ActiveTarget): Seen => `${target.scrapePool} ${target.scrapeUrl} job=${target.labels['job'] ?? ''} every ${target.scrapeInterval}`;

    const targets = await pollTargets((active) => active.length >= expected.length);

    expect(targets.map(toSeen).sort()).toEqual(expected);
  });

  it('scrapes the IPv6-only task at [::1]:port, from the files and from HTTP SD, with health up', async () => {
    const url = `http://${ipv6Target.address}/metrics`;
    const ipv6 = (active: ActiveTarget[]) => active.filter((target) => target.scrapeUrl === url);

    // Prometheus scrapes a new target within its interval (15s), at an offset of its own.
    const targets = await pollTargets((active) => ipv6(active).length === 2 && ipv6(active).every((target) => target.health !== 'unknown'));

    expect(ipv6(targets).map((target) => `${target.scrapePool} ${target.health} ${target.lastError}`).sort()).toEqual(['file-15s up ', 'http up ']);
  });
});
