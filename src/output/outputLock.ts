import { constants } from 'node:fs';
import { lstat, lutimes, open, unlink } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import { OutputError, describeError } from '../errors.js';
import type { Logger } from '../log.js';

export const LOCK_FILE_NAME = '.prometheus-ecs-discoverer.lock';

/** Who holds the lock: the content of the lock file. */
export interface LockOwner {
  readonly pid: number;
  readonly hostname: string;
  /** When the holder took the lock (ISO 8601). */
  readonly startedAt: string;
}

export interface OutputLockOptions {
  directory: string;
  /**
   * A lock file of another host that was not refreshed for this long is stale. Containers that
   * share a volume have PID namespaces of their own: another host's PID cannot be checked.
   */
  staleAfterMs: number;
  logger: Logger;
  /** @default Date.now */
  now?: () => number;
  /** @default os.hostname() */
  hostname?: string;
  /** @default process.pid */
  pid?: number;
  /** Whether a process of this host is alive. @default signal 0 */
  isAlive?: (pid: number) => boolean;
  /** Told of each stale lock taken over, and of each lock file recreated after it vanished (for a metric). */
  onRecovery?: (action: LockRecovery) => void;
}

/** What the lock set right: another process's stale lock taken over, or our lock file recreated. */
export type LockRecovery = 'stale_lock_taken_over' | 'lock_recreated';

/** Either the lock, or why it cannot be had: one sentence for the operator. */
export type LockAttempt = { lock: OutputLock } | { refused: string };

/** What is at the lock's path: its holder (undefined when the file cannot be read as one) and its mtime. */
interface FoundLock {
  owner: LockOwner | undefined;
  mtimeMs: number;
}

/** Signal 0 checks that a process exists; EPERM means it does, as another user's. */
function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function toLockOwner(text: string): LockOwner | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { pid, hostname, startedAt } = value as Record<string, unknown>;
  if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 0) return undefined;
  if (typeof hostname !== 'string' || typeof startedAt !== 'string') return undefined;
  return { pid, hostname, startedAt };
}

const sameOwner = (a: LockOwner, b: LockOwner) => a.pid === b.pid && a.hostname === b.hostname && a.startedAt === b.startedAt;

const isMissing = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';

/** Created exclusively, never through a link or a planted FIFO. */
const CREATE_EXCLUSIVELY = constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY;
const READ_REGULAR = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * One discoverer per output directory: a lock file there, `{pid, hostname, startedAt}`, created
 * exclusively. A lock of this host whose process is gone (or has our PID: a restarted
 * container) is stale, and so is another host's lock that was not refreshed for
 * `staleAfterMs`: a stale lock is taken over, with a warning; any other refuses the start.
 */
export class OutputLock {
  readonly #path: string;
  readonly #owner: LockOwner;
  readonly #options: OutputLockOptions;
  readonly #now: () => number;
  /** The last refresh problem logged: each is said once, not every round. */
  #problem: string | undefined;

  private constructor(options: OutputLockOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#path = join(options.directory, LOCK_FILE_NAME);
    this.#owner = {
      pid: options.pid ?? process.pid,
      hostname: options.hostname ?? osHostname(),
      startedAt: new Date(this.#now()).toISOString(),
    };
  }

  /** Takes the lock, or says who holds it; throws OutputError when the lock file cannot be written or read. */
  static async acquire(options: OutputLockOptions): Promise<LockAttempt> {
    const lock = new OutputLock(options);
    try {
      return await lock.#acquire();
    } catch (error) {
      throw new OutputError(`cannot lock ${lock.#path}: ${describeError(error)}`, { cause: error });
    }
  }

  get path(): string {
    return this.#path;
  }

  /**
   * Touches the lock file, so that other hosts see it is held (their only sign of life); recreates
   * it when it vanished (`rm -rf` of the directory). Never rejects: a problem is a warning, said once.
   */
  async refresh(): Promise<void> {
    const seconds = this.#now() / 1000;
    try {
      await lutimes(this.#path, seconds, seconds);
      this.#problem = undefined;
      return;
    } catch (error) {
      if (!isMissing(error)) {
        this.#warnOnce(`cannot refresh the lock file: ${describeError(error)}`);
        return;
      }
    }
    try {
      if (await this.#create()) {
        this.#problem = undefined;
        this.#options.logger.warn('lock file vanished; recreated it', { lock_file: this.#path });
        this.#options.onRecovery?.('lock_recreated');
      } else {
        this.#warnOnce('lock file vanished and another process created it again');
      }
    } catch (error) {
      this.#warnOnce(`lock file vanished and cannot be recreated: ${describeError(error)}`);
    }
  }

  /** Removes the lock file if it is still ours; idempotent. */
  async release(): Promise<void> {
    try {
      const found = await this.#read();
      if (found?.owner !== undefined && sameOwner(found.owner, this.#owner)) await unlink(this.#path);
    } catch (error) {
      if (!isMissing(error)) this.#options.logger.warn(`cannot remove the lock file: ${describeError(error)}`, { lock_file: this.#path });
    }
  }

  async #acquire(): Promise<LockAttempt> {
    // A stale lock that we remove may be taken by another process before we create ours: then we look again.
    for (let attempt = 0; attempt < 3; attempt++) {
      if (await this.#create()) return { lock: this };
      const found = await this.#read();
      if (found === undefined) continue;
      const staleness = this.#staleness(found);
      if (staleness === undefined) return { refused: this.#describeHolder(found) };
      this.#options.logger.warn('taking over a stale lock', {
        lock_file: this.#path,
        pid: found.owner?.pid,
        hostname: found.owner?.hostname,
        reason: staleness,
      });
      await unlink(this.#path).catch((error: unknown) => {
        if (!isMissing(error)) throw error;
      });
      this.#options.onRecovery?.('stale_lock_taken_over');
    }
    throw new Error('other processes keep taking it');
  }

  /** Creates the lock file with our content; false when it exists. */
  async #create(): Promise<boolean> {
    let file;
    try {
      file = await open(this.#path, CREATE_EXCLUSIVELY, 0o644);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
    try {
      await file.writeFile(`${JSON.stringify(this.#owner)}\n`);
      await file.sync();
    } catch (error) {
      await file.close();
      await unlink(this.#path).catch(() => {});
      throw error;
    }
    await file.close();
    return true;
  }

  /** The lock file's holder and mtime; undefined when there is none. */
  async #read(): Promise<FoundLock | undefined> {
    let mtimeMs: number;
    try {
      ({ mtimeMs } = await lstat(this.#path));
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
    let file;
    try {
      file = await open(this.#path, READ_REGULAR);
    } catch {
      return { owner: undefined, mtimeMs }; // A link, or gone meanwhile: nobody's lock.
    }
    try {
      const readable = (await file.stat()).isFile();
      return { owner: readable ? toLockOwner(await file.readFile('utf8')) : undefined, mtimeMs };
    } finally {
      await file.close();
    }
  }

  /** Why a lock that exists is stale (ours to take), or undefined when its holder may be alive. */
  #staleness({ owner, mtimeMs }: FoundLock): string | undefined {
    const { staleAfterMs, isAlive = isProcessAlive } = this.#options;
    if (owner !== undefined && owner.hostname === this.#owner.hostname) {
      if (owner.pid === this.#owner.pid) return 'its PID is ours: left by an earlier run of this process (a restarted container)';
      return isAlive(owner.pid) ? undefined : 'its process is gone';
    }
    // Another host's, or unreadable: only the refreshes say whether its holder lives.
    const ageMs = this.#now() - mtimeMs;
    return ageMs > staleAfterMs ? `not refreshed for ${Math.round(ageMs / 1000)}s` : undefined;
  }

  #describeHolder({ owner, mtimeMs }: FoundLock): string {
    const { directory } = this.#options;
    if (owner === undefined) {
      const ageS = Math.round((this.#now() - mtimeMs) / 1000);
      return `"${directory}" is locked by ${LOCK_FILE_NAME}, which cannot be read and was refreshed ${ageS}s ago: remove it if no discoverer writes there`;
    }
    return `"${directory}" is in use by process ${owner.pid} on ${owner.hostname} since ${owner.startedAt} (lock file ${LOCK_FILE_NAME}): stop it, or give each discoverer an output directory of its own`;
  }

  #warnOnce(problem: string): void {
    if (problem === this.#problem) return;
    this.#problem = problem;
    this.#options.logger.warn(problem, { lock_file: this.#path });
  }
}
