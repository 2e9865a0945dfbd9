import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Task } from '@aws-sdk/client-ecs';
import type { TargetGroup } from '../../src/discovery/targetGroups.js';
import { FakeAws } from '../../src/fake/fakeAws.js';
import { addTask, taskArn } from '../../src/fake/fleet.js';
import { RunningDiscoverer, assertBuilt, fakeAwsEnv, freePort, runCli } from '../support/runningDiscoverer.js';
import { BIG_CLUSTER_TASKS, EXPECTED_PROD, PENDING_TASK, bigClusterIp, edgeFleet } from '../support/edgeFleet.js';

const FILES = ['15s-tasks.json', '1m-tasks.json', '30s-tasks.json', '5m-tasks.json', 'tasks.json'];

let fake: FakeAws;
let outputDir: string;
let running: RunningDiscoverer | undefined;

async function readGroups(file: string): Promise<TargetGroup[]> {
  return JSON.parse(await readFile(join(outputDir, file), 'utf8')) as TargetGroup[];
}

const withoutMeta = (group: TargetGroup): TargetGroup => ({
  targets: group.targets,
  labels: Object.fromEntries(Object.entries(group.labels).filter(([name]) => !name.startsWith('__meta_'))),
});
const inCluster = (cluster: string) => (group: TargetGroup) => group.labels['__meta_ecs_cluster'] === cluster;

beforeAll(() => {
  assertBuilt();
});
beforeEach(async () => {
  fake = new FakeAws(edgeFleet());
  await fake.start();
  outputDir = await mkdtemp(join(tmpdir(), 'discoverer-it-'));
});
afterEach(async () => {
  await running?.stop('SIGKILL');
  running = undefined;
  await fake.stop();
  await rm(outputDir, { recursive: true, force: true });
});

describe('prometheus-ecs-discoverer --once against a fake ECS', () => {
  it('writes exactly the targets and labels that the rules imply, in every network mode', async () => {
    const result = await runCli(['--once', '--output-dir', outputDir], fakeAwsEnv(fake.url));

    expect(result.code, result.stderr).toBe(0);
    expect((await readdir(outputDir)).sort()).toEqual(FILES);
    for (const [file, expected] of Object.entries(EXPECTED_PROD)) {
      const prod = (await readGroups(file)).filter(inCluster('prod')).map(withoutMeta);
      expect(prod, file).toEqual(expected);
    }
    const batch = (await readGroups('30s-tasks.json')).filter(inCluster('batch'));
    expect(batch.map((group) => group.targets[0]).sort()).toEqual(
      Array.from({ length: BIG_CLUSTER_TASKS }, (_, index) => `${bigClusterIp(index)}:8000`).sort(),
    );
    for (const file of FILES.filter((name) => name !== '30s-tasks.json')) {
      expect((await readGroups(file)).filter(inCluster('batch')), file).toEqual([]);
    }
  });

  it('gives each group the __meta_ecs_* labels of its task, container and host', async () => {
    await runCli(['--once', '--output-dir', outputDir], fakeAwsEnv(fake.url));

    const [search] = (await readGroups('30s-tasks.json')).filter(inCluster('prod'));
    const meta = Object.fromEntries(Object.entries(search?.labels ?? {}).filter(([name]) => name.startsWith('__meta_')));
    expect(meta).toEqual({
      __meta_ecs_account_id: '123456789012',
      __meta_ecs_cluster: 'prod',
      __meta_ecs_cluster_arn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod',
      __meta_ecs_region: 'eu-west-1',
      __meta_ecs_service: 'search',
      __meta_ecs_task_arn: taskArn('prod', 'vpc1'),
      __meta_ecs_task_definition: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/search:4',
      __meta_ecs_task_group: 'service:search',
      __meta_ecs_launch_type: 'EC2',
      __meta_ecs_availability_zone: 'eu-west-1a',
      __meta_ecs_network_mode: 'awsvpc',
      __meta_ecs_health_status: 'HEALTHY',
      __meta_ecs_desired_status: 'RUNNING',
      __meta_ecs_last_status: 'RUNNING',
      __meta_ecs_subnet_id: 'subnet-1',
      __meta_ecs_ip_address: '127.0.20.1',
      __meta_ecs_container_instance_arn: 'arn:aws:ecs:eu-west-1:123456789012:container-instance/prod/ci-i-0bbbbbbbbbbbbbbb2',
      __meta_ecs_ec2_instance_id: 'i-0bbbbbbbbbbbbbbb2',
      __meta_ecs_ec2_instance_type: 'm5.large',
      __meta_ecs_ec2_instance_private_ip: '127.0.10.2',
      __meta_ecs_task_definition_family: 'search',
      __meta_ecs_task_definition_revision: '4',
      __meta_ecs_container_name: 'search',
      __meta_ecs_container_image: 'example/search:latest',
    });
  });

  it('logs why each marked container was skipped, and every bad setting, without failing the round', async () => {
    const result = await runCli(['--once', '--output-dir', outputDir], fakeAwsEnv(fake.url));

    expect(result.code).toBe(0);
    const lines = result.stderr.split('\n');
    const about = (text: string) => lines.filter((line) => line.includes(text));
    expect(about('skipped container envoy')).toEqual([expect.stringContaining('no_port_binding: no network binding for container port 9999')]);
    expect(about(`task ${taskArn('prod', 'badport1')}`)).toEqual([expect.stringContaining('bad_port: PROMETHEUS_PORT "9x9"')]);
    expect(about(`task ${taskArn('prod', 'orphan1')}`)).toEqual([expect.stringContaining('host_not_found: EC2 instance i-0dead00000000000 not found')]);
    expect(about('PROMETHEUS_LABEL_bad-name')).toHaveLength(1);
    expect(about('path "admin/metrics" does not start with "/"')).toHaveLength(1);
    expect(about(PENDING_TASK)).toEqual([]);
    expect(about('skipped container unmarked')).toEqual([]);
  });

  it('pages through a cluster of more than 100 tasks with batches of at most 100', async () => {
    await runCli(['--once', '--output-dir', outputDir], fakeAwsEnv(fake.url));

    const batchCalls = fake.calls.filter((call) => call.cluster === 'batch');
    expect(batchCalls.filter((call) => call.action === 'ListTasks')).toHaveLength(2);
    expect(batchCalls.filter((call) => call.action === 'DescribeTasks').map((call) => call.items?.length)).toEqual([100, 50]);
    expect(fake.calls.filter((call) => call.outcome !== 'ok')).toEqual([]);
  });

  it('exits 1 and writes no file when AWS fails', async () => {
    fake.faults.outage = true;

    const result = await runCli(['--once', '--output-dir', outputDir], { ...fakeAwsEnv(fake.url), ECS_DISCOVERER_AWS_MAX_ATTEMPTS: '1' });

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('ListClusters failed');
    expect(await readdir(outputDir)).toEqual([]);
  });

  it.each([
    ['--once', ['--once', '--output-dir'], 1],
    ['check', ['check', '--output-dir'], 3],
  ] as const)('%s stops at SIGTERM without waiting for a hung request, and says the round was stopped', async (_, args, code) => {
    // A request held for ever, with a timeout far beyond the test's: only the stop can end the run.
    fake.faults.hang = true;
    const firstCall = new Promise<void>((resolve) => fake.onRequest(resolve));
    running = new RunningDiscoverer([...args, outputDir], { ...fakeAwsEnv(fake.url), ECS_DISCOVERER_AWS_REQUEST_TIMEOUT: '3600' });
    await firstCall;

    expect(await running.stop('SIGTERM')).toBe(code);
    expect(running.stderr + running.stdout).toContain('AbortError: the process is stopping');
    expect(await readdir(outputDir)).toEqual([]);
  });

  it('says why it exits 1 even at --log-level error: the failed round is an error there', async () => {
    fake.faults.outage = true;

    const result = await runCli(['--once', '--output-dir', outputDir, '--log-level', 'error'], { ...fakeAwsEnv(fake.url), ECS_DISCOVERER_AWS_MAX_ATTEMPTS: '1' });

    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(/ error round outcome=failed .*ListClusters failed/)]);
  });
});

describe('prometheus-ecs-discoverer as a long-running process', () => {
  it('makes only the list calls on a steady fleet with the task refresh off, and describes only what a deploy changed', async () => {
    const listCalls = { ListClusters: 1, ListTasks: 4 }; // prod, batch (2 pages), empty
    // The PENDING task is described again in round 2, and is RUNNING from round 3 on.
    fake.onRound(3, () => {
      fake.fleet.clusters[0]!.tasks.find((task) => task.taskArn === PENDING_TASK)!.lastStatus = 'RUNNING';
    });
    // A deploy replaces 10 tasks of the batch cluster before round 5.
    const batch = fake.fleet.clusters.find((cluster) => cluster.name === 'batch')!;
    const added: Task[] = [];
    fake.onRound(5, () => {
      const replaced = batch.tasks.splice(0, 10);
      replaced.forEach((task, index) =>
        added.push(
          addTask(fake.fleet, {
            cluster: 'batch',
            id: `deploy${index}`,
            definition: fake.fleet.taskDefinitions.get(task.taskDefinitionArn!)!,
            launchType: 'FARGATE',
            eniIp: `127.2.0.${index + 1}`,
            containers: [{ name: 'worker' }],
          }),
        ),
      );
    });
    running = new RunningDiscoverer(['--interval', '1', '--task-refresh', '0', '--output-dir', outputDir], fakeAwsEnv(fake.url));

    expect(await running.waitForRounds(1)).toMatchObject({ outcome: 'ok', clusters: 3 });
    await running.waitForRounds(5);

    const countsOf = (round: number) => {
      const counts: Record<string, number> = {};
      for (const call of fake.callsOfRound(round)) counts[call.action] = (counts[call.action] ?? 0) + 1;
      return counts;
    };
    const describedIn = (round: number) =>
      fake.callsOfRound(round).filter((call) => call.action === 'DescribeTasks').flatMap((call) => call.items);
    expect(countsOf(2)).toEqual({ ...listCalls, DescribeTasks: 1 });
    expect(describedIn(2)).toEqual([PENDING_TASK]);
    expect(describedIn(3)).toEqual([PENDING_TASK]);
    expect(countsOf(4)).toEqual(listCalls);
    expect(countsOf(5)).toEqual({ ...listCalls, DescribeTasks: 1 });
    expect(describedIn(5).sort()).toEqual(added.map((task) => task.taskArn).sort());
    const batchTargets = (await readGroups('30s-tasks.json')).filter(inCluster('batch')).map((group) => group.targets[0]);
    expect(batchTargets).toHaveLength(BIG_CLUSTER_TASKS);
    expect(batchTargets).toContain('127.2.0.1:8000');
    expect(await readGroups('tasks.json')).toContainEqual(expect.objectContaining({ targets: ['127.0.30.9:3000'] }));

    expect(await running.stop('SIGTERM')).toBe(0);
  });

  it('costs, on a steady fleet, the list calls, and a DescribeTasks only for what is new or due', async () => {
    // prod's PENDING task is described every round, its stalest tasks riding along. The default
    // taskRefresh (300 s) at 1 s rounds owes half a task of batch (150 tasks) a round: its first
    // refresh call is 77 rounds away at the soonest.
    running = new RunningDiscoverer(['--interval', '1', '--output-dir', outputDir], fakeAwsEnv(fake.url));

    await running.waitForRounds(4);

    for (const round of [2, 3, 4]) {
      const counts: Record<string, number> = {};
      for (const call of fake.callsOfRound(round)) counts[call.action] = (counts[call.action] ?? 0) + 1;
      expect(counts, `round ${round}`).toEqual({ ListClusters: 1, ListTasks: 4, DescribeTasks: 1 });
    }
  });

  it('stops on SIGINT with exit code 0 and leaves the files in place', async () => {
    running = new RunningDiscoverer(['--interval', '1', '--output-dir', outputDir], fakeAwsEnv(fake.url));
    await running.waitForRounds(1);

    const code = await running.stop('SIGINT');

    expect(code).toBe(0);
    expect((await readdir(outputDir)).sort()).toEqual(FILES);
    expect(running.lines.map((line) => line['msg'])).toContain('stopped');
  });
});

describe('prometheus-ecs-discoverer command line', () => {
  it.each([
    [['--interval', 'soon'], 'interval (--interval, ECS_DISCOVERER_INTERVAL): expected a whole number of seconds from 1 to 86400: value was "soon"'],
    [['--interval', '0'], 'interval (--interval, ECS_DISCOVERER_INTERVAL): expected a whole number of seconds from 1 to 86400: value was 0'],
    [['--frobnicate'], 'unknown option --frobnicate (see --help)'],
    [['--output-dir', '/proc/not-here/targets'], 'outputDir (--output-dir, ECS_DISCOVERER_OUTPUT_DIR): "/proc/not-here/targets" is not a writable directory'],
    [['--http-host', '192.0.2.1', '--http-port', '9'], 'http.host (--http-host, ECS_DISCOVERER_HTTP_HOST): cannot listen on 192.0.2.1:9: listen EADDRNOTAVAIL: address not available 192.0.2.1:9'],
    [['--interval', '99999999999'], 'interval (--interval, ECS_DISCOVERER_INTERVAL): expected a whole number of seconds from 1 to 86400: value was 99999999999'],
    [['--regions', 'eu west 1'], 'aws.regions (--regions, ECS_DISCOVERER_REGIONS): expected AWS region names such as eu-west-1, comma-separated, each once: value was ["eu west 1"]'],
    [['--regions', 'eu-west-1,eu-west-1'], 'aws.regions (--regions, ECS_DISCOVERER_REGIONS): expected AWS region names such as eu-west-1, comma-separated, each once: value was ["eu-west-1","eu-west-1"]'],
  ])('exits 2 at once with one line for %j', async (args, message) => {
    // An output directory of its own: the default, ./targets, would be made in the repository.
    const result = await runCli(args.includes('--output-dir') ? args : [...args, '--output-dir', outputDir], fakeAwsEnv('http://127.0.0.1:9'));

    expect(result.code).toBe(2);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`prometheus-ecs-discoverer: ${message}`);
  });

  it('exits 2 naming the SDK\'s reason for a region of AWS_REGION it cannot use', async () => {
    const result = await runCli(['--output-dir', outputDir], { ...fakeAwsEnv('http://127.0.0.1:9'), AWS_REGION: 'eu west 1' });

    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([
      'prometheus-ecs-discoverer: aws.regions (--regions, ECS_DISCOVERER_REGIONS): the region of AWS_REGION or of the profile cannot be used: Region not accepted: region="eu west 1" is not a valid hostname component.',
    ]);
  });

  it('exits 2 naming the setting and the SDK\'s reason when no region is set', async () => {
    const env: NodeJS.ProcessEnv = { ...fakeAwsEnv('http://127.0.0.1:9'), AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' };
    delete env['AWS_REGION'];

    // Its own output directory: the default, ./targets, would be made in the repository.
    const result = await runCli(['--once', '--output-dir', outputDir], env);

    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(
      'prometheus-ecs-discoverer: aws.regions (--regions, ECS_DISCOVERER_REGIONS): no AWS region: set AWS_REGION (or a profile region), or --regions: Region is missing',
    );
  });

  it('removes the output directory it made when the start then fails, and keeps one that was there', async () => {
    const made = join(outputDir, 'new');
    const args = ['--web.config.file', join(outputDir, 'missing.yml'), '--http-host', '127.0.0.1', '--http-port', String(await freePort())];

    const failedInNew = await runCli(['--output-dir', made, ...args], fakeAwsEnv('http://127.0.0.1:9'));
    const failedInExisting = await runCli(['--output-dir', outputDir, ...args], fakeAwsEnv('http://127.0.0.1:9'));

    expect(failedInNew.code).toBe(2);
    expect(failedInNew.stderr).toContain('http.webConfigFile (--web.config.file, ECS_DISCOVERER_HTTP_WEB_CONFIG_FILE)');
    expect(failedInExisting.code).toBe(2);
    expect(await readdir(outputDir)).toEqual([]);
  });

  it('prints its version and help', async () => {
    const version = await runCli(['--version'], fakeAwsEnv('http://127.0.0.1:9'));
    const help = await runCli(['--help'], fakeAwsEnv('http://127.0.0.1:9'));
    const { version: expected } = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

    expect(version).toMatchObject({ code: 0, stdout: `${expected}\n` });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: prometheus-ecs-discoverer [options]');
  });
});
