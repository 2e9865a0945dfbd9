import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TargetGroup } from '../../src/discovery/targetGroups.js';
import { FakeAws } from '../../src/fake/fakeAws.js';
import { EXPECTED_REALITY, REALITY, changeLater, expectedRealityGroups, realityFleet } from '../support/realityFleet.js';
import { RunningDiscoverer, assertBuilt, fakeAwsEnv } from '../support/runningDiscoverer.js';

/**
 * The discoverer as a daemon on the shapes real accounts have: late bindings and addresses,
 * health changes, IPv6-only tasks and hosts, ECS Anywhere hosts next to EC2 ones, port ranges,
 * UDP ports and marker values that say no. It must converge, within two rounds plus one
 * taskRefresh, to exactly the targets SEMANTICS.md implies, and never send a mi- id to EC2.
 */

let fake: FakeAws;
let outputDir: string;
let running: RunningDiscoverer | undefined;

async function groups(): Promise<TargetGroup[]> {
  const all: TargetGroup[] = [];
  // The file_sd files; the lock file (.prometheus-ecs-discoverer.lock) is no target file.
  const files = (await readdir(outputDir)).filter((name) => name.endsWith('.json'));
  for (const file of files) all.push(...(JSON.parse(await readFile(join(outputDir, file), 'utf8')) as TargetGroup[]));
  return all;
}
const seen = (all: TargetGroup[]) =>
  all.map((group) => `${group.targets[0]} ${group.labels['job']} ${group.labels['__meta_ecs_health_status']}`).sort();

beforeAll(() => {
  assertBuilt();
});
beforeEach(async () => {
  fake = new FakeAws(realityFleet());
  changeLater(fake);
  await fake.start();
  outputDir = await mkdtemp(join(tmpdir(), 'discoverer-reality-'));
});
afterEach(async () => {
  await running?.stop('SIGKILL');
  running = undefined;
  await fake.stop();
  await rm(outputDir, { recursive: true, force: true });
});

describe('the ECS that users really run', () => {
  it('converges within two rounds plus one taskRefresh to every target, with the current health status', async () => {
    // A refresh of 2 s at 1 s rounds: every task is described again within 2 rounds.
    running = new RunningDiscoverer(['--interval', '1', '--task-refresh', '2', '--output-dir', outputDir], fakeAwsEnv(fake.url));

    // Round 2 brings the late data: it waits until round 1's files are read.
    const releaseRound2 = fake.holdFromRound(2);
    const first = await running.waitForRounds(1);
    const firstTargets = seen(await groups());
    releaseRound2();
    await running.waitForRounds(2 + 2);
    const converged = await groups();

    expect(first['outcome']).toBe('ok');
    // Round 1 already has what needs no later data, with the health status of its first describe.
    expect(firstTargets).toContain('127.0.62.1:8080 health UNKNOWN');
    expect(firstTargets.some((target) => target.includes(' late '))).toBe(false);
    expect(seen(converged)).toEqual(EXPECTED_REALITY);
    expect(converged.every((group) => group.labels['__meta_ecs_cluster'] === REALITY)).toBe(true);
    // The complete label set of every target, as SEMANTICS.md derives it from the fleet.
    const byAddress = (a: { targets: string[] }, b: { targets: string[] }) => ((a.targets[0] ?? '') < (b.targets[0] ?? '') ? -1 : 1);
    expect([...converged].sort(byAddress)).toEqual(expectedRealityGroups(fake.fleet).sort(byAddress));
  });

  it('never sends a managed instance id to EC2, asks SSM for it, and fails no round', async () => {
    running = new RunningDiscoverer(['--interval', '1', '--output-dir', outputDir], fakeAwsEnv(fake.url));

    await running.waitForRounds(3);

    const ec2Ids = fake.calls.filter((call) => call.action === 'DescribeInstances').flatMap((call) => call.items ?? []);
    expect(ec2Ids.length).toBeGreaterThan(0);
    expect(ec2Ids.filter((id) => id.startsWith('mi-'))).toEqual([]);
    expect(fake.calls.filter((call) => call.action === 'DescribeInstanceInformation').flatMap((call) => call.items)).toContain('mi-0123456789abcdef0');
    expect(fake.calls.filter((call) => call.outcome !== 'ok')).toEqual([]);
    expect(running.rounds().slice(0, 3).map((round) => round['outcome'])).toEqual(['ok', 'ok', 'ok']);
  });

  it('describes again only the tasks whose runtime data was missing, in one call', async () => {
    running = new RunningDiscoverer(['--interval', '1', '--task-refresh', '0', '--output-dir', outputDir], fakeAwsEnv(fake.url));

    await running.waitForRounds(3);

    const described = (round: number) =>
      fake
        .callsOfRound(round)
        .filter((call) => call.action === 'DescribeTasks')
        .map((call) => (call.items ?? []).map((arn) => arn.slice(arn.lastIndexOf('/') + 1)).sort());
    expect(described(2)).toEqual([['late1', 'noip1']]);
    expect(described(3)).toEqual([]);
  });
});
