import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Task, TaskDefinition } from '@aws-sdk/client-ecs';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TargetGroup } from '../../src/discovery/targetGroups.js';
import { FakeAws, type AnswerCall, type OddAnswer } from '../../src/fake/fakeAws.js';
import { addDefinition, addHost, addTask, makeTaskDefinition } from '../../src/fake/fleet.js';
import { RunningDiscoverer, assertBuilt, fakeAwsEnv, freePort } from '../support/runningDiscoverer.js';
import { edgeFleet } from '../support/edgeFleet.js';

/**
 * The discoverer against answers that AWS should never give: malformed (null lists, wrong
 * types, a listed cluster "not found"), slow (a body that drips), endless (a body or a listing
 * that never ends). A cluster answered so fails for the round and keeps its last good targets;
 * the other clusters move on.
 */

const FILES = ['15s-tasks.json', '1m-tasks.json', '30s-tasks.json', '5m-tasks.json', 'tasks.json'];
const INTERVAL_OF: Record<string, string> = {
  '15s-tasks.json': '15s',
  '30s-tasks.json': '30s',
  '1m-tasks.json': '1m',
  '5m-tasks.json': '5m',
  'tasks.json': 'generic',
};
const TARGET_COUNTS = ['targets_generic', 'targets_15s', 'targets_30s', 'targets_1m', 'targets_5m'];
/**
 * The request or cluster deadline of the slow-answer tests: far above what an ordinary call to
 * the fake takes (milliseconds), even on a loaded machine, so that only the calls made slow on
 * purpose reach it. Those are slow by construction: a dripped body gets one byte per deadline,
 * so that any body of two bytes or more outlasts it.
 */
const DEADLINE_S = 5;

let fake: FakeAws;
let workDir: string;
let outputDir: string;
let running: RunningDiscoverer | undefined;
let base: string;

async function targetsInFiles(): Promise<string[]> {
  const found: string[] = [];
  for (const file of FILES) {
    const groups = JSON.parse(await readFile(join(outputDir, file), 'utf8')) as TargetGroup[];
    for (const group of groups) found.push(`${INTERVAL_OF[file]} ${group.targets[0]} ${group.labels['__metrics_path__']}`);
  }
  return found.sort();
}

async function targetsServed(): Promise<string[]> {
  const groups = (await (await fetch(`${base}/targets`)).json()) as TargetGroup[];
  return groups.map((group) => `${group.labels['__scrape_interval__'] ?? 'generic'} ${group.targets[0]} ${group.labels['__metrics_path__']}`).sort();
}

async function start(env: NodeJS.ProcessEnv = {}): Promise<RunningDiscoverer> {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  running = new RunningDiscoverer(
    ['--interval', '1', '--output-dir', outputDir, '--http-host', '127.0.0.1', '--http-port', String(port)],
    { ...fakeAwsEnv(fake.url), ...env },
  );
  return running;
}

/** The log lines of round `round` (1-based): those after the previous round's line, up to its own. */
function linesOfRound(discoverer: RunningDiscoverer, round: number): Record<string, unknown>[] {
  const rounds = discoverer.rounds();
  const from = round === 1 ? 0 : discoverer.lines.indexOf(rounds[round - 2] as Record<string, unknown>) + 1;
  return discoverer.lines.slice(from, discoverer.lines.indexOf(rounds[round - 1] as Record<string, unknown>) + 1);
}

const clusterLines = (lines: Record<string, unknown>[], cluster: string) =>
  lines.filter((line) => line['level'] === 'warn' && String(line['msg']).startsWith(`cluster ${cluster} (`));

const targetCounts = (round: Record<string, unknown> | undefined) => TARGET_COUNTS.map((name) => round?.[name]);

/**
 * Deploys, when round `round` begins, a bridge task in prod with a definition and a host of its
 * own, so that every describe call is made in that round; returns the target it yields.
 */
function deployBridgeTask(round: number): string {
  fake.onRound(round, () => {
    const host = addHost(fake.fleet, 'prod', 'i-0ccccccccccccccc3', '127.0.10.4');
    const definition = addDefinition(fake.fleet, makeTaskDefinition('late', 1, 'bridge', [{ name: 'late', environment: { PROMETHEUS: 'true' } }]));
    addTask(fake.fleet, {
      cluster: 'prod',
      id: 'late1',
      definition,
      containerInstanceArn: host,
      containers: [{ name: 'late', bindings: [{ containerPort: 8080, hostPort: 32800 }] }],
    });
  });
  return 'generic 127.0.10.4:32800 /metrics';
}

const inProd = (call: AnswerCall) => call.cluster === 'prod';
const json = (value: unknown): OddAnswer => ({ body: JSON.stringify(value) });
const notFound: OddAnswer = { status: 400, body: JSON.stringify({ __type: 'ClusterNotFoundException', message: 'Cluster not found.' }) };
const tasksOf = (call: AnswerCall) => (call.output as { tasks: Task[] }).tasks;

interface OddCase {
  name: string;
  action: string;
  answer: (call: AnswerCall) => OddAnswer | undefined;
  /** What the log says was wrong. */
  message: string;
}

const ODD_CASES: OddCase[] = [
  { name: 'ListTasks taskArns null', action: 'ListTasks', answer: (call) => (inProd(call) ? json({ taskArns: null }) : undefined), message: 'ListTasks answered no taskArns (null or missing; expected a list)' },
  { name: 'ListTasks ClusterNotFoundException', action: 'ListTasks', answer: (call) => (inProd(call) ? notFound : undefined), message: 'ListTasks answered ClusterNotFoundException for a cluster that ListClusters listed' },
  { name: 'DescribeTasks tasks null', action: 'DescribeTasks', answer: (call) => (inProd(call) ? json({ tasks: null, failures: [] }) : undefined), message: 'DescribeTasks answered no tasks (null or missing; expected a list)' },
  {
    name: 'DescribeTasks lastStatus 42',
    action: 'DescribeTasks',
    answer: (call) => (inProd(call) ? json({ tasks: tasksOf(call).map((task) => ({ ...task, lastStatus: 42 })) }) : undefined),
    message: 'DescribeTasks answered a task whose lastStatus is 42 (expected a string)',
  },
  {
    name: 'DescribeTasks taskArn not a string',
    action: 'DescribeTasks',
    answer: (call) => (inProd(call) ? json({ tasks: tasksOf(call).map((task) => ({ ...task, taskArn: { arn: task.taskArn } })) }) : undefined),
    message: 'DescribeTasks answered a task whose taskArn is {"arn":',
  },
  { name: 'DescribeTasks ClusterNotFoundException', action: 'DescribeTasks', answer: (call) => (inProd(call) ? notFound : undefined), message: 'DescribeTasks answered ClusterNotFoundException for a cluster that ListClusters listed' },
  {
    name: 'DescribeTaskDefinition containerDefinitions null',
    action: 'DescribeTaskDefinition',
    answer: (call) => json({ taskDefinition: { ...(call.output as { taskDefinition: TaskDefinition }).taskDefinition, containerDefinitions: null } }),
    message: 'DescribeTaskDefinition answered a task definition without containerDefinitions (null or missing; expected a list)',
  },
  {
    name: 'DescribeTaskDefinition environment entries that are not strings',
    action: 'DescribeTaskDefinition',
    answer: (call) => {
      const { taskDefinition } = call.output as { taskDefinition: TaskDefinition };
      const containerDefinitions = taskDefinition.containerDefinitions?.map((container) => ({ ...container, environment: [{ name: 'PROMETHEUS', value: true }] }));
      return json({ taskDefinition: { ...taskDefinition, containerDefinitions } });
    },
    message: 'DescribeTaskDefinition answered an environment entry whose value is true (expected a string)',
  },
  {
    // The SDK drops JSON nulls: only the raw answer tells this from a container without environment.
    name: 'DescribeTaskDefinition container environment null',
    action: 'DescribeTaskDefinition',
    answer: (call) => {
      const { taskDefinition } = call.output as { taskDefinition: TaskDefinition };
      const containerDefinitions = taskDefinition.containerDefinitions?.map((container) => ({ ...container, environment: null }));
      return json({ taskDefinition: { ...taskDefinition, containerDefinitions } });
    },
    message: 'DescribeTaskDefinition answered a container definition whose environment is null (expected a list)',
  },
  {
    name: 'DescribeContainerInstances containerInstances null',
    action: 'DescribeContainerInstances',
    answer: (call) => (inProd(call) ? json({ containerInstances: null, failures: [] }) : undefined),
    message: 'DescribeContainerInstances answered no containerInstances (null or missing; expected a list)',
  },
];

beforeAll(() => {
  assertBuilt();
});
beforeEach(async () => {
  fake = new FakeAws(edgeFleet());
  await fake.start();
  workDir = await mkdtemp(join(tmpdir(), 'discoverer-answers-'));
  outputDir = join(workDir, 'targets');
});
afterEach(async () => {
  await running?.stop('SIGKILL');
  running = undefined;
  await fake.stop();
  await rm(workDir, { recursive: true, force: true });
});

describe('odd answers', () => {
  it.each(ODD_CASES)('keeps every target of the cluster through $name, one line per round, and asks again', async ({ action, answer, message }) => {
    // Prepare: a first good round; from round 2 a new task whose calls are answered oddly in rounds 2 and 3.
    const newTarget = deployBridgeTask(2);
    fake.onRound(2, () => fake.faults.oddAnswers.set(action, answer));
    fake.onRound(4, () => fake.faults.oddAnswers.delete(action));
    // Round 4 answers right again: it waits until what round 2 published is read.
    const releaseRound4 = fake.holdFromRound(4);
    const discoverer = await start();
    const first = await discoverer.waitForRounds(1);
    const before = await targetsInFiles();

    // Act
    await discoverer.waitForRounds(2);
    const [inFiles, served] = [await targetsInFiles(), await targetsServed()];
    releaseRound4();
    await discoverer.waitForRounds(3);

    // Assess: rounds 2 and 3 publish what round 1 did; prod says why, once per round; batch is fresh.
    expect(first['outcome']).toBe('ok');
    for (const round of [2, 3]) {
      const lines = linesOfRound(discoverer, round);
      expect(discoverer.rounds()[round - 1]?.['outcome'], `round ${round}`).toBe('partial');
      expect(targetCounts(discoverer.rounds()[round - 1]), `round ${round}`).toEqual(targetCounts(first));
      const prodLines = clusterLines(lines, 'prod').map((line) => String(line['msg']));
      expect(prodLines, `round ${round}`).toHaveLength(1);
      expect(prodLines[0]).toContain('cluster prod (eu-west-1): keeps its last good targets:');
      expect(prodLines[0]).toContain(message);
      expect(clusterLines(lines, 'batch'), `round ${round}`).toEqual([]);
    }
    expect(before.filter((target) => !inFiles.includes(target))).toEqual([]);
    expect(before.filter((target) => !served.includes(target))).toEqual([]);
    expect(inFiles).not.toContain(newTarget);

    // Once answers are right again, what the odd answers held back is asked for again.
    // A round publishes before it logs its line.
    await discoverer.waitFor(() => discoverer.rounds().slice(3).some((round) => round['outcome'] === 'ok'), 'a good round after the odd answers');
    expect(await targetsInFiles()).toEqual([...before, newTarget].sort());
  });

  it('keeps every target when one DescribeTasks answer lacks the bindings and addresses of running tasks', async () => {
    // ECS never takes bindings or addresses back from a running task: such an answer is odd, not a change.
    const strip = (call: AnswerCall) =>
      json({
        tasks: tasksOf(call).map((task) => ({
          ...task,
          attachments: [],
          containers: task.containers?.map((container) => ({ ...container, networkBindings: [], networkInterfaces: [] })),
        })),
      });
    fake.onRound(2, () => fake.faults.oddAnswers.set('DescribeTasks', strip));
    fake.onRound(3, () => fake.faults.oddAnswers.delete('DescribeTasks'));
    // A refresh every second: every cached task is described again in every round.
    const discoverer = await start({ ECS_DISCOVERER_TASK_REFRESH: '1' });
    const first = await discoverer.waitForRounds(1);
    const before = await targetsInFiles();

    const odd = await discoverer.waitForRounds(2);
    const inFiles = await targetsInFiles();

    expect(fake.callsOfRound(2).filter((call) => call.action === 'DescribeTasks').flatMap((call) => call.items ?? []).length).toBeGreaterThan(150);
    expect(odd['outcome']).toBe('ok');
    expect(targetCounts(odd)).toEqual(targetCounts(first));
    expect(inFiles).toEqual(before);
  });

  it('keeps every cluster when ListClusters answers a null list, with the reason in the round line', async () => {
    fake.onRound(2, () => fake.faults.oddAnswers.set('ListClusters', () => json({ clusterArns: null })));
    fake.onRound(4, () => fake.faults.oddAnswers.delete('ListClusters'));
    const discoverer = await start();
    const first = await discoverer.waitForRounds(1);
    const before = await targetsInFiles();

    await discoverer.waitForRounds(3);

    for (const round of discoverer.rounds().slice(1, 3)) {
      expect(round['outcome']).toBe('failed');
      expect(String(round['error'])).toContain('ListClusters answered no clusterArns (null or missing; expected a list)');
      expect(targetCounts(round)).toEqual(targetCounts(first));
    }
    expect(await targetsInFiles()).toEqual(before);
    expect(await targetsServed()).toEqual(before);
  });

  it('does not believe one ListClusters answer of no cluster at all, and believes the second in a row', async () => {
    fake.onRound(2, () => fake.faults.oddAnswers.set('ListClusters', () => json({ clusterArns: [] })));
    // Round 3 believes the empty answer: it waits until what round 2 kept is read.
    const releaseRound3 = fake.holdFromRound(3);
    const discoverer = await start();
    const first = await discoverer.waitForRounds(1);
    const before = await targetsInFiles();

    const doubted = await discoverer.waitForRounds(2);
    const kept = await targetsServed();
    releaseRound3();
    const believed = await discoverer.waitForRounds(3);

    expect(doubted['outcome']).toBe('failed');
    expect(String(doubted['error'])).toContain('ListClusters answered no cluster at all, where the last good round had 3; not believed until the next answer agrees');
    expect(targetCounts(doubted)).toEqual(targetCounts(first));
    expect(kept).toEqual(before);
    expect(believed).toMatchObject({ outcome: 'ok', clusters: 0, targets_generic: 0, targets_30s: 0 });
  });
});

describe('slow and endless answers', () => {
  it('abandons a body that drips at the request timeout, retried as a timeout: that cluster fails within the round, the others are fresh', async () => {
    fake.faults.dripMs = DEADLINE_S * 1000;
    fake.onRound(2, () => fake.faults.dripBody.set('ListTasks', inProd));
    fake.onRound(3, () => fake.faults.dripBody.delete('ListTasks'));
    const discoverer = await start({ ECS_DISCOVERER_AWS_REQUEST_TIMEOUT: String(DEADLINE_S), ECS_DISCOVERER_AWS_MAX_ATTEMPTS: '2' });
    const first = await discoverer.waitForRounds(1);
    const before = await targetsInFiles();

    // Two attempts, each abandoned at the deadline.
    const dripped = await discoverer.waitForRounds(2, 60_000);

    expect(dripped['outcome']).toBe('partial');
    expect(targetCounts(dripped)).toEqual(targetCounts(first));
    const prodLines = clusterLines(linesOfRound(discoverer, 2), 'prod').map((line) => String(line['msg']));
    expect(prodLines).toEqual([
      `cluster prod (eu-west-1): keeps its last good targets: AwsError: ListTasks failed: TimeoutError: no complete answer within ${DEADLINE_S} s (aws.requestTimeout)`,
    ]);
    expect(clusterLines(linesOfRound(discoverer, 2), 'batch')).toEqual([]);
    expect(fake.callsOfRound(2).filter((call) => call.action === 'ListTasks' && call.cluster === 'prod')).toHaveLength(2);
    expect(await targetsInFiles()).toEqual(before);
    await discoverer.waitFor(() => discoverer.rounds().slice(2).some((round) => round['outcome'] === 'ok'), 'a good round after the drip');
  });

  it('abandons an endless body at 64 MB, keeps its memory and keeps serving: that cluster fails within the round', async () => {
    fake.onRound(2, () => fake.faults.endlessBody.set('DescribeTasks', inProd));
    fake.onRound(4, () => fake.faults.endlessBody.delete('DescribeTasks'));
    // Deadlines far above the time 64 MB take over loopback, even on a loaded machine: the cap comes first.
    const discoverer = await start({ ECS_DISCOVERER_AWS_REQUEST_TIMEOUT: '100', ECS_DISCOVERER_AWS_CLUSTER_TIMEOUT: '110' });
    const first = await discoverer.waitForRounds(1);
    const before = await targetsServed();

    await discoverer.waitForRounds(3);

    for (const round of [2, 3]) {
      expect(discoverer.rounds()[round - 1]?.['outcome'], `round ${round}`).toBe('partial');
      expect(targetCounts(discoverer.rounds()[round - 1]), `round ${round}`).toEqual(targetCounts(first));
      expect(clusterLines(linesOfRound(discoverer, round), 'prod').map((line) => String(line['msg'])), `round ${round}`).toEqual([
        'cluster prod (eu-west-1): keeps its last good targets: AwsError: DescribeTasks failed: AnswerTooLargeError: answer larger than 64 MB: abandoned while reading',
      ]);
    }
    expect((await fetch(`${base}/-/healthy`)).status).toBe(200);
    expect(await targetsServed()).toEqual(before);
    await discoverer.waitFor(() => discoverer.rounds().slice(3).some((round) => round['outcome'] === 'ok'), 'a good round after the endless body');
  });

  it('ends a listing whose next-page token never changes: that cluster fails within the round, the others are fresh', async () => {
    fake.onRound(2, () => fake.faults.endlessToken.set('ListTasks', { token: 'same', only: inProd }));
    fake.onRound(4, () => fake.faults.endlessToken.delete('ListTasks'));
    const discoverer = await start();
    const first = await discoverer.waitForRounds(1);
    const before = await targetsInFiles();

    await discoverer.waitForRounds(3);

    for (const round of [2, 3]) {
      expect(discoverer.rounds()[round - 1]?.['outcome'], `round ${round}`).toBe('partial');
      expect(targetCounts(discoverer.rounds()[round - 1]), `round ${round}`).toEqual(targetCounts(first));
      expect(clusterLines(linesOfRound(discoverer, round), 'prod').map((line) => String(line['msg'])), `round ${round}`).toEqual([
        'cluster prod (eu-west-1): keeps its last good targets: MalformedAnswerError: ListTasks answered a next-page token it had answered before, on page 2: the listing would never end',
      ]);
      expect(fake.callsOfRound(round).filter((call) => call.action === 'ListTasks' && call.cluster === 'prod'), `round ${round}`).toHaveLength(2);
    }
    expect(await targetsInFiles()).toEqual(before);
    await discoverer.waitFor(() => discoverer.rounds().slice(3).some((round) => round['outcome'] === 'ok'), 'a good round after the endless listing');
  });

  it('abandons a cluster still being read at aws.clusterTimeout, with its last good targets, while the others are fresh', async () => {
    // A request timeout well above the cluster's: the drip holds the cluster past its deadline.
    fake.faults.dripMs = DEADLINE_S * 1000;
    fake.onRound(2, () => fake.faults.dripBody.set('ListTasks', inProd));
    fake.onRound(3, () => fake.faults.dripBody.delete('ListTasks'));
    const discoverer = await start({ ECS_DISCOVERER_AWS_REQUEST_TIMEOUT: '100', ECS_DISCOVERER_AWS_CLUSTER_TIMEOUT: String(DEADLINE_S) });
    const first = await discoverer.waitForRounds(1);
    const before = await targetsInFiles();

    const abandoned = await discoverer.waitForRounds(2, 60_000);

    expect(abandoned['outcome']).toBe('partial');
    expect(targetCounts(abandoned)).toEqual(targetCounts(first));
    expect(clusterLines(linesOfRound(discoverer, 2), 'prod').map((line) => String(line['msg']))).toEqual([
      `cluster prod (eu-west-1): keeps its last good targets: abandoned for this round: still being read after ${DEADLINE_S} s (aws.clusterTimeout)`,
    ]);
    expect(clusterLines(linesOfRound(discoverer, 2), 'batch')).toEqual([]);
    expect(await targetsInFiles()).toEqual(before);
    await discoverer.waitFor(() => discoverer.rounds().slice(2).some((round) => round['outcome'] === 'ok'), 'a good round after the slow cluster');
  });

  it('ends within the round a listing with a new next-page token on every page: that cluster fails, the others are fresh', async () => {
    // Paced at ECS's rate (about 100 at once, then 20 a second), 1,000 pages take most of a
    // minute, on any machine: the cluster's deadline comes first. Prod is listed last, so that
    // its endless calls never go before those of the other clusters, which share its bucket.
    fake.fleet.clusters.push(...fake.fleet.clusters.splice(fake.fleet.clusters.findIndex((cluster) => cluster.name === 'prod'), 1));
    fake.onRound(2, () => fake.faults.endlessToken.set('ListTasks', { token: 'new', only: inProd }));
    fake.onRound(3, () => fake.faults.endlessToken.delete('ListTasks'));
    const discoverer = await start({ ECS_DISCOVERER_AWS_CLUSTER_TIMEOUT: String(DEADLINE_S) });
    const first = await discoverer.waitForRounds(1);

    const ended = await discoverer.waitForRounds(2, 60_000);

    expect(ended['outcome']).toBe('partial');
    expect(targetCounts(ended)).toEqual(targetCounts(first));
    expect(clusterLines(linesOfRound(discoverer, 2), 'prod').map((line) => String(line['msg']))).toEqual([
      `cluster prod (eu-west-1): keeps its last good targets: abandoned for this round: still being read after ${DEADLINE_S} s (aws.clusterTimeout)`,
    ]);
    expect(clusterLines(linesOfRound(discoverer, 2), 'batch')).toEqual([]);
    expect(fake.callsOfRound(2).filter((call) => call.action === 'ListTasks' && call.cluster === 'prod').length).toBeGreaterThan(2);
  });
});
