/**
 * `npm run bench -- --sdk-floor`: what the AWS SDK alone spends on the calls of a steady round,
 * beside what the discoverer spends on its own rounds, on the same fleet, one after the other.
 * The "SDK alone" is a bare ECSClient with its default settings, doing the calls the README's
 * formula gives and no more: ListClusters, every ListTasks page, and the task refresh in whole
 * DescribeTasks calls of 100, owed at `interval / taskRefresh` of each cluster a round, each
 * cluster at its own point of the cycle (as the discoverer spreads them). Its first round
 * describes every task, as any cold round must, so that the same SDK code has run before.
 *
 * The fake has no token buckets here: the SDK alone does not pace its calls, and a throttled
 * answer would add the SDK's retries to its figure. The discoverer still paces its own.
 * CPU is counted the same way for both: every thread, from the round's ListClusters (as the
 * fake sees it) to the round's end (the discoverer's log line; the SDK process's own line).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DescribeTasksCommand, ECSClient, paginateListClusters, paginateListTasks } from '@aws-sdk/client-ecs';
import { FakeAws } from '../src/fake/fakeAws.js';
import { fleetOfTasks } from './fleetOfTasks.js';
import { RunningDiscoverer, fakeAwsEnv } from '../test/support/runningDiscoverer.js';
import { cpuSeconds } from './processCpu.js';

const DESCRIBE_BATCH = 100;

export interface SdkFloorOptions {
  tasks: number;
  clusters: number;
  definitions: number;
  /** Rounds measured, after two that settle (the cold round and the first steady one). */
  rounds: number;
  intervalS: number;
  taskRefreshS: number;
  latencyMs: number;
}

/** One process's measured rounds: CPU ms of each round alone, and per round with its interval. */
export interface FloorRun {
  calls: number[];
  roundMs: number[];
  withIntervalMs: number[];
}

const cpuMs = (pid: number): number => cpuSeconds(pid) * 1000;

/**
 * Watches one process's rounds on the fake: CPU at each round's first ListClusters, and at each
 * round's end as `ended(round)` reports it; returns the rounds after the two that settle.
 */
async function watchRounds(fake: FakeAws, pid: () => number, options: SdkFloorOptions, ended: (round: number) => Promise<void>): Promise<FloorRun> {
  const total = options.rounds + 2;
  const startCpu: number[] = [];
  const callsBefore: number[] = [];
  for (let round = 1; round <= total + 1; round++) {
    fake.onRound(round, () => {
      startCpu[round] = cpuMs(pid());
      callsBefore[round] = fake.calls.length;
    });
  }
  const run: FloorRun = { calls: [], roundMs: [], withIntervalMs: [] };
  let previousEnd = NaN;
  for (let round = 1; round <= total; round++) {
    await ended(round);
    const end = cpuMs(pid());
    if (round > 2) {
      run.roundMs.push(end - (startCpu[round] ?? NaN));
      run.withIntervalMs.push(end - previousEnd);
      run.calls.push(fake.calls.length - (callsBefore[round] ?? NaN));
    }
    previousEnd = end;
  }
  return run;
}

async function withFake<T>(options: SdkFloorOptions, use: (fake: FakeAws) => Promise<T>): Promise<T> {
  const fake = new FakeAws(fleetOfTasks(options));
  fake.faults.latencyMs = options.latencyMs;
  await fake.start();
  try {
    return await use(fake);
  } finally {
    await fake.stop();
  }
}

/** The SDK alone, in a process of its own (this file, `--child`), reporting each round's end on stdout. */
export function measureSdkAlone(options: SdkFloorOptions): Promise<FloorRun> {
  return withFake(options, async (fake) => {
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', JSON.stringify(options)], {
      env: fakeAwsEnv(fake.url),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const lines = createInterface({ input: child.stdout });
    const ends: (() => void)[] = [];
    let ended = 0;
    lines.on('line', (line) => {
      if (line.startsWith('round ')) ended = Number(line.slice(6));
      for (const wake of ends.splice(0)) wake();
    });
    const waitForEnd = (round: number) =>
      new Promise<void>((resolve, reject) => {
        const check = () => (ended >= round ? resolve() : ends.push(check));
        void exited.then((code) => ended < round && reject(new Error(`the SDK process ended (${code}) before round ${round}`)));
        check();
      });
    try {
      return await watchRounds(fake, () => child.pid as number, options, waitForEnd);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
}

/** The built discoverer, as the main benchmark runs it, over the same rounds. */
export function measureDiscoverer(options: SdkFloorOptions): Promise<FloorRun> {
  return withFake(options, async (fake) => {
    const outputDir = await mkdtemp(join(tmpdir(), 'discoverer-floor-'));
    const discoverer = new RunningDiscoverer(
      ['--interval', String(options.intervalS), '--task-refresh', String(options.taskRefreshS), '--output-dir', outputDir, '--http-port', '0'],
      fakeAwsEnv(fake.url),
    );
    try {
      return await watchRounds(fake, () => discoverer.pid as number, options, async (round) => {
        await discoverer.waitForRounds(round, 600_000);
      });
    } finally {
      await discoverer.stop('SIGTERM');
      await rm(outputDir, { recursive: true, force: true });
    }
  });
}

/** The child: a bare ECSClient making a steady round's calls every interval. */
async function sdkRounds(options: SdkFloorOptions): Promise<void> {
  const client = new ECSClient({});
  const debt = new Map<string, number>();
  const next = new Map<string, number>();
  let startedAt = performance.now();
  for (let round = 1; ; round++) {
    const clusters: string[] = [];
    for await (const page of paginateListClusters({ client }, {})) clusters.push(...(page.clusterArns ?? []));
    await Promise.all(
      clusters.map(async (cluster, index) => {
        const arns: string[] = [];
        for await (const page of paginateListTasks({ client }, { cluster })) arns.push(...(page.taskArns ?? []));
        const batch = Math.min(DESCRIBE_BATCH, arns.length);
        if (batch === 0) return;
        const describe: string[][] = [];
        if (round === 1) {
          for (let at = 0; at < arns.length; at += DESCRIBE_BATCH) describe.push(arns.slice(at, at + DESCRIBE_BATCH));
          debt.set(cluster, (index / clusters.length) * batch);
        } else {
          let owed = (debt.get(cluster) ?? 0) + (arns.length * options.intervalS) / options.taskRefreshS;
          for (; owed >= batch; owed -= batch) {
            const from = next.get(cluster) ?? 0;
            describe.push(Array.from({ length: batch }, (_, offset) => arns[(from + offset) % arns.length] as string));
            next.set(cluster, (from + batch) % arns.length);
          }
          debt.set(cluster, owed);
        }
        for (const tasks of describe) await client.send(new DescribeTasksCommand({ cluster, tasks }));
      }),
    );
    process.stdout.write(`round ${round}\n`);
    startedAt += options.intervalS * 1000;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, startedAt - performance.now())));
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href && process.argv[2] === '--child') await sdkRounds(JSON.parse(process.argv[3] ?? '{}') as SdkFloorOptions);
