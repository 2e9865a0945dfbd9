import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TargetGroup } from '../../src/discovery/targetGroups.js';
import { FakeAws } from '../../src/fake/fakeAws.js';
import { RunningDiscoverer, assertBuilt, fakeAwsEnv, freePort } from '../support/runningDiscoverer.js';
import { edgeFleet } from '../support/edgeFleet.js';

const FILE_INTERVALS: [string, string | undefined][] = [
  ['tasks.json', undefined],
  ['15s-tasks.json', '15s'],
  ['30s-tasks.json', '30s'],
  ['1m-tasks.json', '1m'],
  ['5m-tasks.json', '5m'],
];

let fake: FakeAws;
let outputDir: string;
let running: RunningDiscoverer;
let base: string;

const get = async (path: string) => {
  const response = await fetch(`${base}${path}`);
  return { status: response.status, type: response.headers.get('content-type'), body: await response.text() };
};
const sortGroups = (groups: TargetGroup[]) => [...groups].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

beforeAll(() => {
  assertBuilt();
});
beforeEach(async () => {
  fake = new FakeAws(edgeFleet());
  await fake.start();
  outputDir = await mkdtemp(join(tmpdir(), 'discoverer-http-'));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  running = new RunningDiscoverer(
    ['--interval', '1', '--output-dir', outputDir, '--http-host', '127.0.0.1', '--http-port', String(port)],
    { ...fakeAwsEnv(fake.url), ECS_DISCOVERER_AWS_MAX_ATTEMPTS: '1', ECS_DISCOVERER_HTTP_UNREADY_AFTER_FAILED_ROUNDS: '2' },
  );
});
afterEach(async () => {
  await running.stop('SIGKILL');
  await fake.stop();
  await rm(outputDir, { recursive: true, force: true });
});

describe('HTTP endpoints of a running discoverer', () => {
  it('serves on /targets exactly the targets of the files, with the scrape interval of interval groups', async () => {
    await running.waitForRounds(1);

    const answer = await get('/targets');
    const expected: TargetGroup[] = [];
    for (const [file, interval] of FILE_INTERVALS) {
      const groups = JSON.parse(await readFile(join(outputDir, file), 'utf8')) as TargetGroup[];
      for (const group of groups) {
        expected.push(interval ? { ...group, labels: { ...group.labels, __scrape_interval__: interval, __scrape_timeout__: '10s' } } : group);
      }
    }

    expect(answer.status).toBe(200);
    expect(answer.type).toBe('application/json');
    expect(expected.length).toBeGreaterThan(150);
    expect(sortGroups(JSON.parse(answer.body) as TargetGroup[])).toEqual(sortGroups(expected));
  });

  it('filters /targets by interval and cluster', async () => {
    await running.waitForRounds(1);

    const thirty = JSON.parse((await get('/targets?interval=30s&cluster=prod')).body) as TargetGroup[];
    const batch = JSON.parse((await get('/targets?cluster=batch')).body) as TargetGroup[];
    const bad = await get('/targets?interval=2m');

    expect(thirty.map((group) => group.targets[0])).toEqual(['127.0.20.1:9200']);
    expect(batch).toHaveLength(150);
    expect(batch.every((group) => group.labels['__scrape_interval__'] === '30s')).toBe(true);
    expect(bad.status).toBe(400);
  });

  it('counts the AWS calls of the rounds by action on /metrics', async () => {
    await running.waitForRounds(2);

    const metrics = (await get('/metrics')).body;

    expect(metrics).toMatch(/^ecs_discoverer_aws_api_calls_total\{action="ListClusters",outcome="ok"\} [2-9]/m);
    expect(metrics).toMatch(/^ecs_discoverer_aws_api_calls_total\{action="DescribeTasks",outcome="ok"\} \d+/m);
    expect(metrics).toMatch(/^ecs_discoverer_targets\{interval="30s"\} 151$/m);
    expect(metrics).toMatch(/^ecs_discoverer_skipped_containers\{reason="bad_port"\} 1$/m);
    expect(metrics).toMatch(/^ecs_discoverer_process_cpu_seconds_total /m);
  });

  it('turns not ready while AWS does not answer, keeps serving the last targets, and is ready again when it comes back', async () => {
    await running.waitForRounds(1);
    expect((await get('/-/ready')).status).toBe(200);
    const before = (await get('/targets')).body;
    const filesBefore = await readFile(join(outputDir, 'tasks.json'), 'utf8');

    fake.faults.outage = true;
    await running.waitFor(() => running.rounds().filter((round) => round['outcome'] === 'failed').length >= 2, '2 failed rounds');
    const unready = await get('/-/ready');
    const during = (await get('/targets')).body;
    fake.faults.outage = false;
    const failedSoFar = running.rounds().length;
    await running.waitFor(() => running.rounds().slice(failedSoFar).some((round) => round['outcome'] === 'ok'), 'a good round');
    const ready = await get('/-/ready');

    expect(unready.status).toBe(503);
    expect(unready.body).toContain('the last 2 rounds failed');
    expect(during).toBe(before);
    expect(await readFile(join(outputDir, 'tasks.json'), 'utf8')).toBe(filesBefore);
    expect(ready).toMatchObject({ status: 200, body: 'ready\n' });
  });

  it('shows a status page naming the skipped containers and their reasons', async () => {
    await running.waitForRounds(1);

    const page = await get('/');

    expect(page.status).toBe(200);
    expect(page.body).toMatch(/<span class="what">no_port_binding<\/span>[^<]*<span class="owner">— container envoy of /);
    expect(page.body).toMatch(/<span class="what">bad_port<\/span>[^<]*<span class="owner">— container app of /);
    expect(page.body).toMatch(/<tr><td>prod<\/td><td>badport1<\/td>/);
  });
});
