import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TargetGroup } from '../../src/discovery/targetGroups.js';
import { FakeAws } from '../../src/fake/fakeAws.js';
import { edgeFleet } from '../support/edgeFleet.js';
import { RunningDiscoverer, assertBuilt, fakeAwsEnv, freePort, runCli } from '../support/runningDiscoverer.js';

/**
 * A cluster that fails from the first round (AccessDenied) must not hide the healthy ones:
 * they are published from the first round, and the failing one keeps what an earlier run
 * published for it, read back from the files; with nothing earlier, it is said loudly to be
 * published without targets once http.unreadyAfterFailedRounds rounds have passed.
 */

let fake: FakeAws;
let outputDir: string;
let running: RunningDiscoverer | undefined;
let base: string;
let port: number;

async function filesByCluster(): Promise<Record<string, string[]>> {
  const byCluster: Record<string, string[]> = {};
  for (const file of (await readdir(outputDir)).filter((name) => !name.startsWith('.')).sort()) {
    for (const group of JSON.parse(await readFile(join(outputDir, file), 'utf8')) as TargetGroup[]) {
      const cluster = group.labels['__meta_ecs_cluster'] ?? '';
      (byCluster[cluster] ??= []).push(`${file} ${group.targets[0]}`);
    }
  }
  for (const targets of Object.values(byCluster)) targets.sort();
  return byCluster;
}
const start = (env: NodeJS.ProcessEnv = {}) => {
  running = new RunningDiscoverer(
    ['--interval', '1', '--output-dir', outputDir, '--http-host', '127.0.0.1', '--http-port', String(port)],
    { ...fakeAwsEnv(fake.url), ECS_DISCOVERER_HTTP_UNREADY_AFTER_FAILED_ROUNDS: '2', ...env },
  );
  return running;
};
const get = async (path: string) => {
  const response = await fetch(`${base}${path}`);
  return { status: response.status, body: await response.text() };
};

beforeAll(() => {
  assertBuilt();
});
beforeEach(async () => {
  fake = new FakeAws(edgeFleet());
  await fake.start();
  outputDir = await mkdtemp(join(tmpdir(), 'discoverer-startup-'));
  port = await freePort();
  base = `http://127.0.0.1:${port}`;
});
afterEach(async () => {
  await running?.stop('SIGKILL');
  running = undefined;
  await fake.stop();
  await rm(outputDir, { recursive: true, force: true });
});

describe('start-up with a cluster that fails from the first round', () => {
  it('publishes the healthy clusters at once, and keeps for the failing one what the earlier run wrote', async () => {
    // Prepare: an earlier run wrote every cluster's targets; now prod is denied
    expect((await runCli(['--once', '--output-dir', outputDir], fakeAwsEnv(fake.url))).code).toBe(0);
    const before = await filesByCluster();
    fake.faults.deniedClusters.add('prod');
    fake.fleet.clusters.find((cluster) => cluster.name === 'batch')?.tasks.splice(0, 10);

    // Act
    const discoverer = start();
    const first = await discoverer.waitForRounds(1);

    // Assess
    expect(first['outcome']).toBe('partial');
    const after = await filesByCluster();
    expect(after['prod']).toEqual(before['prod']);
    expect(after['batch']).toHaveLength((before['batch']?.length ?? 0) - 10);
    const served = JSON.parse((await get('/targets')).body) as TargetGroup[];
    expect(served.filter((group) => group.labels['__meta_ecs_cluster'] === 'prod')).toHaveLength(before['prod']?.length ?? -1);
    expect(discoverer.lines.some((line) => String(line['msg']).startsWith('cluster prod (eu-west-1): keeps its last good targets: AwsError: ListTasks failed: AccessDeniedException'))).toBe(true);
  });

  it('with nothing earlier, publishes the healthy clusters at once, and after the patience says the failing one has no targets', async () => {
    fake.faults.deniedClusters.add('prod');

    // Round 2 makes the never-read cluster published without targets: it waits until round 1 is seen.
    const releaseRound2 = fake.holdFromRound(2);
    const discoverer = start();
    await discoverer.waitForRounds(1);
    const readyAtFirst = await get('/-/ready');
    const firstFiles = await filesByCluster();
    releaseRound2();
    await discoverer.waitForRounds(3);
    const readyLater = await get('/-/ready');

    expect(Object.keys(firstFiles).sort()).toEqual(['batch']);
    expect((await get('/targets')).status).toBe(200);
    expect(readyAtFirst.status).toBe(503);
    expect(readyAtFirst.body).toContain('waiting for clusters never read yet: prod (eu-west-1): AwsError: ListTasks failed: AccessDeniedException');
    expect(readyLater.status).toBe(200);
    expect(readyLater.body).toContain('ready; published without targets, never read: prod (eu-west-1)');
    const loud = discoverer.lines.filter((line) => String(line['msg']).includes('published without targets'));
    expect(loud.map((line) => line['msg'])).toEqual(['cluster prod (eu-west-1) has not been read in 2 rounds and had no earlier targets: published without targets']);
    expect((await get('/metrics')).body).toMatch(/^ecs_discoverer_unread_clusters 1$/m);
    expect((await get('/')).body).toContain('<h2>Clusters never read</h2>');
  });
});

describe('start-up on a fresh output directory', () => {
  it('writes each cluster to the files as soon as it is read, while HTTP SD and readiness wait for the end of the round', async () => {
    // Prod's tasks are not listed until the test has looked: batch is read, prod is not.
    let releaseProd!: () => void;
    const prodHeld = new Promise<void>((resolve) => (releaseProd = resolve));
    fake.faults.gate = ({ action, cluster }) => (action === 'ListTasks' && cluster === 'prod' ? prodHeld : undefined);
    const discoverer = start();
    await discoverer.waitFor(() => discoverer.lines.some((line) => line['msg'] === 'first targets published'), 'the first targets');

    const filesSoFar = await filesByCluster();
    const targetsSoFar = await get('/targets');
    const readySoFar = await get('/-/ready');
    releaseProd();
    const first = await discoverer.waitForRounds(1);

    expect(Object.keys(filesSoFar)).toEqual(['batch']);
    // A Prometheus that read an earlier process keeps its targets on a 503, prod's among them.
    expect(targetsSoFar).toEqual({ status: 503, body: 'the first round has not ended yet\n' });
    expect(readySoFar).toEqual({ status: 503, body: 'the first round has not ended yet\n' });
    expect(first['outcome']).toBe('ok');
    const served = JSON.parse((await get('/targets')).body) as TargetGroup[];
    expect([...new Set(served.map((group) => group.labels['__meta_ecs_cluster']))].sort()).toEqual(['batch', 'prod']);
    expect(Object.keys(await filesByCluster()).sort()).toEqual(['batch', 'prod']);
  });
});
