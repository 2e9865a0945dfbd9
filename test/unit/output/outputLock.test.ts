import { lstat, mkdtemp, readFile, readdir, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Logger } from '../../../src/log.js';
import { LOCK_FILE_NAME, OutputLock, type LockAttempt, type OutputLockOptions } from '../../../src/output/outputLock.js';

const STALE_AFTER_MS = 60_000;
/** The clock of the tests: lock files get this mtime unless a test says otherwise. */
const NOW = Date.parse('2026-03-01T12:00:00Z');

let directory: string;
let lockPath: string;
let warnings: string[];
const logger: Logger = { debug() {}, info() {}, warn: (message) => warnings.push(message), error() {} };

beforeEach(async () => {
  warnings = [];
  directory = await mkdtemp(join(tmpdir(), 'output-lock-'));
  lockPath = join(directory, LOCK_FILE_NAME);
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

/** Ours: pid 100 on host-a, which sees pids 200 (alive) and 300 (gone). */
const acquire = (options: Partial<OutputLockOptions> = {}): Promise<LockAttempt> =>
  OutputLock.acquire({
    directory,
    staleAfterMs: STALE_AFTER_MS,
    logger,
    now: () => NOW,
    hostname: 'host-a',
    pid: 100,
    isAlive: (pid) => pid === 200,
    ...options,
  });

async function acquired(options: Partial<OutputLockOptions> = {}): Promise<OutputLock> {
  const attempt = await acquire(options);
  if (!('lock' in attempt)) throw new Error(`expected the lock, got: ${attempt.refused}`);
  return attempt.lock;
}

/** Plants a lock file of another holder, last refreshed `ageMs` before NOW. */
async function plant(owner: { pid: number; hostname: string } | string, ageMs = 0): Promise<void> {
  await writeFile(lockPath, typeof owner === 'string' ? owner : JSON.stringify({ ...owner, startedAt: '2026-03-01T00:00:00.000Z' }));
  const mtime = new Date(NOW - ageMs);
  await utimes(lockPath, mtime, mtime);
}

const lockContent = async () => JSON.parse(await readFile(lockPath, 'utf8')) as Record<string, unknown>;

describe('OutputLock', () => {
  it('creates the lock file with our pid, hostname and start time, mode 0644', async () => {
    await acquired();

    expect(await lockContent()).toEqual({ pid: 100, hostname: 'host-a', startedAt: '2026-03-01T12:00:00.000Z' });
    expect((await stat(lockPath)).mode & 0o777).toBe(0o644);
    expect(warnings).toEqual([]);
  });

  it('refuses a lock of a live process of this host, naming the directory, its pid and host', async () => {
    await plant({ pid: 200, hostname: 'host-a' });

    const attempt = await acquire();

    expect(attempt).toEqual({
      refused: `"${directory}" is in use by process 200 on host-a since 2026-03-01T00:00:00.000Z (lock file ${LOCK_FILE_NAME}): stop it, or give each discoverer an output directory of its own`,
    });
    expect((await lockContent())['pid']).toBe(200);
  });

  it('refuses it however old its mtime: a live process of this host is asked, not its refreshes', async () => {
    await plant({ pid: 200, hostname: 'host-a' }, 10 * STALE_AFTER_MS);

    expect(await acquire()).toHaveProperty('refused');
  });

  it('takes over, with a warning, the lock of a process of this host that is gone, and says so for the metric', async () => {
    await plant({ pid: 300, hostname: 'host-a' });
    const recoveries: string[] = [];

    await acquired({ onRecovery: (action) => recoveries.push(action) });

    expect((await lockContent())['pid']).toBe(100);
    expect(warnings).toEqual(['taking over a stale lock']);
    expect(recoveries).toEqual(['stale_lock_taken_over']);
  });

  it('says nothing for the metric when it creates a lock where there was none, or is refused', async () => {
    const recoveries: string[] = [];
    await acquired({ onRecovery: (action) => recoveries.push(action) });
    await acquire({ pid: 200, isAlive: () => true, onRecovery: (action) => recoveries.push(action) });

    expect(recoveries).toEqual([]);
  });

  it('takes over a lock of this host with our own pid: a restarted container where we are pid 1 again', async () => {
    await plant({ pid: 100, hostname: 'host-a' });

    await acquired({ isAlive: () => true });

    expect(await lockContent()).toMatchObject({ pid: 100, startedAt: '2026-03-01T12:00:00.000Z' });
    expect(warnings).toEqual(['taking over a stale lock']);
  });

  it('refuses a lock of another host refreshed within staleAfterMs: its pid cannot be checked from here', async () => {
    await plant({ pid: 300, hostname: 'host-b' }, STALE_AFTER_MS - 1000);

    const attempt = await acquire();

    expect(attempt).toHaveProperty('refused', expect.stringContaining('process 300 on host-b'));
  });

  it('takes over a lock of another host not refreshed for longer than staleAfterMs', async () => {
    await plant({ pid: 200, hostname: 'host-b' }, STALE_AFTER_MS + 1000);

    await acquired();

    expect((await lockContent())['hostname']).toBe('host-a');
    expect(warnings).toEqual(['taking over a stale lock']);
  });

  it('judges an unreadable lock file by its mtime, like another host’s', async () => {
    await plant('{"pid": "x"', 0);
    expect(await acquire()).toHaveProperty('refused', expect.stringContaining('cannot be read'));

    await plant('', STALE_AFTER_MS + 1000);
    await acquired();
    expect((await lockContent())['pid']).toBe(100);
  });

  it('never follows a lock file that is a link: it removes the link and leaves its target alone', async () => {
    const outside = await mkdtemp(join(tmpdir(), 'output-lock-outside-'));
    try {
      const victim = join(outside, 'victim');
      await writeFile(victim, JSON.stringify({ pid: 200, hostname: 'host-a', startedAt: 'x' }));
      await symlink(victim, lockPath);

      // The link's own mtime is now: the lock is judged stale once staleAfterMs has passed.
      await acquired({ now: () => Date.now() + 2 * STALE_AFTER_MS });

      expect((await lstat(lockPath)).isFile()).toBe(true);
      expect(JSON.parse(await readFile(victim, 'utf8'))).toMatchObject({ pid: 200 });
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  it('refreshes the mtime of the lock file with its clock', async () => {
    let now = NOW;
    const lock = await acquired({ now: () => now });
    now += 30_000;

    await lock.refresh();

    expect((await stat(lockPath)).mtimeMs).toBe(NOW + 30_000);
  });

  it('recreates a lock file that vanished when it refreshes, with a warning, and says so for the metric', async () => {
    const recoveries: string[] = [];
    const lock = await acquired({ onRecovery: (action) => recoveries.push(action) });
    await rm(lockPath);

    await lock.refresh();
    await lock.refresh();

    expect(await lockContent()).toMatchObject({ pid: 100, hostname: 'host-a' });
    expect(warnings).toEqual(['lock file vanished; recreated it']);
    expect(recoveries).toEqual(['lock_recreated']);
  });

  it('never rejects when it cannot refresh, and says so once', async () => {
    const lock = await acquired();
    await rm(directory, { recursive: true });

    await lock.refresh();
    await lock.refresh();

    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^lock file vanished and cannot be recreated: .*ENOENT/);
  });

  it('releases: removes its lock file, only if it is still its own, idempotently', async () => {
    const lock = await acquired();
    await lock.release();
    expect(await readdir(directory)).toEqual([]);

    await plant({ pid: 200, hostname: 'host-a' });
    await lock.release();
    await lock.release();
    expect(await readdir(directory)).toEqual([LOCK_FILE_NAME]);
  });
});
