import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readFile, readdir, rm, statfs, symlink, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TargetGroup } from '../../src/discovery/targetGroups.js';
import { FakeAws, type FakeFleet } from '../../src/fake/fakeAws.js';
import { addDefinition, addTask, emptyFleet, loopbackIp, makeTaskDefinition } from '../../src/fake/fleet.js';
import { RunningDiscoverer, assertBuilt, fakeAwsEnv, freePort, runCli } from '../support/runningDiscoverer.js';

/**
 * The output directory under hostile conditions (issue 13, "Files"): a full disk, planted
 * symlinks, files and directories that vanish or are altered, leftovers of a killed process and
 * a second process on the same directory. No file may ever be short, invalid or written outside
 * the directory, and every such event is visible.
 */

const FILES = ['15s-tasks.json', '1m-tasks.json', '30s-tasks.json', '5m-tasks.json', 'tasks.json'];
const LOCK = '.prometheus-ecs-discoverer.lock';

/** Fargate tasks of one definition, each with a target in the generic, 15s and 30s files. */
function webFleet(tasks: number): FakeFleet {
  const fleet = emptyFleet();
  for (let index = 0; index < tasks; index++) addWebTask(fleet, index);
  return fleet;
}

function addWebTask(fleet: FakeFleet, index: number): void {
  const definition = addDefinition(
    fleet,
    makeTaskDefinition('web', 1, 'awsvpc', [
      {
        name: 'web',
        environment: { PROMETHEUS: 'true', PROMETHEUS_ENDPOINT: '/metrics,15s:/metrics/fast,30s:/metrics/slow', PROMETHEUS_LABEL_team: 'storefront' },
        portMappings: [{ containerPort: 3000 }],
      },
    ]),
  );
  addTask(fleet, { cluster: 'prod', id: `web${index}`, definition, launchType: 'FARGATE', eniIp: loopbackIp(3, index), containers: [{ name: 'web' }] });
}

let fake: FakeAws;
let workDir: string;
let outputDir: string;
let running: RunningDiscoverer | undefined;
let base: string;
let port: number;

function start(env: NodeJS.ProcessEnv = {}): RunningDiscoverer {
  running = new RunningDiscoverer(
    ['--interval', '1', '--output-dir', outputDir, '--http-host', '127.0.0.1', '--http-port', String(port)],
    { ...fakeAwsEnv(fake.url), ...env },
  );
  return running;
}

/** `--once` with JSON logs; returns the exit code and the log lines. */
async function runOnce(): Promise<{ code: number | null; lines: Record<string, unknown>[]; stderr: string }> {
  const result = await runCli(['--once', '--log-format', 'json', '--output-dir', outputDir], fakeAwsEnv(fake.url));
  const lines = result.stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { code: result.code, lines, stderr: result.stderr };
}

const readFiles = () => Promise.all(FILES.map((file) => readFile(join(outputDir, file), 'utf8')));

/** The targets of a file; throws when it is not a complete JSON array. */
async function targetsOf(file: string): Promise<string[]> {
  const groups = JSON.parse(await readFile(join(outputDir, file), 'utf8')) as TargetGroup[];
  return groups.map((group) => group.targets[0] as string);
}

/** Warnings that name a file of the output directory and say what was wrong with it. */
const warningsAbout = (lines: Record<string, unknown>[], name: string, problem: RegExp) =>
  lines.filter((line) => line['level'] === 'warn' && String(line['file'] ?? line['output_dir']).endsWith(`/${name}`) && problem.test(String(line['msg'])));

/** What the directory holds besides the five files and the lock. */
const strangers = async () => (await readdir(outputDir)).filter((name) => !FILES.includes(name) && name !== LOCK);

const get = async (path: string) => {
  const response = await fetch(`${base}${path}`);
  return { status: response.status, body: await response.text() };
};

/** The value of one series on /metrics, e.g. `ecs_discoverer_file_writes_total{outcome="repaired"}`; undefined when it is not there. */
async function metric(series: string): Promise<number | undefined> {
  const line = (await get('/metrics')).body.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

beforeAll(() => {
  assertBuilt();
});
beforeEach(async () => {
  fake = new FakeAws(webFleet(5));
  await fake.start();
  workDir = await mkdtemp(join(tmpdir(), 'discoverer-files-'));
  outputDir = join(workDir, 'targets');
  port = await freePort();
  base = `http://127.0.0.1:${port}`;
});
afterEach(async () => {
  await running?.stop('SIGKILL');
  running = undefined;
  await fake.stop();
  execFileSync('sh', ['-c', `umount ${join(workDir, 'small')} 2>/dev/null || true`]);
  await rm(workDir, { recursive: true, force: true });
});

describe('1. a full disk', () => {
  let canMount = false;
  if (process.getuid?.() === 0) {
    try {
      execFileSync('sh', ['-c', 'd=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs "$d" && umount "$d" && rmdir "$d"']);
      canMount = true;
    } catch {
      canMount = false;
    }
  }
  if (!canMount) console.warn('\n*** SKIPPING the full-disk test of files.test.ts: mounting a small tmpfs needs root and CAP_SYS_ADMIN ***\n');

  it.skipIf(!canMount)('never renames a short file into place: the files keep their last good content, the rounds fail with ENOSPC, readiness turns 503', async () => {
    const small = join(workDir, 'small');
    await mkdir(small);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', small]);
    outputDir = join(small, 'targets');
    const discoverer = start({ ECS_DISCOVERER_HTTP_UNREADY_AFTER_FAILED_ROUNDS: '2' });
    await discoverer.waitForRounds(1);
    const good = await readFiles();
    // Leave about 4 KB free: a partial write of every grown file would fit, a complete one not.
    const { bavail, bsize } = await statfs(small);
    await writeFile(join(small, 'filler'), Buffer.alloc(Math.max(0, bavail * bsize - 4096))).catch(() => {});

    // 60 more tasks: each of the generic, 15s and 30s files grows by some 60 lines.
    const churn = fake.round + 1;
    fake.onRound(churn, () => {
      for (let index = 5; index < 65; index++) addWebTask(fake.fleet, index);
    });
    for (let round = churn; round < churn + 3; round++) {
      const line = await discoverer.waitForRounds(round);
      expect(line['outcome'], `round ${round}`).toBe('failed');
      expect(String(line['error'])).toMatch(/publishing failed: OutputError: cannot write .*ENOSPC/);
      expect(await readFiles(), `the files after round ${round}`).toEqual(good);
      expect(await strangers(), `stray files after round ${round}`).toEqual([]);
    }
    expect((await get('/metrics')).body).toMatch(/^ecs_discoverer_file_writes_total\{outcome="error"\} [1-9]/m);
    const ready = await get('/-/ready');
    expect(ready.status).toBe(503);
    expect(ready.body).toContain('ENOSPC');

    await rm(join(small, 'filler'));
    await discoverer.waitFor(() => discoverer.rounds().at(-1)?.['outcome'] === 'ok', 'a good round after freeing space');
    for (const file of ['tasks.json', '15s-tasks.json', '30s-tasks.json']) expect(await targetsOf(file), file).toHaveLength(65);
    expect(await strangers()).toEqual([]);
    expect((await get('/-/ready')).status).toBe(200);
  });
});

describe('2. symlinks in the output directory', () => {
  it('replaces a planted link by a regular file and never writes its target, at start and while running', async () => {
    await mkdir(outputDir);
    const victim = join(workDir, 'victim.json');
    const victim2 = join(workDir, 'victim2.json');
    await writeFile(victim, 'precious\n');
    await writeFile(victim2, 'precious too\n');
    await symlink(victim, join(outputDir, 'tasks.json'));
    const discoverer = start();

    await discoverer.waitForRounds(1);

    expect((await lstat(join(outputDir, 'tasks.json'))).isFile()).toBe(true);
    expect(await targetsOf('tasks.json')).toHaveLength(5);
    expect(await readFile(victim, 'utf8')).toBe('precious\n');
    expect(warningsAbout(discoverer.lines, 'tasks.json', /symbolic link/)).toHaveLength(1);

    const planted = fake.round + 1;
    fake.onRound(planted, () => {
      unlinkSync(join(outputDir, '15s-tasks.json'));
      symlinkSync(victim2, join(outputDir, '15s-tasks.json'));
    });
    await discoverer.waitForRounds(planted);

    expect((await lstat(join(outputDir, '15s-tasks.json'))).isFile()).toBe(true);
    expect(await targetsOf('15s-tasks.json')).toHaveLength(5);
    expect(await readFile(victim2, 'utf8')).toBe('precious too\n');
    expect(warningsAbout(discoverer.lines, '15s-tasks.json', /symbolic link/)).toHaveLength(1);
  });
});

describe('3. files that vanish or are altered', () => {
  it.each([
    ['a file removed', () => rmSync(join(outputDir, 'tasks.json')), ['tasks.json'], /vanished/],
    ['garbage written into a file', () => writeFileSync(join(outputDir, 'tasks.json'), 'garbage'), ['tasks.json'], /changed/],
    [
      'rm -rf dir && mkdir dir',
      () => {
        rmSync(outputDir, { recursive: true });
        mkdirSync(outputDir);
      },
      FILES,
      /vanished/,
    ],
  ])('repairs %s within the round, with a warning per file', async (_what, damage, damaged, problem) => {
    const discoverer = start();
    await discoverer.waitForRounds(1);
    const good = await readFiles();

    const round = fake.round + 1;
    fake.onRound(round, damage);
    const line = await discoverer.waitForRounds(round);

    expect(line['outcome']).toBe('ok');
    expect(await readFiles()).toEqual(good);
    for (const file of damaged) expect(warningsAbout(discoverer.lines, file, problem), file).toHaveLength(1);
    expect(await metric('ecs_discoverer_file_writes_total{outcome="repaired"}')).toBe(damaged.length);
    // The lock is refreshed (here: recreated) once the round has ended.
    await discoverer.waitForRounds(round + 1);
    expect((await lstat(join(outputDir, LOCK))).isFile()).toBe(true);
    expect(await metric('ecs_discoverer_output_recoveries_total{action="lock_recreated"}')).toBe(damaged === FILES ? 1 : undefined);
  });

  it('recreates a removed output directory, with a warning', async () => {
    const discoverer = start();
    await discoverer.waitForRounds(1);
    const good = await readFiles();

    const round = fake.round + 1;
    fake.onRound(round, () => rmSync(outputDir, { recursive: true }));
    const line = await discoverer.waitForRounds(round);

    expect(line['outcome']).toBe('ok');
    expect(await readFiles()).toEqual(good);
    expect(warningsAbout(discoverer.lines, 'targets', /directory/)).toHaveLength(1);
    expect(await metric('ecs_discoverer_file_writes_total{outcome="repaired"}')).toBe(FILES.length);
  });
});

describe('4. leftovers and neighbours', () => {
  it('removes the temporary files a killed process left, and only those, at start, and counts them', async () => {
    await mkdir(outputDir);
    const leftovers = ['.prometheus-ecs-discoverer-4242-0badc0de.tmp', '.prometheus-ecs-discoverer-4243-0ddba11.tmp'];
    for (const leftover of leftovers) await writeFile(join(outputDir, leftover), '[\n{"targets":["127.0');
    await writeFile(join(outputDir, 'notes.tmp'), 'not ours');
    await writeFile(join(outputDir, '.prometheus-ecs-discoverer-notes'), 'not ours either');

    const discoverer = start();
    await discoverer.waitForRounds(1);

    expect((await readdir(outputDir)).sort()).toEqual(['.prometheus-ecs-discoverer-notes', LOCK, ...FILES, 'notes.tmp'].sort());
    expect(discoverer.lines.some((line) => line['level'] === 'warn' && String(line['files']) === leftovers.join(','))).toBe(true);
    expect(await metric('ecs_discoverer_output_recoveries_total{action="leftover_removed"}')).toBe(2);
    expect(await metric('ecs_discoverer_output_recoveries_total{action="stale_lock_taken_over"}')).toBeUndefined();
  });

  it('refuses a second process on the same directory with exit 2 naming the other PID, lets check run, and releases the lock on exit', async () => {
    const first = start();
    await first.waitForRounds(1);
    const lock = await readFile(join(outputDir, LOCK), 'utf8');
    expect(JSON.parse(lock)).toMatchObject({ pid: first.pid, hostname: hostname() });
    // Refreshed every round: other hosts see that it is held.
    const refreshedAt = (await lstat(join(outputDir, LOCK))).mtimeMs;
    await first.waitForRounds(3);
    expect((await lstat(join(outputDir, LOCK))).mtimeMs).toBeGreaterThan(refreshedAt);

    const second = await runOnce();

    expect(second.code).toBe(2);
    expect(second.stderr.trim().split('\n')).toHaveLength(1);
    expect(second.stderr).toContain('outputDir');
    expect(second.stderr).toContain(`process ${first.pid} on ${hostname()}`);

    const check = await runCli(['check', '--output-dir', outputDir], fakeAwsEnv(fake.url));
    expect(check.code).toBe(0);
    expect(await readFile(join(outputDir, LOCK), 'utf8')).toBe(lock);

    expect(await first.stop('SIGTERM')).toBe(0);
    expect(await readdir(outputDir)).not.toContain(LOCK);
  });

  it('takes over a stale lock of a dead process, with a warning, and releases it after --once', async () => {
    await mkdir(outputDir);
    const dead = spawnSync('true').pid;
    await writeFile(join(outputDir, LOCK), JSON.stringify({ pid: dead, hostname: hostname(), startedAt: '2026-01-01T00:00:00.000Z' }));

    const { code, lines } = await runOnce();

    expect(code).toBe(0);
    expect(lines.some((line) => line['level'] === 'warn' && /stale lock/.test(String(line['msg'])) && line['pid'] === dead)).toBe(true);
    expect(await readdir(outputDir)).not.toContain(LOCK);
    expect(await targetsOf('tasks.json')).toHaveLength(5);
  });

  it('counts a stale lock it takes over on /metrics', async () => {
    await mkdir(outputDir);
    const dead = spawnSync('true').pid;
    await writeFile(join(outputDir, LOCK), JSON.stringify({ pid: dead, hostname: hostname(), startedAt: '2026-01-01T00:00:00.000Z' }));

    const discoverer = start();
    await discoverer.waitForRounds(1);

    expect(JSON.parse(await readFile(join(outputDir, LOCK), 'utf8'))).toMatchObject({ pid: discoverer.pid });
    expect(await metric('ecs_discoverer_output_recoveries_total{action="stale_lock_taken_over"}')).toBe(1);
    expect(await metric('ecs_discoverer_output_recoveries_total{action="leftover_removed"}')).toBe(0);
  });

  it('refuses a lock that another host refreshed recently, and takes over one it left long ago', async () => {
    await mkdir(outputDir);
    const path = join(outputDir, LOCK);
    await writeFile(path, JSON.stringify({ pid: 1, hostname: 'another-host', startedAt: '2026-01-01T00:00:00.000Z' }));

    const refused = await runOnce();
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('process 1 on another-host');

    await utimes(path, new Date('2026-01-01T00:00:00Z'), new Date('2026-01-01T00:00:00Z'));
    const taken = await runOnce();
    expect(taken.code).toBe(0);
    expect(taken.lines.some((line) => line['level'] === 'warn' && /stale lock/.test(String(line['msg'])))).toBe(true);
  });
});
