import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeAws } from '../../src/fake/fakeAws.js';
import { PROBLEMS, problemFleet } from '../support/problemFleet.js';
import { RunningDiscoverer, assertBuilt, fakeAwsEnv, runCli } from '../support/runningDiscoverer.js';
import { edgeFleet } from '../support/edgeFleet.js';

/**
 * The logs of a slow fleet where a few problems repeat across hundreds of tasks, as an operator
 * reads them: progress while the first round runs, one line per problem, JSON fields throughout.
 */
const CLUSTERS = 3;
const TASKS_PER_CLUSTER = 400;
/** Of every 8 tasks, one has each problem. */
const TASKS_PER_PROBLEM = (CLUSTERS * TASKS_PER_CLUSTER) / 8;
/**
 * Each call waits this long, so that a first round takes at least ListClusters, the 4 ListTasks
 * pages of a cluster one after the other and a DescribeTasks: 6 × 200 ms, longer than the 1 s
 * progress period, on any machine.
 */
const LATENCY_MS = 200;

let fake: FakeAws;
let outputDir: string;
let running: RunningDiscoverer | undefined;

beforeAll(() => assertBuilt());
afterEach(async () => {
  await running?.stop('SIGKILL');
  running = undefined;
  await fake?.stop();
  if (outputDir) await rm(outputDir, { recursive: true, force: true });
});

const isProblemLine = (line: Record<string, unknown>) => 'reason' in line || 'warning' in line;

describe('the logs of a slow fleet with repeated problems', () => {
  it('show progress during the first round, say each problem once with its count, and are JSON lines with fields', async () => {
    fake = new FakeAws(problemFleet({ clusters: CLUSTERS, tasksPerCluster: TASKS_PER_CLUSTER }));
    fake.faults.latencyMs = LATENCY_MS;
    await fake.start();
    outputDir = await mkdtemp(join(tmpdir(), 'discoverer-logs-'));
    running = new RunningDiscoverer(['--interval', '1', '--output-dir', outputDir, '--http-port', '0'], {
      ...fakeAwsEnv(fake.url),
      ECS_DISCOVERER_LOG_PROGRESS_EVERY: '1',
    });

    await running.waitForRounds(2);
    const lines = running.lines;
    const firstRound = lines.findIndex((line) => line['msg'] === 'round');
    const progress = lines.filter((line) => line['msg'] === 'first round in progress');
    const problems = lines.filter(isProblemLine);

    expect(lines.filter((line) => line['level'] === 'raw'), 'lines that are not JSON').toEqual([]);
    expect(progress.length).toBeGreaterThan(0);
    expect(lines.indexOf(progress[0] as Record<string, unknown>)).toBeLessThan(firstRound);
    expect(lines.slice(firstRound).filter((line) => line['msg'] === 'first round in progress'), 'progress after the first round').toEqual([]);
    for (const line of progress) {
      expect(Object.keys(line).sort()).toEqual(
        ['api_calls', 'clusters_done', 'clusters_listed', 'level', 'msg', 'task_definitions_described', 'tasks_described', 'throttled', 'time'].sort(),
      );
    }
    expect(progress.at(-1)).toMatchObject({ clusters_listed: CLUSTERS });

    // 6 problems in 150 tasks each, over 2 rounds: 6 lines, fewer than 50 by far.
    expect(problems.length).toBeLessThan(50);
    expect(problems).toHaveLength(PROBLEMS.length);
    for (const problem of PROBLEMS) {
      const line = problems.find((candidate) => candidate['family'] === problem.family);
      expect(line, `a line for ${problem.family}`).toMatchObject({
        level: 'warn',
        family: problem.family,
        revision: 3,
        service: problem.family,
        container: problem.container,
        count: TASKS_PER_PROBLEM,
        region: 'eu-west-1',
        cluster: expect.stringMatching(/^fleet-\d$/) as string,
        example_task: expect.stringMatching(/^arn:aws:ecs:eu-west-1:123456789012:task\/fleet-\d\//) as string,
        ...(problem.reason === undefined ? { warning: expect.any(String) as string } : { reason: problem.reason, detail: expect.any(String) as string }),
      });
    }
    for (const round of running.rounds()) {
      expect(round).toMatchObject({ outcome: 'ok', clusters: CLUSTERS, tasks: CLUSTERS * TASKS_PER_CLUSTER, api_calls: expect.any(Number) as number, duration_ms: expect.any(Number) as number });
    }
  }, 60_000);
});

describe('--log-level debug', () => {
  it('adds one line per AWS call, each attempt, with its action, outcome, attempt and duration', async () => {
    fake = new FakeAws(edgeFleet());
    // Every DescribeTaskDefinition fails: each call is tried twice, and both attempts are logged.
    fake.faults.failingActions.add('DescribeTaskDefinition');
    await fake.start();
    outputDir = await mkdtemp(join(tmpdir(), 'discoverer-debug-'));

    const result = await runCli(['--once', '--log-level', 'debug', '--log-format', 'json', '--output-dir', outputDir], {
      ...fakeAwsEnv(fake.url),
      ECS_DISCOVERER_AWS_MAX_ATTEMPTS: '2',
    });
    const lines = result.stderr
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const calls = lines.filter((line) => line['msg'] === 'aws call');
    const key = (action: unknown, outcome: unknown) => `${String(action)} ${String(outcome)}`;
    const tally = (entries: string[]) => entries.reduce<Record<string, number>>((counts, entry) => ({ ...counts, [entry]: (counts[entry] ?? 0) + 1 }), {});

    expect(calls.length).toBe(fake.calls.length);
    expect(tally(calls.map((call) => key(call['action'], call['outcome'])))).toEqual(tally(fake.calls.map((call) => key(call.action, call.outcome))));
    for (const call of calls) {
      expect(Object.keys(call).sort()).toEqual(['action', 'attempt', 'duration_ms', 'level', 'msg', 'outcome', 'time']);
      expect(call).toMatchObject({ level: 'debug', duration_ms: expect.any(Number) as number });
    }
    const failed = calls.filter((call) => call['action'] === 'DescribeTaskDefinition');
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((call) => call['outcome'] === 'error')).toBe(true);
    // A cluster fails once a call has used both attempts, and its calls still in flight stop then:
    // some first attempts get no second, but no second comes without a first.
    const attempts = failed.map((call) => call['attempt']);
    expect(new Set(attempts)).toEqual(new Set([1, 2]));
    expect(attempts.filter((attempt) => attempt === 2).length).toBeLessThanOrEqual(attempts.filter((attempt) => attempt === 1).length);
  }, 60_000);
});
