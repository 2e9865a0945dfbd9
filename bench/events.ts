/**
 * The events scenario of `npm run bench -- --events`: one fleet, the same churn (a share of its
 * tasks replaced every minute, evenly spread), run twice against the in-repo fake: once polling
 * (no queue), once with events (the fake's SQS queue). For each mode: the latency from the moment
 * the fake has a task RUNNING (and, with events, sends its RUNNING event) to its target in
 * /targets (median, p99), the ECS and EC2 calls per minute during the churn, and whether both
 * modes publish the same targets after a full round that started after the churn (with events,
 * one resync: up to twice events.resyncInterval of waiting).
 *
 * How the latency is seen: the benchmark asks /metrics every 50 ms; when the discoverer has
 * written its files again (ecs_discoverer_file_writes_total), it asks /targets of the clusters
 * that have tasks not seen yet. A latency is thus the time to the publication plus up to 50 ms.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Task } from '@aws-sdk/client-ecs';
import { FakeAws, type TokenBucket } from '../src/fake/fakeAws.js';
import { FleetEvents } from '../src/fake/fleetEvents.js';
import { loopbackIp, type TaskSpec } from '../src/fake/fleet.js';
import { fleetOfTasks } from './fleetOfTasks.js';
import { RunningDiscoverer, fakeAwsEnv, freePort } from '../test/support/runningDiscoverer.js';

export interface EventsScenario {
  tasks: number;
  clusters: number;
  definitions: number;
  /** Minutes of churn measured. */
  minutes: number;
  /** Share of the tasks replaced per minute, in percent. */
  churnPercent: number;
  intervalS: number;
  taskRefreshS: number;
  resyncS: number;
  latencyMs: number;
  buckets: Record<string, TokenBucket>;
}

export interface ModeResult {
  mode: 'polling' | 'events';
  /** Tasks started during the churn, and seen in /targets by the end. */
  started: number;
  seen: number;
  latencyMedianMs: number;
  latencyP99Ms: number;
  latencyMaxMs: number;
  /** ECS and EC2 calls (not SQS) per minute of churn, and by action. */
  callsPerMinute: number;
  callsByAction: Record<string, number>;
  sqsCallsPerMinute: number;
  /** The five files at the end, for the comparison. */
  files: string[];
  targets: number;
}

const FILES = ['tasks.json', '15s-tasks.json', '30s-tasks.json', '1m-tasks.json', '5m-tasks.json'];
const SQS_ACTIONS = new Set(['ReceiveMessage', 'DeleteMessageBatch', 'GetQueueAttributes']);
const WATCH_EVERY_MS = 50;

const percentile = (values: number[], share: number) => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(share * sorted.length) - 1)] as number;
};

/** A task like `victim`, on the same host (a new host port) or with a new address: a deploy's replacement. */
function replacementOf(fake: FakeAws, victim: Task, n: number): TaskSpec {
  const definition = fake.fleet.taskDefinitions.get(victim.taskDefinitionArn ?? '');
  if (definition === undefined) throw new Error(`no definition for ${victim.taskArn}`);
  const cluster = (victim.clusterArn ?? '').slice((victim.clusterArn ?? '').lastIndexOf('/') + 1);
  const bridge = definition.networkMode === 'bridge';
  return {
    cluster,
    id: `r${n.toString(16).padStart(7, '0')}`,
    definition,
    ...(victim.launchType !== undefined && { launchType: victim.launchType as 'EC2' | 'FARGATE' }),
    ...(victim.containerInstanceArn !== undefined && { containerInstanceArn: victim.containerInstanceArn }),
    ...(definition.networkMode === 'awsvpc' && { eniIp: loopbackIp(3, n) }),
    containers: [{ name: 'app', ...(bridge && { bindings: [{ containerPort: 8080, hostPort: 40_000 + (n % 20_000) }] }) }, { name: 'sidecar' }],
  };
}

/** Runs one mode: cold round, then the churn for `minutes`, then waits until the end state is published. */
export async function runMode(scenario: EventsScenario, mode: 'polling' | 'events'): Promise<ModeResult> {
  const { tasks, clusters, definitions, minutes, churnPercent } = scenario;
  const fake = new FakeAws(fleetOfTasks({ tasks, clusters, definitions }));
  fake.faults.latencyMs = scenario.latencyMs;
  fake.faults.buckets = scenario.buckets;
  await fake.start();
  const events = new FleetEvents(fake);
  const outputDir = await mkdtemp(join(tmpdir(), 'discoverer-bench-events-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const discoverer = new RunningDiscoverer(
    [
      '--interval',
      String(scenario.intervalS),
      '--task-refresh',
      String(scenario.taskRefreshS),
      '--output-dir',
      outputDir,
      '--http-host',
      '127.0.0.1',
      '--http-port',
      String(port),
      ...(mode === 'events' ? ['--events-queue-url', fake.sqs.queueUrl, '--events-resync-interval', String(scenario.resyncS)] : []),
    ],
    fakeAwsEnv(fake.url),
  );
  const pending = new Map<string, { cluster: string; sentAt: number }>();
  const latencies: number[] = [];
  let watching = true;
  let watcher: Promise<void> = Promise.resolve();
  try {
    await discoverer.waitForRounds(1, 600_000);
    if (mode === 'events') await discoverer.waitFor(() => discoverer.lines.some((line) => line['msg'] === 'events: listening to the queue'), 'listening', 60_000);

    // Sees each started task in /targets, asking only after the files were written again.
    watcher = (async () => {
      let writes = '';
      while (watching) {
        await new Promise((resolve) => setTimeout(resolve, WATCH_EVERY_MS));
        const seenAt = Date.now();
        const metrics = await (await fetch(`${base}/metrics`)).text();
        const now = /^ecs_discoverer_file_writes_total\{outcome="written"\} (\d+)/m.exec(metrics)?.[1] ?? '';
        if (now === writes || pending.size === 0) continue;
        writes = now;
        for (const cluster of new Set([...pending.values()].map((task) => task.cluster))) {
          const body = await (await fetch(`${base}/targets?cluster=${cluster}`)).text();
          for (const [arn, task] of pending) {
            if (task.cluster === cluster && body.includes(`"${arn}"`)) {
              latencies.push(seenAt - task.sentAt);
              pending.delete(arn);
            }
          }
        }
      }
    })();

    // The churn: replacements spread evenly, the oldest task of each cluster in turn.
    const replacements = Math.round((tasks * churnPercent * minutes) / 100);
    const everyMs = (minutes * 60_000) / replacements;
    const callsBefore = fake.calls.length;
    const startedAt = Date.now();
    for (let n = 0; n < replacements; n++) {
      const due = startedAt + n * everyMs;
      if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
      const cluster = fake.fleet.clusters[n % clusters];
      const victim = cluster?.tasks[0];
      if (cluster === undefined || victim === undefined) continue;
      events.stopTask(cluster.name, (victim.taskArn ?? '').slice((victim.taskArn ?? '').lastIndexOf('/') + 1));
      const started = events.startTask(replacementOf(fake, victim, n));
      pending.set(started.taskArn as string, { cluster: cluster.name, sentAt: events.runningSentAt.get(started.taskArn as string) ?? Date.now() });
    }
    const churnMinutes = (Date.now() - startedAt) / 60_000;
    const churnCalls = fake.calls.slice(callsBefore);

    // The end state: one full round that started after the churn (with events, after one resync,
    // which also describes the tasks that only events told of: their health status).
    if (mode === 'events') await discoverer.waitFor(() => fake.sqs.size === 0, 'the last events applied', 60_000).catch(() => {});
    const rounds = discoverer.rounds().length;
    await discoverer.waitForRounds(rounds + 2, (2 * Math.max(scenario.intervalS, mode === 'events' ? scenario.resyncS : 0) + 600) * 1000);
    await discoverer.waitFor(() => pending.size === 0, 'the last tasks seen', 10_000).catch(() => {});
    watching = false;
    await watcher;
    const files = await Promise.all(FILES.map((file) => readFile(join(outputDir, file), 'utf8')));
    const ecsCalls = churnCalls.filter((call) => !SQS_ACTIONS.has(call.action));
    const callsByAction: Record<string, number> = {};
    for (const call of ecsCalls) callsByAction[call.action] = (callsByAction[call.action] ?? 0) + 1;
    return {
      mode,
      started: replacements,
      seen: latencies.length,
      latencyMedianMs: percentile(latencies, 0.5),
      latencyP99Ms: percentile(latencies, 0.99),
      latencyMaxMs: latencies.length === 0 ? NaN : Math.max(...latencies),
      callsPerMinute: ecsCalls.length / churnMinutes,
      callsByAction,
      sqsCallsPerMinute: (churnCalls.length - ecsCalls.length) / churnMinutes,
      files,
      targets: files.reduce((sum, text) => sum + (JSON.parse(text) as unknown[]).length, 0),
    };
  } finally {
    watching = false;
    await watcher.catch(() => {});
    await discoverer.stop('SIGTERM');
    await fake.stop();
    await rm(outputDir, { recursive: true, force: true });
  }
}

/** Both modes on the same fleet and churn, as a table, and the comparison. */
export async function runEventsScenario(scenario: EventsScenario): Promise<{ table: string; results: ModeResult[]; sameTargets: boolean }> {
  const results: ModeResult[] = [];
  for (const mode of ['polling', 'events'] as const) {
    process.stderr.write(`events scenario: ${scenario.tasks} tasks, ${mode}, ${scenario.minutes} min of churn...\n`);
    results.push(await runMode(scenario, mode));
  }
  const [polling, withEvents] = results as [ModeResult, ModeResult];
  const sameTargets = polling.files.every((text, index) => text === withEvents.files[index]);
  const rows = results.map((result) => [
    result.mode,
    `${result.seen}/${result.started}`,
    result.latencyMedianMs.toFixed(0),
    result.latencyP99Ms.toFixed(0),
    result.latencyMaxMs.toFixed(0),
    result.callsPerMinute.toFixed(1),
    result.sqsCallsPerMinute.toFixed(1),
    String(result.targets),
  ]);
  const header = ['mode', 'tasks seen', 'latency median ms', 'latency p99 ms', 'latency max ms', 'ECS calls/min', 'SQS calls/min', 'targets'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const format = (cells: string[]) => `| ${cells.map((cell, column) => cell.padStart(widths[column] ?? 0)).join(' | ')} |`;
  const table = [
    format(header),
    `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`,
    ...rows.map(format),
    '',
    `events / polling ECS calls: ${(withEvents.callsPerMinute / polling.callsPerMinute).toFixed(3)}; same final targets in both modes: ${sameTargets ? 'yes' : 'NO'}`,
    `calls by action, polling: ${JSON.stringify(polling.callsByAction)}`,
    `calls by action, events:  ${JSON.stringify(withEvents.callsByAction)}`,
  ].join('\n');
  return { table, results, sameTargets };
}
