/**
 * `npm run bench`: cold and steady rounds of the built discoverer, run as users run it (the bin,
 * through its shebang, no flags), against the in-repo fake of ECS and EC2 with 20 ms per call and
 * ECS's token buckets. Prints one table and writes it as JSON (bench/results/).
 *
 *   npm run bench                          # 100, 1,000 and 10,000 tasks
 *   npm run bench -- --sizes 10000,50000   # some sizes (50,000 takes about 3 minutes)
 *   npm run bench -- --runs 3              # each size 3 times: min and median of each figure
 *   npm run bench -- --aws-tls             # the fake over HTTPS, as AWS answers (a CA made for the run)
 *   BENCH_DEBUG=1 npm run bench            # also print each throttled call (action, ms into the round)
 *   npm run bench -- --http                # the HTTP scenario instead (bench/httpLoad.ts): 10,000 tasks,
 *                                          # 2,000 clients that never read, 100 gzip readers, /-/healthy
 *   npm run bench -- --http --http-tasks 1000 --http-idle-clients 200 --http-readers 10   # smaller
 *   npm run bench -- --http --http-tls     # the same over HTTPS (a certificate made for the run)
 *   npm run bench -- --events              # events against polling: 10,000 tasks, 1 % churn a minute, 10 minutes each
 *   npm run bench -- --events --sizes 200 --minutes 1 --resync 20   # the same, small and short (a check)
 *   npm run bench -- --sdk-floor           # the SDK alone doing a steady round's calls, beside the discoverer (1,000 tasks)
 *
 * Run it on a quiet machine: figures of a loaded one say nothing.
 */
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { EXIT } from '../src/exitCodes.js';
import { ACTION_BUCKETS, FakeAws, type FakeFleet, type TokenBucket } from '../src/fake/fakeAws.js';
import { fleetOfTasks } from './fleetOfTasks.js';
import { measureHttpLoad, printHttpLoad, type HttpLoadOptions } from './httpLoad.js';
import { RunningDiscoverer, fakeAwsEnv } from '../test/support/runningDiscoverer.js';
import { makeTestPki } from '../test/support/testPki.js';
import { runEventsScenario } from './events.js';
import { cpuSeconds } from './processCpu.js';
import { measureDiscoverer, measureSdkAlone, type FloorRun, type SdkFloorOptions } from './sdkFloor.js';

/** ECS's documented buckets (and EC2's for DescribeInstances), per account and region. */
const BUCKETS: Record<string, TokenBucket> = {
  tasks: { burst: 100, perSecond: 20 },
  taskDefinitions: { burst: 50, perSecond: 20 },
  clusters: { burst: 50, perSecond: 20 },
  containerInstances: { burst: 100, perSecond: 20 },
  ec2: { burst: 100, perSecond: 20 },
};
const LATENCY_MS = 20;
/** The discoverer's interval and task refresh in the benchmark (seconds): the defaults. */
const INTERVAL_S = 15;
const TASK_REFRESH_S = 300;
/**
 * Rounds measured after the steady one: the first steady round also pays once for the process
 * settling after its cold round (V8 compiling the steady path, collecting the cold round's
 * garbage), and its figure varies from run to run. Four: a round with a full collection of the
 * heap costs half as much again as one without, and with two the mean swung by 10-20 %.
 */
const LATER_ROUNDS = 4;

/** Fleet shapes: several clusters, a mix of network modes and task definition revisions. */
const FLEETS: Record<number, { clusters: number; definitions: number }> = {
  100: { clusters: 2, definitions: 20 },
  1000: { clusters: 4, definitions: 60 },
  10000: { clusters: 5, definitions: 100 },
  20000: { clusters: 10, definitions: 200 },
  50000: { clusters: 10, definitions: 300 },
};

/** The shape of a fleet of this size: one of FLEETS, else a cluster per 1,000 tasks and a definition per 100. */
const fleetShape = (tasks: number) => FLEETS[tasks] ?? { clusters: Math.max(1, Math.round(tasks / 1000)), definitions: Math.max(5, Math.round(tasks / 100)) };

interface Row {
  tasks: number;
  clusters: number;
  taskDefinitions: number;
  boundSeconds: number;
  coldSeconds: number;
  firstCallSeconds: number;
  firstTargetSeconds: number;
  throttled: number;
  /** API calls per round, the mean over the steady round and the LATER_ROUNDS after it. */
  steadyCalls: number;
  steadyFormula: number;
  steadySeconds: number;
  coldCpuSeconds: number;
  steadyCpuSeconds: number;
  /** The steady round alone: from its first call to its log line, the interval before it left out. */
  steadyRoundCpuSeconds: number;
  /** Per round, over the LATER_ROUNDS rounds after the steady one, their intervals included. */
  laterCpuSecondsPerRound: number;
  /** The mean of those rounds alone, each from its first call to its log line. */
  laterRoundCpuSeconds: number;
  idleRssMb: number;
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

/**
 * The README's steady cost per round, on average: one ListClusters page per 100 clusters, and per
 * cluster one ListTasks page per 100 tasks plus its refresh in whole DescribeTasks calls,
 * tasks × interval / taskRefresh / 100 calls a round (or the whole cluster in one call every
 * taskRefresh, when it has fewer than 100 tasks).
 */
function steadyFormula(fleet: FakeFleet): number {
  return (
    Math.max(1, chunks(fleet.clusters.length, 100)) +
    fleet.clusters.reduce((sum, cluster) => {
      const tasks = cluster.tasks.length;
      const refreshCalls = tasks === 0 ? 0 : (INTERVAL_S / TASK_REFRESH_S) * Math.max(1, tasks / 100);
      return sum + Math.max(1, chunks(tasks, 100)) + refreshCalls;
    }, 0)
  );
}

/** A field of /proc/<pid>/status, in MB: VmRSS now, VmHWM the peak. */
async function memoryMb(pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return Math.round(kb / 1024);
}

/**
 * A full collection of this process's heap, now. Before the discoverer starts: the fake of a
 * large fleet holds hundreds of MB here, and an incremental collection of it running meanwhile
 * made the fake see the first call late (0.34-0.48 s instead of 0.21-0.25 at 50,000 tasks).
 */
function collectOwnGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

const INTERVAL_FIELDS = ['targets_15s', 'targets_30s', 'targets_1m', 'targets_5m', 'targets_generic'];

/** The fake's certificate and key, and the CA file the discoverer is given to trust it. */
interface FakeTls {
  cert: string;
  key: string;
  caFile: string;
}

async function measure(tasks: number, tls: FakeTls | undefined): Promise<Row> {
  const shape = fleetShape(tasks);
  const fleet = fleetOfTasks({ tasks, ...shape });
  const fake = new FakeAws(fleet);
  fake.faults.latencyMs = LATENCY_MS;
  fake.faults.buckets = BUCKETS;
  await fake.start(tls && { tls: { cert: tls.cert, key: tls.key } });
  collectOwnGarbage();
  const outputDir = await mkdtemp(join(tmpdir(), 'discoverer-bench-'));
  // The steady round starts on full buckets, as after a quiet interval; its own CPU is counted from its first call.
  let steadyRoundStartCpu = NaN;
  fake.onRound(2, () => {
    fake.refillBuckets();
    steadyRoundStartCpu = cpuSeconds(pid);
  });
  const laterStartCpu: number[] = [];
  for (let round = 3; round <= 2 + LATER_ROUNDS; round += 1) fake.onRound(round, () => laterStartCpu.push(cpuSeconds(pid)));
  const startedAt = Date.now();
  const discoverer = new RunningDiscoverer(
    ['--interval', String(INTERVAL_S), '--task-refresh', String(TASK_REFRESH_S), '--output-dir', outputDir, '--http-port', '0'],
    { ...fakeAwsEnv(fake.url), ...(tls && { NODE_EXTRA_CA_CERTS: tls.caFile }) },
  );
  const pid = discoverer.pid as number;
  // Idle: started, the first call on its way (the fake answers after its latency).
  let idleRss: Promise<number> | undefined;
  const firstCall = new Promise<number>((resolve) => {
    fake.onRequest(() => {
      if (idleRss !== undefined) return;
      idleRss = memoryMb(pid, 'VmRSS');
      resolve(Date.now() - startedAt);
    });
  });
  try {
    const cold = await discoverer.waitForRounds(1, 600_000);
    const callsAfterCold = fake.calls.length;
    const coldCpu = cpuSeconds(pid);
    const steady = await discoverer.waitForRounds(2, 600_000);
    const steadyEndCpu = cpuSeconds(pid);
    const steadyCpu = steadyEndCpu - coldCpu;
    const laterRoundCpu: number[] = [];
    for (let round = 3; round <= 2 + LATER_ROUNDS; round += 1) {
      await discoverer.waitForRounds(round, 600_000);
      laterRoundCpu.push(cpuSeconds(pid) - (laterStartCpu[round - 3] ?? NaN));
    }
    const laterCpu = cpuSeconds(pid) - steadyEndCpu;
    const peak = await memoryMb(pid, 'VmHWM');
    const failed = discoverer.rounds().slice(0, 2 + LATER_ROUNDS).filter((round) => round['outcome'] !== 'ok');
    if (failed.length > 0) throw new Error(`round failed at ${tasks} tasks: ${JSON.stringify(failed)}`);
    const coldCalls = fake.calls.slice(0, callsAfterCold);
    if (process.env['BENCH_DEBUG']) {
      const t0 = coldCalls[0]?.at ?? 0;
      for (const call of coldCalls.filter((c) => c.outcome === 'throttled')) {
        // How many calls of its bucket reached the fake before it, against what the bucket allowed by then.
        const bucketName = ACTION_BUCKETS[call.action] ?? call.action;
        const same = coldCalls.filter((c) => (ACTION_BUCKETS[c.action] ?? c.action) === bucketName);
        const before = same.filter((c) => c.at <= call.at && c !== call).length;
        const bucket = BUCKETS[bucketName];
        const allowed = bucket ? bucket.burst + ((call.at - (same[0]?.at ?? call.at)) / 1000) * bucket.perSecond : NaN;
        console.error('throttled', call.action, call.at - t0, `ms; ${before} calls of its bucket before it, ${allowed.toFixed(1)} allowed`);
      }
    }
    const firstTarget = discoverer.lines.find((line) => line['msg'] === 'first targets published');
    const actualTasks = fleet.clusters.reduce((sum, cluster) => sum + cluster.tasks.length, 0);
    return {
      tasks: actualTasks,
      clusters: fleet.clusters.length,
      taskDefinitions: fleet.taskDefinitions.size,
      boundSeconds: boundSeconds(minimalColdCalls(fleet)),
      coldSeconds: Number(cold['duration_ms']) / 1000,
      firstCallSeconds: (await firstCall) / 1000,
      firstTargetSeconds: firstTarget === undefined ? NaN : (Date.parse(String(firstTarget['time'])) - startedAt) / 1000,
      throttled: fake.calls.filter((call) => call.outcome === 'throttled').length,
      steadyCalls: mean(discoverer.rounds().slice(1, 2 + LATER_ROUNDS).map((round) => Number(round['api_calls']))),
      steadyFormula: steadyFormula(fleet),
      steadySeconds: Number(steady['duration_ms']) / 1000,
      coldCpuSeconds: coldCpu,
      steadyCpuSeconds: Number(steadyCpu.toFixed(3)),
      steadyRoundCpuSeconds: Number((steadyEndCpu - steadyRoundStartCpu).toFixed(3)),
      laterCpuSecondsPerRound: Number((laterCpu / LATER_ROUNDS).toFixed(3)),
      laterRoundCpuSeconds: Number(mean(laterRoundCpu).toFixed(3)),
      idleRssMb: (await idleRss) ?? NaN,
      peakRssMb: peak,
      targets: INTERVAL_FIELDS.reduce((sum, field) => sum + Number(cold[field] ?? 0), 0),
      // generateFleet gives every task exactly one target.
      expectedTargets: actualTasks,
    };
  } finally {
    await discoverer.stop('SIGTERM');
    await fake.stop();
    await rm(outputDir, { recursive: true, force: true });
  }
}

const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

/** One figure over runs: "min / median" when there are several, else the one value. */
function figure(rows: Row[], pick: (row: Row) => number, digits: number): string {
  const values = rows.map(pick);
  const min = Math.min(...values);
  return values.length === 1 ? min.toFixed(digits) : `${min.toFixed(digits)} / ${median(values).toFixed(digits)}`;
}

function toTable(bySize: Row[][]): string {
  const header = [
    'tasks',
    'clusters',
    'task defs',
    'bound s',
    'cold s',
    'cold / bound',
    'first call s',
    'first target s',
    'throttled',
    'steady calls (formula)',
    'steady s',
    'CPU s cold / steady',
    'steady CPU ms / 1k tasks',
    'round alone',
    'later rounds',
    'later alone',
    'idle RSS MB',
    'peak RSS MB',
    'targets',
  ];
  const lines = bySize.map((rows) => {
    const first = rows[0] as Row;
    return [
      first.tasks.toLocaleString('en-US'),
      String(first.clusters),
      String(first.taskDefinitions),
      first.boundSeconds.toFixed(2),
      figure(rows, (row) => row.coldSeconds, 2),
      first.boundSeconds === 0 ? 'n/a' : figure(rows, (row) => row.coldSeconds / row.boundSeconds, 2),
      figure(rows, (row) => row.firstCallSeconds, 2),
      figure(rows, (row) => row.firstTargetSeconds, 2),
      String(Math.max(...rows.map((row) => row.throttled))),
      `${[...new Set(rows.map((row) => row.steadyCalls.toFixed(1)))].join('/')} (${first.steadyFormula.toFixed(1)})`,
      figure(rows, (row) => row.steadySeconds, 2),
      // Each half is min / median of its own: a semicolon between them, as in the README.
      `${figure(rows, (row) => row.coldCpuSeconds, 2)} ; ${figure(rows, (row) => row.steadyCpuSeconds, 2)}`,
      figure(rows, (row) => (row.steadyCpuSeconds * 1_000_000) / row.tasks, 0),
      figure(rows, (row) => (row.steadyRoundCpuSeconds * 1_000_000) / row.tasks, 0),
      figure(rows, (row) => (row.laterCpuSecondsPerRound * 1_000_000) / row.tasks, 0),
      figure(rows, (row) => (row.laterRoundCpuSeconds * 1_000_000) / row.tasks, 0),
      figure(rows, (row) => row.idleRssMb, 0),
      figure(rows, (row) => row.peakRssMb, 0),
      rows.every((row) => row.targets === row.expectedTargets) ? first.targets.toLocaleString('en-US') : `${rows.map((row) => row.targets).join('/')} (expected ${first.expectedTargets})`,
    ];
  });
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => (line[column] ?? '').length)));
  const format = (cells: string[]) => `| ${cells.map((cell, column) => cell.padStart(widths[column] ?? 0)).join(' | ')} |`;
  return [format(header), `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`, ...lines.map(format)].join('\n');
}

/** `--events`: event-driven discovery against polling, on the same fleet and churn (bench/events.ts). */
async function mainEvents(values: { sizes?: string | undefined; minutes?: string | undefined; churn?: string | undefined; resync?: string | undefined }): Promise<void> {
  const sizes = sizesOf(values.sizes ?? '10000');
  const minutes = positive('--minutes', values.minutes ?? '10');
  const churnPercent = positive('--churn', values.churn ?? '1');
  const resyncS = positive('--resync', values.resync ?? '300');
  console.log(`prometheus-ecs-discoverer benchmark, events against polling, ${new Date().toISOString()}`);
  console.log(`machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, ${process.platform} ${process.arch}`);
  console.log(`fake ECS/EC2/SQS: ${LATENCY_MS} ms per ECS/EC2 call, ECS's buckets; ${churnPercent} % of the tasks replaced a minute, ${minutes} min`);
  console.log(`discoverer: --interval ${INTERVAL_S} --task-refresh ${TASK_REFRESH_S}; with events --events-resync-interval ${resyncS}\n`);
  const all = [];
  for (const tasks of sizes) {
    const shape = fleetShape(tasks);
    const scenario = { tasks, ...shape, minutes, churnPercent, intervalS: INTERVAL_S, taskRefreshS: TASK_REFRESH_S, resyncS, latencyMs: LATENCY_MS, buckets: BUCKETS };
    const { table, results, sameTargets } = await runEventsScenario(scenario);
    console.log(`${tasks.toLocaleString('en-US')} tasks, ${shape.clusters} clusters, ${shape.definitions} task definitions:\n${table}\n`);
    all.push({ scenario, sameTargets, results: results.map(({ files: _files, ...result }) => result) });
  }
  console.log('latency: from the fake having the task RUNNING (and sending its event) to its target seen in /targets (asked after each file write, every 50 ms).');
  console.log('ECS calls/min: ECS and EC2 calls during the churn, per minute; SQS calls are apart.');
  const directory = new URL('./results/', import.meta.url);
  await mkdir(directory, { recursive: true });
  const file = new URL(`bench-events-${new Date().toISOString().replace(/[:.]/g, '-')}.json`, directory);
  await writeFile(file, `${JSON.stringify({ date: new Date().toISOString(), runs: all }, null, 2)}\n`);
  console.log(`\nJSON: ${file.pathname}`);
  if (all.some((run) => !run.sameTargets)) process.exitCode = 1;
}

/** `--sdk-floor`: the SDK alone against the discoverer, alternating, on the same fleet and rounds (bench/sdkFloor.ts). */
async function mainSdkFloor(values: { sizes?: string | undefined; runs: string; 'floor-rounds': string }): Promise<void> {
  const sizes = sizesOf(values.sizes ?? '1000');
  const runs = positive('--runs', values.runs, { integer: true });
  const rounds = positive('--floor-rounds', values['floor-rounds'], { integer: true });
  console.log(`prometheus-ecs-discoverer benchmark, the SDK alone against the discoverer, ${new Date().toISOString()}`);
  console.log(`machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, ${process.platform} ${process.arch}`);
  console.log(`fake ECS/EC2: ${LATENCY_MS} ms per call, no buckets; --interval ${INTERVAL_S} --task-refresh ${TASK_REFRESH_S}; ${rounds} rounds measured after 2, ${runs} run(s) of each\n`);
  const header = ['tasks', 'calls a round: SDK / discoverer', 'round alone: SDK', 'discoverer', 'with interval: SDK', 'discoverer', 'per round: SDK', 'discoverer'];
  const lines: string[][] = [];
  const all = [];
  for (const tasks of sizes) {
    const shape = fleetShape(tasks);
    const options: SdkFloorOptions = { tasks, ...shape, rounds, intervalS: INTERVAL_S, taskRefreshS: TASK_REFRESH_S, latencyMs: LATENCY_MS };
    const sdk: FloorRun[] = [];
    const discoverer: FloorRun[] = [];
    for (let run = 1; run <= runs; run++) {
      process.stderr.write(`measuring ${tasks} tasks, run ${run} of ${runs}: the SDK alone, then the discoverer...\n`);
      sdk.push(await measureSdkAlone(options));
      discoverer.push(await measureDiscoverer(options));
    }
    // Per run: the mean over its rounds, per 1,000 tasks; over runs: min / median.
    const per1k = (runsOf: FloorRun[], pick: (run: FloorRun) => number[]) => {
      const values = runsOf.map((run) => (mean(pick(run)) * 1000) / tasks);
      return values.length === 1 ? (values[0] as number).toFixed(0) : `${Math.min(...values).toFixed(0)} / ${median(values).toFixed(0)}`;
    };
    const roundsOf = (runsOf: FloorRun[]) => runsOf.map((run) => run.roundMs.map((ms) => ms.toFixed(0)).join(',')).join(' ; ');
    lines.push([
      tasks.toLocaleString('en-US'),
      `${mean(sdk.flatMap((run) => run.calls)).toFixed(1)} / ${mean(discoverer.flatMap((run) => run.calls)).toFixed(1)}`,
      per1k(sdk, (run) => run.roundMs),
      per1k(discoverer, (run) => run.roundMs),
      per1k(sdk, (run) => run.withIntervalMs),
      per1k(discoverer, (run) => run.withIntervalMs),
      roundsOf(sdk),
      roundsOf(discoverer),
    ]);
    all.push({ options, sdk, discoverer });
  }
  console.log([`| ${header.join(' | ')} |`, `|${header.map(() => ' --- ').join('|')}|`, ...lines.map((line) => `| ${line.join(' | ')} |`)].join('\n'));
  console.log('\nCPU ms per 1,000 tasks a round: each run\'s mean over its rounds; with several runs, min / median of those means.');
  console.log('round alone: from the round\'s ListClusters to its end; with interval: from the end of the round before.');
  console.log('per round: each round alone, in ms (not per 1,000 tasks), run by run.');
  const directory = new URL('./results/', import.meta.url);
  await mkdir(directory, { recursive: true });
  const file = new URL(`bench-sdk-floor-${new Date().toISOString().replace(/[:.]/g, '-')}.json`, directory);
  await writeFile(file, `${JSON.stringify({ date: new Date().toISOString(), runs: all }, null, 2)}\n`);
  console.log(`\nJSON: ${file.pathname}`);
}

const OPTIONS = {
  sizes: { type: 'string' },
  runs: { type: 'string', default: '1' },
  'aws-tls': { type: 'boolean', default: false },
  events: { type: 'boolean', default: false },
  minutes: { type: 'string' },
  churn: { type: 'string' },
  resync: { type: 'string' },
  http: { type: 'boolean', default: false },
  'http-tasks': { type: 'string', default: '10000' },
  'http-idle-clients': { type: 'string', default: '2000' },
  'http-readers': { type: 'string', default: '100' },
  'http-requests': { type: 'string', default: '10' },
  'http-hold': { type: 'string', default: '10' },
  'http-tls': { type: 'boolean', default: false },
  'sdk-floor': { type: 'boolean', default: false },
  'floor-rounds': { type: 'string', default: '12' },
  help: { type: 'boolean', default: false },
} as const;

const USAGE = `Usage: npm run bench -- [options]   (README, "Scale")

  --sizes N,N,...        fleet sizes in tasks (default 100,1000,10000; 50000 takes some 3 minutes a run)
  --runs N               runs per size; the table gives min / median (default 1)
  --aws-tls              the fleet rounds with the fake answering over HTTPS, as AWS does (its CA, made for
                         the run, given to the discoverer in NODE_EXTRA_CA_CERTS); plain HTTP without
  --events               events against polling instead (bench/events.ts), with:
    --minutes N            minutes of churn (default 10)
    --churn N              % of the tasks replaced a minute (default 1)
    --resync N             --events-resync-interval of the discoverer, seconds (default 300)
  --http                 HTTP under load instead (bench/httpLoad.ts), with:
    --http-tasks N         tasks of the fleet (default 10000)
    --http-idle-clients N  clients that send GET /targets and never read (default 2000)
    --http-readers N       clients reading /targets with gzip (default 100)
    --http-requests N      requests per reader (default 10)
    --http-hold N          seconds the idle clients are held (default 10)
    --http-tls             over TLS
  --sdk-floor            the AWS SDK alone making a steady round's calls, against the discoverer's own rounds,
                         one after the other on the same fleet (bench/sdkFloor.ts; default --sizes 1000), with:
    --floor-rounds N       rounds measured, after 2 that settle (default 12: some 3.5 minutes a process)
  --help                 this text`;

/** A setting of the benchmark that cannot be used: said in one line, with no stack. */
class UsageError extends Error {}

/** A positive number given for `option`, or a UsageError naming it. */
function positive(option: string, text: string, { integer = false } = {}): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new UsageError(`option ${option} "${text}": expected a positive ${integer ? 'whole number' : 'number'}`);
  }
  return value;
}

/** A CA and a certificate for 127.0.0.1 made for this run (test/support/testPki.ts), in a directory removed at exit, Ctrl-C included. */
async function makeFakeTls(): Promise<FakeTls> {
  const directory = await mkdtemp(join(tmpdir(), 'discoverer-bench-pki-'));
  process.on('exit', () => rmSync(directory, { recursive: true, force: true }));
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) process.once(signal, () => process.exit(code));
  const pki = makeTestPki(directory);
  return { cert: await readFile(pki.serverCert, 'utf8'), key: await readFile(pki.serverKey, 'utf8'), caFile: pki.caCert };
}

const sizesOf = (text: string) => text.split(',').map((size) => positive('--sizes', size, { integer: true }));

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({ options: OPTIONS });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values } = parsed;
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (values['aws-tls'] && (values.events || values['sdk-floor'] || values.http)) {
    throw new UsageError('option --aws-tls is for the fleet rounds alone (--http has --http-tls, for the discoverer\'s own server)');
  }
  if (values.events) return mainEvents(values);
  if (values['sdk-floor']) return mainSdkFloor(values);
  if (values.http) {
    const options: HttpLoadOptions = {
      tasks: positive('--http-tasks', values['http-tasks'], { integer: true }),
      idleClients: positive('--http-idle-clients', values['http-idle-clients'], { integer: true }),
      readers: positive('--http-readers', values['http-readers'], { integer: true }),
      requestsPerReader: positive('--http-requests', values['http-requests'], { integer: true }),
      holdSeconds: positive('--http-hold', values['http-hold']),
      tls: values['http-tls'] === true,
    };

    console.log(`prometheus-ecs-discoverer HTTP benchmark, ${new Date().toISOString()}; machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}\n`);
    const figures = await measureHttpLoad(options);
    printHttpLoad(figures, options);
    const directory = new URL('./results/', import.meta.url);
    await mkdir(directory, { recursive: true });
    const file = new URL(`bench-http-${new Date().toISOString().replace(/[:.]/g, '-')}.json`, directory);
    await writeFile(file, `${JSON.stringify({ date: new Date().toISOString(), options, figures }, null, 2)}\n`);
    console.log(`\nJSON: ${file.pathname}`);
    return;
  }
  const sizes = sizesOf(values.sizes ?? '100,1000,10000');
  const runs = positive('--runs', values.runs, { integer: true });
  const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version, platform: `${process.platform} ${process.arch}` };
  console.log(`prometheus-ecs-discoverer benchmark, ${new Date().toISOString()}`);
  console.log(`machine: ${machine.cpus} CPUs (${machine.cpuModel}), Node ${machine.node}, ${machine.platform}`);
  const tls = values['aws-tls'] ? await makeFakeTls() : undefined;
  console.log(`fake ECS/EC2: ${tls ? 'HTTPS' : 'HTTP'}, ${LATENCY_MS} ms per call; buckets (burst/per second): ${Object.entries(BUCKETS).map(([name, bucket]) => `${name} ${bucket.burst}/${bucket.perSecond}`).join(', ')}`);
  console.log(`(${Object.entries(ACTION_BUCKETS).map(([action, bucket]) => `${action}→${bucket}`).join(', ')})`);
  console.log(`discoverer: the bin as installed (no flags), --interval ${INTERVAL_S} --task-refresh ${TASK_REFRESH_S}; ${runs} run(s) per size\n`);

  const bySize: Row[][] = [];
  for (const size of sizes) {
    const rows: Row[] = [];
    for (let run = 1; run <= runs; run++) {
      process.stderr.write(`measuring ${size} tasks, run ${run} of ${runs}...\n`);
      rows.push(await measure(size, tls));
    }
    bySize.push(rows);
  }
  console.log(toTable(bySize));
  console.log('\nWith several runs: min / median. bound s: what the buckets impose on the fewest calls a cold round needs,');
  console.log('(calls − burst) / rate of the slowest bucket. first call, first target: seconds from the start of the process.');
  console.log('steady: the second round, on full buckets. steady calls: per round, the mean over it and the rounds after it, against');
  console.log('the formula: 1 ListClusters page per 100 clusters, and per cluster 1 ListTasks page per 100 tasks + its refresh in whole');
  console.log('DescribeTasks calls, interval / taskRefresh × max(1, tasks / 100) a round.');
  console.log('CPU: seconds all threads of the process ran, up to the end of the cold round (its start included) and from there');
  console.log('to the end of the steady round (the interval between them included); per 1k tasks: the steady figure per 1,000 tasks;');
  console.log('round alone: the same per 1,000 tasks, from the steady round\'s first call to its end (the interval left out);');
  console.log(`later rounds: per round and 1,000 tasks, over the ${LATER_ROUNDS} rounds after the steady one, their intervals included;`);
  console.log(`later alone: the mean of those ${LATER_ROUNDS} rounds per 1,000 tasks, each from its first call to its end (the intervals left out).`);
  console.log(`idle RSS: when the first AWS call goes out; peak RSS: the high-water mark (VmHWM) after the last of those rounds.`);

  const directory = new URL('./results/', import.meta.url);
  await mkdir(directory, { recursive: true });
  const file = new URL(`bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`, directory);
  await writeFile(file, `${JSON.stringify({ date: new Date().toISOString(), machine, tls: tls !== undefined, latencyMs: LATENCY_MS, buckets: BUCKETS, runs: bySize }, null, 2)}\n`);
  console.log(`\nJSON: ${file.pathname}`);
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    console.error(`bench: ${error.message} (npm run bench -- --help)`);
    process.exitCode = EXIT.usage;
    return;
  }
  console.error(error);
  process.exitCode = 1;
});
