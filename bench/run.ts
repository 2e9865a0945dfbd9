/**
 * `npm run bench`: cold and steady rounds of the built discoverer against the fake ECS/EC2,
 * with 20 ms per call and ECS-like token buckets, for fleets of 100 to 20,000 tasks. Prints a
 * table and writes it as JSON (bench/results/) so that runs can be compared.
 *
 *   npm run bench                      # every size
 *   npm run bench -- --sizes 100,1000  # some sizes
 *   BENCH_DEBUG=1 npm run bench        # also print each throttled call (action, ms into the round)
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ACTION_BUCKETS, FakeAws, type FakeFleet, type TokenBucket } from '../test/support/fakeAws.js';
import { generateFleet } from '../test/support/fleet.js';
import { RunningDiscoverer, fakeAwsEnv } from '../test/support/runningDiscoverer.js';

/** ECS's documented buckets (and EC2's for DescribeInstances), per account and region. */
const BUCKETS: Record<string, TokenBucket> = {
  tasks: { burst: 100, perSecond: 20 },
  taskDefinitions: { burst: 50, perSecond: 20 },
  clusters: { burst: 50, perSecond: 20 },
  containerInstances: { burst: 100, perSecond: 20 },
  ec2: { burst: 100, perSecond: 20 },
};
const LATENCY_MS = 20;
/** The discoverer's interval and task refresh in the benchmark (seconds). */
const INTERVAL_S = 1;
const TASK_REFRESH_S = 300;

/**
 * The README's steady cost per round: one ListClusters page per 100 clusters, and per cluster
 * one ListTasks page per 100 tasks plus one DescribeTasks per 100 tasks of its refresh share,
 * ceil(tasks × interval / taskRefresh).
 */
function steadyCalls(fleet: FakeFleet): number {
  return (
    Math.max(1, chunks(fleet.clusters.length, 100)) +
    fleet.clusters.reduce(
      (sum, cluster) =>
        sum + Math.max(1, chunks(cluster.tasks.length, 100)) + chunks(Math.ceil((cluster.tasks.length * INTERVAL_S) / TASK_REFRESH_S), 100),
      0,
    )
  );
}

/** Fleet shapes: several clusters, a mix of network modes and task definition revisions. */
const FLEETS: Record<number, { clusters: number; definitions: number }> = {
  100: { clusters: 2, definitions: 20 },
  1000: { clusters: 4, definitions: 60 },
  10000: { clusters: 10, definitions: 200 },
  20000: { clusters: 10, definitions: 300 },
};

interface Row {
  tasks: number;
  clusters: number;
  taskDefinitions: number;
  coldSeconds: number;
  boundSeconds: number;
  coldCalls: number;
  throttled: number;
  steadyCalls: number;
  steadyBound: number;
  steadySeconds: number;
  /** CPU seconds of the discoverer process up to the end of the cold round (start-up included). */
  coldCpuSeconds: number;
  steadyCpuSeconds: number;
  peakRssMb: number;
  targets: number;
  expectedTargets: number;
}

const chunks = (count: number, size: number) => Math.ceil(count / size);

/** Fewest calls per bucket that any discoverer needs for a cold round of this fleet. */
function minimalColdCalls(fleet: FakeFleet): Record<string, number> {
  const calls: Record<string, number> = { tasks: 0, taskDefinitions: 0, clusters: 1, containerInstances: 0, ec2: 0 };
  const definitions = new Set<string>();
  let instances = 0;
  for (const cluster of fleet.clusters) {
    const tasks = cluster.tasks.length;
    // Every cluster needs one ListTasks page, even an empty one; each page of tasks one DescribeTasks.
    calls['tasks'] = (calls['tasks'] ?? 0) + Math.max(1, chunks(tasks, 100)) + chunks(tasks, 100);
    for (const task of cluster.tasks) definitions.add(task.taskDefinitionArn ?? '');
    const used = new Set(cluster.tasks.map((task) => task.containerInstanceArn).filter(Boolean));
    calls['containerInstances'] = (calls['containerInstances'] ?? 0) + chunks(used.size, 100);
    instances += used.size;
  }
  calls['taskDefinitions'] = definitions.size;
  calls['ec2'] = chunks(instances, 200);
  return calls;
}

/** The time ECS's buckets need for those calls: the slowest bucket after its burst. */
function boundSeconds(calls: Record<string, number>): number {
  return Math.max(
    0,
    ...Object.entries(calls).map(([bucket, count]) => {
      const { burst, perSecond } = BUCKETS[bucket] as TokenBucket;
      return Math.max(0, count - burst) / perSecond;
    }),
  );
}

/** User and system CPU seconds a process has used so far. */
async function cpuSeconds(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
  // utime and stime are fields 14 and 15 of /proc/<pid>/stat, in clock ticks (100 per second).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** VmHWM: the peak resident set of a process, in MB. */
async function peakRssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN);
  return Math.round(kb / 1024);
}

async function measure(tasks: number): Promise<Row> {
  const shape = FLEETS[tasks] ?? { clusters: Math.max(1, Math.round(tasks / 1000)), definitions: Math.max(5, Math.round(tasks / 50)) };
  const fleet = generateFleet({ clusters: shape.clusters, tasksPerCluster: Math.ceil(tasks / shape.clusters), definitions: shape.definitions });
  const fake = new FakeAws(fleet);
  fake.faults.latencyMs = LATENCY_MS;
  fake.faults.buckets = BUCKETS;
  await fake.start();
  const outputDir = await mkdtemp(join(tmpdir(), 'discoverer-bench-'));
  const env = { ...fakeAwsEnv(fake.url), ...(process.env['BENCH_NODE_OPTIONS'] && { NODE_OPTIONS: process.env['BENCH_NODE_OPTIONS'] }) };
  const discoverer = new RunningDiscoverer(
    ['--interval', String(INTERVAL_S), '--task-refresh', String(TASK_REFRESH_S), '--output-dir', outputDir, '--http-port', '0'],
    env,
  );
  try {
    const cold = await discoverer.waitForRounds(1, 300_000);
    const callsAfterCold = fake.calls.length;
    const coldCpu = await cpuSeconds(discoverer.pid as number);
    const steady = await discoverer.waitForRounds(2, 300_000);
    const steadyCpu = (await cpuSeconds(discoverer.pid as number)) - coldCpu;
    const peak = await peakRssMb(discoverer.pid as number);
    if (cold['outcome'] !== 'ok' || steady['outcome'] !== 'ok') {
      throw new Error(`round failed at ${tasks} tasks: ${JSON.stringify({ cold, steady })}`);
    }
    const coldCalls = fake.calls.slice(0, callsAfterCold);
    if (process.env['BENCH_DEBUG']) {
      const t0 = coldCalls[0]?.at ?? 0;
      for (const call of coldCalls.filter((c) => c.outcome === 'throttled')) console.error('throttled', call.action, call.at - t0);
    }
    const targets = INTERVAL_FIELDS.reduce((sum, field) => sum + Number(cold[field] ?? 0), 0);
    const actualTasks = fleet.clusters.reduce((sum, cluster) => sum + cluster.tasks.length, 0);
    return {
      tasks: actualTasks,
      clusters: fleet.clusters.length,
      taskDefinitions: fleet.taskDefinitions.size,
      coldSeconds: Number(cold['duration_ms']) / 1000,
      boundSeconds: boundSeconds(minimalColdCalls(fleet)),
      coldCalls: coldCalls.length,
      throttled: coldCalls.filter((call) => call.outcome === 'throttled').length,
      steadyCalls: Number(steady['api_calls']),
      steadyBound: steadyCalls(fleet),
      steadySeconds: Number(steady['duration_ms']) / 1000,
      coldCpuSeconds: coldCpu,
      steadyCpuSeconds: Number(steadyCpu.toFixed(2)),
      peakRssMb: peak,
      targets,
      // generateFleet gives every task exactly one target.
      expectedTargets: actualTasks,
    };
  } finally {
    await discoverer.stop('SIGTERM');
    await fake.stop();
    await rm(outputDir, { recursive: true, force: true });
  }
}

const INTERVAL_FIELDS = ['targets_15s', 'targets_30s', 'targets_1m', 'targets_5m', 'targets_generic'];

function toTable(rows: Row[]): string {
  const header = ['tasks', 'clusters', 'task defs', 'cold s', 'bound s', 'target s', 'throttled', 'steady calls', 'steady formula', 'steady s', 'CPU s cold/steady', 'peak RSS MB', 'targets'];
  const lines = rows.map((row) => [
    row.tasks.toLocaleString('en-US'),
    String(row.clusters),
    String(row.taskDefinitions),
    row.coldSeconds.toFixed(2),
    row.boundSeconds.toFixed(2),
    (1.2 * row.boundSeconds + 1).toFixed(2),
    String(row.throttled),
    String(row.steadyCalls),
    String(row.steadyBound),
    row.steadySeconds.toFixed(2),
    `${row.coldCpuSeconds.toFixed(1)} / ${row.steadyCpuSeconds.toFixed(2)}`,
    String(row.peakRssMb),
    `${row.targets.toLocaleString('en-US')}${row.targets === row.expectedTargets ? '' : ` (expected ${row.expectedTargets})`}`,
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => (line[column] ?? '').length)));
  const format = (cells: string[]) => `| ${cells.map((cell, column) => cell.padStart(widths[column] ?? 0)).join(' | ')} |`;
  return [format(header), `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`, ...lines.map(format)].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { sizes: { type: 'string', default: '100,1000,10000,20000' } } });
  const sizes = (values.sizes ?? '').split(',').map(Number).filter((size) => Number.isInteger(size) && size > 0);
  const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version, platform: `${process.platform} ${process.arch}` };
  console.log(`prometheus-ecs-discoverer benchmark, ${new Date().toISOString()}`);
  console.log(`machine: ${machine.cpus} CPUs (${machine.cpuModel}), Node ${machine.node}, ${machine.platform}`);
  console.log(`fake ECS/EC2: ${LATENCY_MS} ms per call; buckets (burst/per second): ${Object.entries(BUCKETS).map(([name, bucket]) => `${name} ${bucket.burst}/${bucket.perSecond}`).join(', ')}`);
  console.log(`(${Object.entries(ACTION_BUCKETS).map(([action, bucket]) => `${action}→${bucket}`).join(', ')})\n`);

  const rows: Row[] = [];
  for (const size of sizes) {
    process.stderr.write(`measuring ${size} tasks...\n`);
    rows.push(await measure(size));
  }
  console.log(toTable(rows));
  console.log('\ncold s: first round; bound s: what the buckets impose on the fewest calls a cold round needs;');
  console.log('target s: 1.2 × bound + 1; steady formula: 1 ListClusters page per 100 clusters, and per cluster 1 ListTasks page');
  console.log(`per 100 tasks + 1 DescribeTasks per 100 of its refresh share, ceil(tasks × interval / taskRefresh) (interval ${INTERVAL_S} s, taskRefresh ${TASK_REFRESH_S} s).`);

  const directory = new URL('./results/', import.meta.url);
  await mkdir(directory, { recursive: true });
  const file = new URL(`bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`, directory);
  await writeFile(file, `${JSON.stringify({ date: new Date().toISOString(), machine, latencyMs: LATENCY_MS, buckets: BUCKETS, rows }, null, 2)}\n`);
  console.log(`\nJSON: ${file.pathname}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
