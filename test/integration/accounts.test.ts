import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TargetGroup } from '../../src/discovery/targetGroups.js';
import { FakeAws } from '../../src/fake/fakeAws.js';
import { clusterOf, emptyFleet } from '../../src/fake/fleet.js';
import { ACCOUNTS, REGIONS, addAccountFleets, addressOf, roleOf } from '../support/accountFleets.js';
import { RunningDiscoverer, assertBuilt, fakeAwsEnv, freePort, runCli } from '../support/runningDiscoverer.js';

/**
 * One process, two accounts (each through its role) in two regions, against the fake of ECS, EC2
 * and STS: every account and region is read with its own clients, one whose role is denied keeps
 * its last good targets and is shown failing while the others go on, the same cluster name in
 * two accounts is two clusters everywhere, and the metadata labels cost no AWS call.
 */

const [A, B] = ACCOUNTS;
const FILES = ['tasks.json', '15s-tasks.json', '30s-tasks.json', '1m-tasks.json', '5m-tasks.json'];
const ROLES = ['--roles', ACCOUNTS.map(roleOf).join(','), '--regions', REGIONS.join(',')];

let fake: FakeAws;
let workDir: string;
let outputDir: string;
let running: RunningDiscoverer | undefined;

beforeAll(() => {
  assertBuilt();
});
beforeEach(async () => {
  // The process's own account has no cluster: everything comes through the roles.
  fake = new FakeAws(emptyFleet());
  addAccountFleets(fake);
  await fake.start();
  workDir = await mkdtemp(join(tmpdir(), 'discoverer-accounts-'));
  outputDir = join(workDir, 'targets');
});
afterEach(async () => {
  await running?.stop('SIGKILL');
  running = undefined;
  await fake.stop();
  await rm(workDir, { recursive: true, force: true });
});

async function groupsInFiles(): Promise<TargetGroup[]> {
  const groups: TargetGroup[] = [];
  for (const file of FILES) groups.push(...(JSON.parse(await readFile(join(outputDir, file), 'utf8')) as TargetGroup[]));
  return groups;
}

/** "account region cluster address" of each group: where a target comes from, and where it goes. */
const placesOf = (groups: TargetGroup[]) =>
  groups.map((group) => `${group.labels['__meta_ecs_account_id']} ${group.labels['__meta_ecs_region']} ${group.labels['__meta_ecs_cluster']} ${group.targets[0]}`).sort();

/** Every target of every account and region, as placesOf names them. */
const everyPlace = () =>
  ACCOUNTS.flatMap((account) => REGIONS.flatMap((region) => [addressOf(account, region, 'fargate'), addressOf(account, region, 'bridge')].map((address) => `${account} ${region} prod ${address}`))).sort();

/** The calls each account and region made (since the call of that index), by action, as the fake logged them. */
function callsByReader(since = 0): Record<string, Record<string, number>> {
  const counts: Record<string, Record<string, number>> = {};
  for (const call of fake.calls.slice(since)) {
    if (call.action === 'AssumeRole' || call.action === 'GetCallerIdentity') continue;
    const reader = `${call.account} ${call.region}`;
    counts[reader] ??= {};
    counts[reader][call.action] = (counts[reader][call.action] ?? 0) + 1;
  }
  return counts;
}

/**
 * What any discoverer needs for the first round of one account and region of these fleets: one
 * ListClusters page, one ListTasks page and one DescribeTasks batch for the cluster, each task
 * definition once, the container instance and its EC2 instance once. Nothing more.
 */
const COLD_ROUND = { ListClusters: 1, ListTasks: 1, DescribeTasks: 1, DescribeTaskDefinition: 2, DescribeContainerInstances: 1, DescribeInstances: 1 };

describe('two accounts in two regions', () => {
  it('publishes every account and region, each group with its account and the metadata of the answers, with no AWS call added', async () => {
    // Act
    const result = await runCli(['--once', '--output-dir', outputDir, ...ROLES], fakeAwsEnv(fake.url));

    // Assess: every target, each with its account
    expect(result.code, result.stderr).toBe(0);
    const groups = await groupsInFiles();
    expect(placesOf(groups)).toEqual(everyPlace());
    const bridge = groups.find((group) => group.targets[0] === addressOf(B, 'us-east-1', 'bridge'));
    const fargate = groups.find((group) => group.targets[0] === addressOf(A, 'eu-west-1', 'fargate'));
    expect(bridge?.labels).toMatchObject({
      __meta_ecs_account_id: B,
      __meta_ecs_cluster_arn: `arn:aws:ecs:us-east-1:${B}:cluster/prod`,
      __meta_ecs_task_arn: `arn:aws:ecs:us-east-1:${B}:task/prod/bridge1`,
      __meta_ecs_desired_status: 'RUNNING',
      __meta_ecs_last_status: 'RUNNING',
      __meta_ecs_ec2_instance_private_ip: '127.2.2.20',
      __meta_ecs_ec2_instance_public_ip: '127.2.2.21',
      __meta_ecs_subnet_id: 'subnet-0host',
      __meta_ecs_tag_ec2_Name: `ecs-${B}`,
      __meta_ecs_tag_ec2_aws_autoscaling_groupName: 'prod-asg',
    });
    expect(fargate?.labels).toMatchObject({
      __meta_ecs_account_id: A,
      __meta_ecs_platform_family: 'Linux',
      __meta_ecs_platform_version: '1.4.0',
      __meta_ecs_capacity_provider: 'FARGATE_SPOT',
      __meta_ecs_task_started_by: 'ecs-svc/1234567890',
      __meta_ecs_subnet_id: 'subnet-1',
    });
    // Cluster tags only when asked.
    expect(groups.flatMap((group) => Object.keys(group.labels)).filter((name) => name.startsWith('__meta_ecs_tag_cluster_'))).toEqual([]);

    // Assess: each account and region read on its own, with the calls any discoverer needs, and each role assumed once
    expect(callsByReader()).toEqual(Object.fromEntries(ACCOUNTS.flatMap((account) => REGIONS.map((region) => [`${account} ${region}`, COLD_ROUND]))));
    expect(fake.calls.filter((call) => call.action === 'AssumeRole').map((call) => call.items?.[0]).sort()).toEqual(ACCOUNTS.map(roleOf));
    expect(fake.sts.assumptions.map((assumption) => assumption.sessionName)).toEqual(['prometheus-ecs-discoverer', 'prometheus-ecs-discoverer']);
    expect(fake.calls.filter((call) => call.action === 'GetCallerIdentity')).toEqual([]);
    expect(fake.calls.filter((call) => call.outcome !== 'ok')).toEqual([]);
  });

  it('adds cluster tags when asked, for one DescribeClusters call per account and region', async () => {
    const result = await runCli(['--once', '--output-dir', outputDir, ...ROLES], { ...fakeAwsEnv(fake.url), ECS_DISCOVERER_LABEL_CLUSTER_TAGS: 'true' });

    expect(result.code, result.stderr).toBe(0);
    const groups = await groupsInFiles();
    expect(groups).toHaveLength(8);
    for (const group of groups) {
      expect(group.labels).toMatchObject({ __meta_ecs_tag_cluster_team: `team-${group.labels['__meta_ecs_account_id']}`, __meta_ecs_tag_cluster_cost_center: '42' });
    }
    expect(callsByReader()).toEqual(
      Object.fromEntries(ACCOUNTS.flatMap((account) => REGIONS.map((region) => [`${account} ${region}`, { ...COLD_ROUND, DescribeClusters: 1 }]))),
    );
  });

  it('keeps serving the good accounts while one role is denied: that account keeps its last good targets and is shown failing everywhere', async () => {
    // Prepare: a run that read every account, then account B's role is denied.
    expect((await runCli(['--once', '--output-dir', outputDir, ...ROLES], fakeAwsEnv(fake.url))).code).toBe(0);
    const published = await groupsInFiles();
    fake.sts.deniedRoles.add(roleOf(B));
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const get = async (path: string) => {
      const response = await fetch(`${base}${path}`);
      return { status: response.status, body: await response.text() };
    };
    const served = async (query = '') => placesOf(JSON.parse((await get(`/targets${query}`)).body) as TargetGroup[]);

    const callsBefore = fake.calls.length;

    // Act
    running = new RunningDiscoverer(['--interval', '1', '--output-dir', outputDir, '--http-host', '127.0.0.1', '--http-port', String(port), ...ROLES], fakeAwsEnv(fake.url));
    await running.waitForRounds(3);

    // Assess: nothing lost, in the files or on /targets; the good accounts read afresh
    expect(running.rounds().slice(0, 3).map((round) => round['outcome'])).toEqual(['partial', 'partial', 'partial']);
    expect(placesOf(await groupsInFiles())).toEqual(placesOf(published));
    expect(await served()).toEqual(everyPlace());
    expect(callsByReader(callsBefore)[`${A} eu-west-1`]?.['ListClusters']).toBeGreaterThanOrEqual(3);
    // Account B's readers stop at its role: ECS never sees them.
    expect(Object.keys(callsByReader(callsBefore)).filter((reader) => reader.startsWith(B))).toEqual([]);

    // One line per round names the role, its regions and the reason.
    const roundLines = running.lines.filter((line) => line['msg'] === 'round');
    for (const [index, round] of roundLines.slice(0, 3).entries()) {
      const from = index === 0 ? 0 : running.lines.indexOf(roundLines[index - 1]!);
      const lines = running.lines.slice(from, running.lines.indexOf(round)).filter((line) => String(line['msg']).includes(roleOf(B)));
      expect(lines, `round ${index + 1}`).toEqual([
        expect.objectContaining({
          level: 'warn',
          msg: `role ${roleOf(B)} (account ${B}) in eu-west-1, us-east-1: clusters kept from the last good round: AssumeRoleError: the role cannot be assumed: AccessDenied: User: arn:aws:iam::123456789012:user/discoverer is not authorized to perform: sts:AssumeRole on resource: ${roleOf(B)}`,
          role: roleOf(B),
          account: B,
          regions: 'eu-west-1,us-east-1',
        }),
      ]);
    }

    // The same cluster name in two accounts and two regions: four clusters, each filter one of them.
    expect(await served(`?account=${B}&region=eu-west-1&cluster=prod`)).toEqual(
      [`${B} eu-west-1 prod ${addressOf(B, 'eu-west-1', 'bridge')}`, `${B} eu-west-1 prod ${addressOf(B, 'eu-west-1', 'fargate')}`].sort(),
    );
    expect(await served(`?account=${A}&region=us-east-1&cluster=prod&interval=generic`)).toEqual(
      [`${A} us-east-1 prod ${addressOf(A, 'us-east-1', 'bridge')}`, `${A} us-east-1 prod ${addressOf(A, 'us-east-1', 'fargate')}`].sort(),
    );
    expect(await served('?cluster=prod')).toHaveLength(8);
    expect((await get('/targets?account=12345')).status).toBe(400);

    // Metrics: each account and region, and each cluster with its account.
    const metrics = (await get('/metrics')).body;
    for (const region of REGIONS) {
      expect(metrics).toContain(`ecs_discoverer_account_up{account="${A}",region="${region}"} 1`);
      expect(metrics).toContain(`ecs_discoverer_account_up{account="${B}",region="${region}"} 0`);
      expect(metrics).toMatch(new RegExp(`ecs_discoverer_cluster_last_success_timestamp_seconds\\{account="${A}",region="${region}",cluster="prod"\\} \\d`));
      // B's clusters were never read by this process: no last success to show.
      expect(metrics).not.toContain(`ecs_discoverer_cluster_last_success_timestamp_seconds{account="${B}",region="${region}"`);
    }
    expect(metrics).toMatch(/^ecs_discoverer_aws_api_calls_total\{action="AssumeRole",outcome="error"\} [1-9]/m);

    // Status page: a row per account and region, and each cluster with its account.
    const page = (await get('/')).body;
    const link = (account: string, region: string, text: string) => `<a href="targets?cluster=prod&amp;region=${region}&amp;account=${account}">${text}</a>`;
    expect(page).toContain(`<tr><td>${A}</td><td>eu-west-1</td><td>${roleOf(A)}</td><td>ok</td><td>1</td><td>0</td>`);
    expect(page).toContain(`<tr><td>${B}</td><td>us-east-1</td><td>${roleOf(B)}</td><td><span class="error">failing: AssumeRoleError: the role cannot be assumed: AccessDenied:`);
    expect(page).toContain(`<td>${A}</td><td>eu-west-1</td><td>${link(A, 'eu-west-1', 'prod')}</td><td>2</td>`);
    expect(page).toContain(
      `<td>${B}</td><td>eu-west-1</td><td>${link(B, 'eu-west-1', 'prod')}</td><td>0</td><td>0</td><td>${link(B, 'eu-west-1', '2')}</td><td>0</td><td>0</td><td>not yet: targets of an earlier run</td><td>AssumeRoleError`,
    );
    expect((await get('/-/ready')).status).toBe(200);

    // Act: the role is allowed again
    const roundsBefore = running.rounds().length;
    fake.sts.deniedRoles.delete(roleOf(B));
    await running.waitFor(() => running!.rounds().slice(roundsBefore).some((round) => round['outcome'] === 'ok'), 'a round that read every account');

    // Assess: account B is read afresh and shown so.
    expect((await get('/metrics')).body).toContain(`ecs_discoverer_account_up{account="${B}",region="eu-west-1"} 1`);
    expect(await served()).toEqual(everyPlace());
    expect(await running.stop('SIGTERM')).toBe(0);
  });

  it('checks every account: names the denied role as a problem, and each cluster with its account', async () => {
    fake.sts.deniedRoles.add(roleOf(B));

    const result = await runCli(['check', '--json', ...ROLES], fakeAwsEnv(fake.url));
    const text = await runCli(['check', ...ROLES], fakeAwsEnv(fake.url));

    expect(result.code).toBe(3);
    const report = JSON.parse(result.stdout) as { problems: string[]; accounts: unknown[]; clusters: { account: string; region: string; name: string }[] };
    expect(report.problems).toEqual([expect.stringMatching(new RegExp(`^role ${roleOf(B)} \\(account ${B}\\) in eu-west-1, us-east-1: clusters could not be listed: AssumeRoleError`))]);
    expect(report.accounts).toEqual([
      { account: A, region: 'eu-west-1', role: roleOf(A), clusters: 1 },
      { account: A, region: 'us-east-1', role: roleOf(A), clusters: 1 },
      { account: B, region: 'eu-west-1', role: roleOf(B), error: expect.stringContaining('AccessDenied') as string },
      { account: B, region: 'us-east-1', role: roleOf(B), error: expect.stringContaining('AccessDenied') as string },
    ]);
    expect(report.clusters.map((cluster) => `${cluster.account} ${cluster.region} ${cluster.name}`)).toEqual([`${A} eu-west-1 prod`, `${A} us-east-1 prod`]);
    expect(text.stdout).toContain(`cluster prod (${A}, eu-west-1): 2 tasks, 2 marked containers\n`);
  });

  it('leaves out the tasks the health filter asks to, counted under their own reason', async () => {
    const unhealthy = fake.accounts.get(A)?.get('eu-west-1')?.clusters[0]?.tasks.find((task) => task.taskArn?.endsWith('/fargate1'));
    if (unhealthy === undefined) throw new Error('fixture without the task');
    unhealthy.healthStatus = 'UNHEALTHY';

    const result = await runCli(['check', '--json', '--health-filter', 'not-unhealthy', ...ROLES], fakeAwsEnv(fake.url));

    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { skipped: { account: string; reason: string; container: string; task: string }[]; totals: { targets: number } };
    expect(report.skipped).toEqual([expect.objectContaining({ account: A, reason: 'health_filtered', container: '*', task: 'fargate1' })]);
    expect(report.totals.targets).toBe(7);
  });

  it('paces each account and region on its own: while one has every call it may have in flight unanswered, the others are read and published', async () => {
    // Prepare: account A in eu-west-1 has nine clusters, and the fake never answers their
    // ListTasks. The others list their clusters only once eight of those are held: as many
    // calls as a pacer lets be in flight. Had the readers one pacer, no other ListTasks could go.
    const stuck = fake.accounts.get(A)?.get('eu-west-1');
    if (stuck === undefined) throw new Error('no fleet of account A in eu-west-1');
    for (let n = 1; n <= 8; n += 1) clusterOf(stuck, `batch${n}`);
    const eightHeld = new Promise<void>((resolve) => {
      const check = () => (fake.heldRequests >= 8 ? resolve() : setTimeout(check, 10));
      check();
    });
    fake.faults.gate = ({ action, account, region }) => {
      if (account === A && region === 'eu-west-1') return action === 'ListTasks' ? new Promise<void>(() => {}) : undefined;
      return action === 'ListClusters' ? eightHeld : undefined;
    };
    const others = everyPlace().filter((place) => !place.startsWith(`${A} eu-west-1 `));
    const publishedPlaces = () => {
      try {
        return placesOf(FILES.flatMap((file) => JSON.parse(readFileSync(join(outputDir, file), 'utf8')) as TargetGroup[]));
      } catch {
        return []; // Not written yet.
      }
    };
    // No deadline frees the held calls while the test waits.
    const env = { ...fakeAwsEnv(fake.url), ECS_DISCOVERER_AWS_REQUEST_TIMEOUT: '600', ECS_DISCOVERER_AWS_CLUSTER_TIMEOUT: '600', ECS_DISCOVERER_ROUND_TIMEOUT: '600' };

    // Act
    running = new RunningDiscoverer(['--output-dir', outputDir, ...ROLES], env);
    const discoverer = running;
    await discoverer.waitFor(() => publishedPlaces().length >= others.length, 'the targets of the three other accounts and regions');

    // Assess: the others published while account A's eight calls are still held, and its ninth waits in its own pacer
    expect(publishedPlaces()).toEqual(others);
    expect(fake.heldRequests).toBe(8);
    expect(discoverer.rounds()).toEqual([]);
  });

  it('refuses at start a role that is not an IAM role ARN, in one line naming the setting and the value', async () => {
    const result = await runCli(['--once', '--output-dir', outputDir, '--roles', `${roleOf(A)},arn:aws:iam::${B}:user/alice`], fakeAwsEnv(fake.url));

    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `prometheus-ecs-discoverer: aws.roles (--roles, ECS_DISCOVERER_ROLES): "arn:aws:iam::${B}:user/alice" is not an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>): value was [{"arn":"${roleOf(A)}"},{"arn":"arn:aws:iam::${B}:user/alice"}]\n`,
    );
    expect(fake.calls).toEqual([]);
  });
});
