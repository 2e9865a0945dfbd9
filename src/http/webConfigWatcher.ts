import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { WebSecurity } from './webSecurity.js';

export interface WebConfigWatcherOptions {
  /** The configuration in force. */
  current: WebSecurity;
  /** Loads the file again (webSecurity.ts' loadWebSecurity). */
  load: (file: string) => Promise<WebSecurity>;
  /** Puts a new configuration in force; returns why it cannot be, if it cannot. */
  apply: (next: WebSecurity) => string | undefined;
  logger: Logger;
  /** Backstop for changes fs.watch misses (a volume that does not report them, a symlink swapped). @default 10000 */
  recheckMs?: number;
  /** Changes come in bursts (a certificate, then its key): one check after the last. @default 200 */
  settleMs?: number;
}

/** What identifies the state of a file: a rename (ino), a rewrite (size, mtime, ctime), or its absence. */
async function fingerprintOf(files: readonly string[]): Promise<string> {
  const parts = await Promise.all(
    files.map(async (file) => {
      try {
        const info = await stat(file);
        return `${info.ino}:${info.size}:${info.mtimeMs}:${info.ctimeMs}`;
      } catch (error) {
        return `missing:${(error as NodeJS.ErrnoException).code ?? ''}`;
      }
    }),
  );
  return parts.join('|');
}

/**
 * Re-reads the web configuration when it or a file it names changes (certificate rotation):
 * fs.watch on their directories, and a periodic look at them as a backstop. A configuration that
 * loads is put in force for new connections (open ones keep theirs: nothing is dropped); one that
 * does not keeps the one in force, with one log line saying why, once per change.
 */
export class WebConfigWatcher {
  readonly #options: WebConfigWatcherOptions;
  #current: WebSecurity;
  /** The state of the files last read, good or bad: nothing is read again until it changes. */
  #fingerprint = '';
  #watchers: FSWatcher[] = [];
  #watched = '';
  #recheck: NodeJS.Timeout | undefined;
  #settle: NodeJS.Timeout | undefined;
  #checking: Promise<void> | undefined;
  #again = false;
  #stopped = false;

  constructor(options: WebConfigWatcherOptions) {
    this.#options = options;
    this.#current = options.current;
  }

  async start(): Promise<void> {
    this.#fingerprint = await fingerprintOf(this.#current.files);
    this.#watch(this.#current.files);
    this.#recheck = setInterval(() => this.#schedule(0), this.#options.recheckMs ?? 10_000);
    this.#recheck.unref();
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#recheck);
    clearTimeout(this.#settle);
    for (const watcher of this.#watchers) watcher.close();
    this.#watchers = [];
  }

  /** Watches the directories of the files: a file replaced by a rename is then still seen. */
  #watch(files: readonly string[]): void {
    const directories = [...new Set(files.map((file) => dirname(file)))].sort();
    if (directories.join('\u0000') === this.#watched) return;
    for (const watcher of this.#watchers) watcher.close();
    this.#watched = directories.join('\u0000');
    this.#watchers = directories.flatMap((directory) => {
      try {
        const watcher = watch(directory, { persistent: false }, () => this.#schedule(this.#options.settleMs ?? 200));
        // A directory that goes away: the periodic check still sees what happens.
        watcher.on('error', () => watcher.close());
        return [watcher];
      } catch (error) {
        this.#options.logger.debug('web config: cannot watch a directory; changes are seen by the periodic check', { directory, error: describeError(error) });
        return [];
      }
    });
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    clearTimeout(this.#settle);
    this.#settle = setTimeout(() => void this.#check(), delayMs);
    this.#settle.unref();
  }

  /** One check at a time; a change seen during one is checked right after it. */
  async #check(): Promise<void> {
    if (this.#checking !== undefined) {
      this.#again = true;
      return this.#checking;
    }
    this.#checking = this.#checkOnce().finally(() => {
      this.#checking = undefined;
      if (this.#again && !this.#stopped) {
        this.#again = false;
        void this.#check();
      }
    });
    return this.#checking;
  }

  async #checkOnce(): Promise<void> {
    const { load, apply, logger } = this.#options;
    const file = this.#current.file;
    const fingerprint = await fingerprintOf(this.#current.files);
    if (fingerprint === this.#fingerprint || this.#stopped) return;
    this.#fingerprint = fingerprint;
    let next: WebSecurity;
    try {
      next = await load(file);
    } catch (error) {
      logger.error('web config not reloaded; the one in force is kept', { file, error: describeError(error) });
      return;
    }
    if (this.#stopped) return;
    const refusal = apply(next);
    if (refusal !== undefined) {
      logger.error('web config not reloaded; the one in force is kept', { file, error: `${file}: ${refusal}` });
      return;
    }
    const sameFiles = next.files.join('\u0000') === this.#current.files.join('\u0000');
    this.#current = next;
    // It may name other files now: watch those, and remember their state. With the same files, the
    // state from before the load is kept: a change made while it loaded is then read next time.
    if (!sameFiles) this.#fingerprint = await fingerprintOf(next.files);
    this.#watch(next.files);
    logger.info('web config reloaded', { file, tls: next.tls !== undefined, users: next.auth !== undefined });
  }
}
