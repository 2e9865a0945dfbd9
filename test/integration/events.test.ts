import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TaskDefinition } from '@aws-sdk/client-ecs';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TargetGroup } from '../../src/discovery/targetGroups.js';
import { FakeAws } from '../../src/fake/fakeAws.js';
import { FleetEvents } from '../../src/fake/fleetEvents.js';
import { addHost, generateFleet, taskArn } from '../../src/fake/fleet.js';
import { RunningDiscoverer, assertBuilt, fakeAwsEnv, freePort, runCli } from '../support/runningDiscoverer.js';

/**
 * Event-driven discovery, the built CLI against the fake's ECS and SQS: task changes reach
 * /targets through the queue, without a round and without describing the task; full rounds
 * repair what events missed; an unanswering queue hands over to rounds at `interval`. Every
 * wait is for a state (a log line, a round, the queue drained, /targets), never for a time.
 */

const FILES = ['tasks.json', '15s-tasks.json', '30s-tasks.json', '1m-tasks.json', '5m-tasks.json'];

let fake: FakeAws;
let events: FleetEvents;
let workDir: string;
let outputDir: string;
let running: RunningDiscoverer;
let base: string;

/** Two clusters of 10 tasks (bridge, host, awsvpc, Fargate), each with one target. */
function fleet() {
  return generateFleet({ clusters: 2, tasksPerCluster: 10, definitions: 10 });
}

const definitionOf = (mode: 'fargate' | 'bridge'): TaskDefinition => {
  const found = [...fake.fleet.taskDefinitions.values()].find((definition) => definition.family?.endsWith(`-${mode}`));
  if (found === undefined) throw new Error(`no ${mode} definition in the fleet`);
  return found;
};

/** A new Fargate task whose one target is at `ip`. */
function startFargate(cluster: string, id: string, ip: string) {
  return events.startTask({ cluster, id, definition: definitionOf('fargate'), launchType: 'FARGATE', eniIp: ip, containers: [{ name: 'app' }, { name: 'sidecar' }] });
}

function start({ interval, resync, env = {} }: { interval: number; resync: number; env?: NodeJS.ProcessEnv }): RunningDiscoverer {
  running = new RunningDiscoverer(
    [
      '--interval',
      String(interval),
      '--events-resync-interval',
      String(resync),
      '--events-queue-url',
      fake.sqs.queueUrl,
      '--output-dir',
      outputDir,
      '--http-host',
      '127.0.0.1',
      '--http-port',
      new URL(base).port,
    ],
    { ...fakeAwsEnv(fake.url), ...env },
  );
  return running;
}

const get = async (path: string) => {
  const response = await fetch(`${base}${path}`);
  return { status: response.status, body: await response.text() };
};

async function targets(): Promise<TargetGroup[]> {
  const answer = await get('/targets');
  return answer.status === 200 ? (JSON.parse(answer.body) as TargetGroup[]) : [];
}

/** Every group of the five files, as they are now. */
async function inFiles(): Promise<TargetGroup[]> {
  const files = await Promise.all(FILES.map(async (file) => JSON.parse(await readFile(join(outputDir, file), 'utf8')) as TargetGroup[]));
  return files.flat();
}

const ofTask = (groups: TargetGroup[], arn: string) => groups.filter((group) => group.labels['__meta_ecs_task_arn'] === arn);

/** Waits for a state that takes asking (HTTP or the files), checked every 25 ms; the deadline only ends a failing wait. */
async function waitUntil(isDone: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await isDone())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; stderr so far:\n${running.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const logged = (text: string) => running.lines.filter((line) => String(line['msg']).includes(text));
const waitForLog = (text: string) => running.waitFor(() => logged(text).length > 0, `the log line "${text}"`);

async function eventsCount(outcome: string): Promise<number> {
  const line = (await get('/metrics')).body.split('\n').find((candidate) => candidate.startsWith(`ecs_discoverer_events_total{outcome="${outcome}"}`));
  return Number(line?.split(' ')[1] ?? 0);
}

beforeAll(() => {
  assertBuilt();
});
beforeEach(async () => {
  fake = new FakeAws(fleet());
  await fake.start();
  events = new FleetEvents(fake);
  workDir = await mkdtemp(join(tmpdir(), 'discoverer-events-'));
  outputDir = join(workDir, 'targets');
  base = `http://127.0.0.1:${await freePort()}`;
});
afterEach(async () => {
  await running?.stop('SIGKILL');
  await fake.stop();
  await rm(workDir, { recursive: true, force: true });
});

describe('event-driven discovery', () => {
  it('publishes a task started in ECS from its event, with no round and no describe of the task', async () => {
    // Prepare: no full round for the rest of the test (interval 60 s, resync an hour).
    start({ interval: 60, resync: 3600 });
    await waitForLog('events: listening to the queue');
    const since = fake.calls.length;

    // Act
    const fargate = startFargate('cluster-0', 'new1', '127.3.0.1');
    await waitUntil(async () => ofTask(await targets(), fargate.taskArn as string).length === 1, 'the new task in /targets');
    // A bridge task on a host new to the discoverer, which its container instance event announced.
    const host = addHost(fake.fleet, 'cluster-1', 'i-0fffffffffffffff1', '127.0.99.1');
    events.announceContainerInstance('cluster-1', host);
    const bridge = events.startTask({
      cluster: 'cluster-1',
      id: 'new2',
      definition: definitionOf('bridge'),
      containerInstanceArn: host,
      containers: [{ name: 'app', bindings: [{ containerPort: 8080, hostPort: 40001 }] }, { name: 'sidecar' }],
    });
    await waitUntil(async () => ofTask(await targets(), bridge.taskArn as string).length === 1, 'the bridge task in /targets');
    await waitUntil(async () => fake.sqs.size === 0, 'every message deleted');

    // Assess
    expect(ofTask(await targets(), fargate.taskArn as string).map((group) => group.targets[0])).toEqual([expect.stringMatching(/^127\.3\.0\.1:\d+$/)]);
    // Events carry no health status: the next full round describes the task and says it.
    expect(ofTask(await targets(), fargate.taskArn as string)[0]?.labels['__meta_ecs_health_status']).toBeUndefined();
    expect(ofTask(await targets(), bridge.taskArn as string).map((group) => group.targets[0])).toEqual(['127.0.99.1:40001']);
    const actions = fake.calls.slice(since).map((call) => call.action);
    expect(actions.filter((action) => ['ListClusters', 'ListTasks', 'DescribeTasks', 'DescribeContainerInstances'].includes(action))).toEqual([]);
    expect(actions).toContain('DescribeInstances'); // the new host's address
    expect(actions).toContain('DeleteMessageBatch');
    // HTTP SD is served before the files are written: the files follow.
    await waitUntil(async () => ofTask(await inFiles(), fargate.taskArn as string).length === 1, 'the new task in the files');
  });

  it('drops a stopped task, follows a health status an event carries, and keeps the known one when it carries none', async () => {
    // Prepare
    start({ interval: 60, resync: 3600 });
    await waitForLog('events: listening to the queue');
    const stopped = taskArn('cluster-0', '0t000000');
    const ill = taskArn('cluster-0', '0t000001');
    const quiet = taskArn('cluster-0', '0t000002');
    const marker = taskArn('cluster-0', '0t000003');
    expect(ofTask(await targets(), stopped)).toHaveLength(1);
    expect(ofTask(await targets(), marker)).toHaveLength(1);
    const health = (groups: TargetGroup[], arn: string) => ofTask(groups, arn)[0]?.labels['__meta_ecs_health_status'];

    // Act
    events.stopTask('cluster-0', '0t000000');
    new FleetEvents(fake, { withHealth: true }).setHealth('cluster-0', '0t000001', 'UNHEALTHY');
    await waitUntil(async () => {
      const groups = await targets();
      return ofTask(groups, stopped).length === 0 && health(groups, ill) === 'UNHEALTHY';
    }, 'the stop and the health change in /targets');
    const applied = await eventsCount('applied');
    events.setHealth('cluster-0', '0t000002', 'UNHEALTHY');
    await waitUntil(async () => (await eventsCount('applied')) > applied, 'the health event without health applied');
    // A change after it: what publishes it was made after the event without health was applied.
    events.stopTask('cluster-0', '0t000003');
    // HTTP SD is served before the files are written: waiting for the files waits for both.
    await waitUntil(async () => ofTask(await inFiles(), marker).length === 0, 'the later stop in the files');

    // Assess
    const published = [await inFiles(), await targets()];
    for (const groups of published) {
      expect(ofTask(groups, stopped)).toEqual([]);
      expect(health(groups, ill)).toBe('UNHEALTHY');
      expect(health(groups, quiet)).toBe('HEALTHY');
    }
  });

  it("keeps a cluster's other targets when an event follows an empty cluster list that was not believed", async () => {
    // Prepare: round 2 lists no cluster, once (not believed: every cluster keeps its targets); round 3 waits for the test.
    fake.onRound(2, () => fake.faults.oddAnswers.set('ListClusters', () => ({ body: '{"clusterArns":[]}' })));
    fake.onRound(3, () => fake.faults.oddAnswers.delete('ListClusters'));
    const releaseRound3 = fake.holdFromRound(3);
    start({ interval: 1, resync: 2 });
    await waitForLog('events: listening to the queue');
    const before = (await targets()).filter((group) => group.labels['__meta_ecs_cluster'] === 'cluster-0');
    const doubted = await running.waitForRounds(2);
    const stopped = taskArn('cluster-0', '0t000000');

    // Act
    events.stopTask('cluster-0', '0t000000');
    await waitUntil(async () => ofTask(await targets(), stopped).length === 0, 'the stop in /targets');
    const after = (await targets()).filter((group) => group.labels['__meta_ecs_cluster'] === 'cluster-0');
    releaseRound3();

    // Assess
    expect(String(doubted['error'])).toContain('ListClusters answered no cluster at all');
    expect(before).toHaveLength(10);
    expect(after.map((group) => group.labels['__meta_ecs_task_arn']).sort()).toEqual(
      before.map((group) => group.labels['__meta_ecs_task_arn']).filter((arn) => arn !== stopped).sort(),
    );
  });

  it('runs the round after a failed one at interval, not at the resync interval, so that a failed start is soon repaired', async () => {
    // Prepare: ECS does not answer in round 1 alone (SQS still does); a resync of an hour.
    fake.onRound(1, () => (fake.faults.outage = true));
    fake.onRound(2, () => (fake.faults.outage = false));
    start({ interval: 1, resync: 3600, env: { ECS_DISCOVERER_AWS_MAX_ATTEMPTS: '1' } });

    // Act
    await waitForLog('events: listening to the queue');
    const second = await running.waitForRounds(2);

    // Assess
    expect(running.rounds()[0]?.['outcome']).toBe('failed');
    expect(second['outcome']).toBe('ok');
    expect((await get('/targets')).status).toBe(200);
  });

  it('runs the round after one that left a cluster never read at interval too: events cannot build that cluster', async () => {
    // Prepare: cluster-1 is refused in round 1 alone; a resync of an hour.
    fake.onRound(1, () => fake.faults.deniedClusters.add('cluster-1'));
    fake.onRound(2, () => fake.faults.deniedClusters.delete('cluster-1'));
    start({ interval: 1, resync: 3600 });

    // Act
    await waitForLog('events: listening to the queue');
    const second = await running.waitForRounds(2);

    // Assess
    expect(running.rounds()[0]?.['outcome']).toBe('partial');
    expect(second['outcome']).toBe('ok');
    expect(new Set((await targets()).map((group) => group.labels['__meta_ecs_cluster']))).toEqual(new Set(['cluster-0', 'cluster-1']));
  });

  it('repairs a lost event with the next full round', async () => {
    // Prepare: full rounds every 2 s while the queue answers.
    start({ interval: 1, resync: 2 });
    await waitForLog('events: listening to the queue');
    fake.sqs.faults.lossRate = 1;

    // Act
    const task = startFargate('cluster-1', 'lost1', '127.3.0.9');
    const roundsBefore = running.rounds().length;
    // The round under way may have listed the tasks before: the one after it started after the change.
    await running.waitForRounds(roundsBefore + 2);

    // Assess
    expect(fake.sqs.sent.lost).toBe(2);
    expect(ofTask(await targets(), task.taskArn as string)).toHaveLength(1);
    expect(fake.calls.some((call) => call.action === 'DescribeTasks' && call.items?.includes(task.taskArn as string))).toBe(true);
  });

  it('deletes and counts a message that is not an ECS event, and says so once', async () => {
    start({ interval: 60, resync: 3600 });
    await waitForLog('events: listening to the queue');

    fake.sqs.send('garbage', { faults: false });
    fake.sqs.send('{"detail-type":"ECS Task State Change","source":"aws.ecs","detail":{"taskArn":42}}', { faults: false });
    await waitUntil(async () => fake.sqs.size === 0 && (await eventsCount('unreadable')) === 2, 'both messages deleted and counted');

    expect(logged('is not an ECS event that can be read; deleted')).toHaveLength(2);
    expect(logged('is not an ECS event that can be read; deleted').map((line) => line['msg'])).toEqual([
      expect.stringMatching(/not JSON/),
      expect.stringMatching(/ECS Task State Change event with a task whose taskArn is 42 \(expected a non-empty string\)/),
    ]);
  });

  it('hands over to full rounds at interval while SQS does not answer, visibly and ready, and listens again when it does', async () => {
    // Prepare: one attempt per call, so that the outage shows at once.
    start({ interval: 1, resync: 3600, env: { ECS_DISCOVERER_AWS_MAX_ATTEMPTS: '1' } });
    await waitForLog('events: listening to the queue');
    const roundsBefore = running.rounds().length;
    const metricsListening = (await get('/metrics')).body;

    // Act
    fake.sqs.setOutage(true);
    await waitForLog('events: the queue does not answer');
    await running.waitForRounds(roundsBefore + 2);
    const metrics = (await get('/metrics')).body;
    const page = (await get('/')).body;
    const ready = await get('/-/ready');
    fake.sqs.setOutage(false);
    await waitForLog('events: the queue answers again');
    const task = startFargate('cluster-0', 'after1', '127.3.0.7');
    await waitUntil(async () => ofTask(await targets(), task.taskArn as string).length === 1, 'a change applied from the queue again');

    // Assess: the alert rules count staleness in ecs_discoverer_interval_seconds, the time between full rounds.
    expect(metricsListening).toMatch(/^ecs_discoverer_interval_seconds 3600$/m);
    expect(metrics).toMatch(/^ecs_discoverer_interval_seconds 1$/m);
    expect(metrics).toContain('ecs_discoverer_events_listening 0');
    expect(page).toContain('The queue does not answer since');
    expect(page).toContain('full rounds every 1 s until it does');
    expect(ready.status).toBe(200);
    expect((await get('/metrics')).body).toContain('ecs_discoverer_events_listening 1');
  });

  it('ends, after one full round, in exactly the targets of polling, through 5 % of events lost, duplicated and reordered', async () => {
    // Prepare: clusters of more than 100 tasks, so that a round's describes do not reach every task by chance.
    fake.fleet = generateFleet({ clusters: 2, tasksPerCluster: 150, definitions: 10 });
    start({ interval: 1, resync: 3 });
    await waitForLog('events: listening to the queue');
    fake.sqs.faults.lossRate = 0.05;
    fake.sqs.faults.duplicationRate = 0.05;
    fake.sqs.faults.reorderRate = 0.05;

    // Act: 60 tasks started, 15 of them and 8 of the fleet's stopped.
    const fleetTasks = [0, 1, 2, 3, 4, 5, 6, 7].map((k) => ({ cluster: `cluster-${k % 2}`, id: `${k % 2}t${(k >> 1).toString(16).padStart(6, '0')}` }));
    for (let index = 0; index < 60; index++) {
      const cluster = `cluster-${index % 2}`;
      startFargate(cluster, `churn${index}`, `127.4.0.${index + 1}`);
      if (index % 4 === 0) events.stopTask(cluster, `churn${index}`);
      const fleetTask = index % 8 === 2 ? fleetTasks[index >> 3] : undefined;
      if (fleetTask !== undefined) expect(events.stopTask(fleetTask.cluster, fleetTask.id)).toBeDefined();
    }
    fake.sqs.flushHeld();
    await waitUntil(async () => fake.sqs.size === 0, 'the queue drained');
    const roundsAtDrain = running.rounds().length;
    await running.waitForRounds(roundsAtDrain + 2);
    const byEvents = await Promise.all(FILES.map((file) => readFile(join(outputDir, file), 'utf8')));
    const pollingDir = join(workDir, 'polling');
    const polling = await runCli(['--once', '--output-dir', pollingDir], fakeAwsEnv(fake.url));
    const byPolling = await Promise.all(FILES.map((file) => readFile(join(pollingDir, file), 'utf8')));

    // Assess
    expect(fake.sqs.sent.lost).toBeGreaterThan(0);
    expect(fake.sqs.sent.duplicated).toBeGreaterThan(0);
    expect(fake.sqs.sent.reordered).toBeGreaterThan(0);
    expect(polling.code, polling.stderr).toBe(0);
    expect(byEvents).toEqual(byPolling);
    expect(byEvents.join('')).toContain('127.4.0.2');
    expect(byEvents.join('')).not.toContain('"127.4.0.1:');
  });

  it('ends its waiting long poll at once on SIGTERM: the process stops cleanly, exit code 0', async () => {
    start({ interval: 60, resync: 3600 });
    await waitForLog('events: listening to the queue');
    await running.waitFor(() => fake.calls.some((call) => call.action === 'ReceiveMessage'), 'a long poll under way');

    const code = await running.stop('SIGTERM');

    expect(code).toBe(0);
    expect(logged('stopped')).toHaveLength(1);
    expect(logged('did not end in time')).toEqual([]);
  });

  it('does not listen in --once and check, which are one round', async () => {
    const env = fakeAwsEnv(fake.url);
    const once = await runCli(['--once', '--output-dir', outputDir, '--events-queue-url', fake.sqs.queueUrl], env);
    const check = await runCli(['check', '--events-queue-url', fake.sqs.queueUrl], env);

    expect([once.code, check.code]).toEqual([0, 0]);
    expect(fake.calls.filter((call) => ['ReceiveMessage', 'GetQueueAttributes', 'DeleteMessageBatch'].includes(call.action))).toEqual([]);
  });
});
