import { watch, type FSWatcher } from 'node:fs';
import { lstat, readFile, readdir, unlink } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { isStaticFileName, parseStaticGroups, toStaticPublishedGroups } from '../discovery/staticGroups.js';
import type { PublishedGroup, TargetGroup } from '../discovery/targetGroups.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { loadYaml } from '../yamlPackage.js';
import { writeAtomically } from './writeAtomically.js';

/** A static file larger than this is refused: file_sd files of a few targets are kilobytes. */
const MAX_FILE_BYTES = 4 * 1024 * 1024;

/** One file of the directory, as last read. */
export interface StaticFile {
  readonly name: string;
  /** Its groups: the last good content when the file is now bad. */
  readonly groups: readonly PublishedGroup[];
  /** What is wrong with it now; undefined when it was read well. */
  readonly error: string | undefined;
}

/** What the directory holds: every file's groups, and the files that are bad. */
export interface StaticTargets {
  readonly files: readonly StaticFile[];
  readonly groups: readonly PublishedGroup[];
}

export interface StaticDirectoryOptions {
  directory: string;
  logger: Logger;
  /** Called after a scan that changed the groups or the errors. */
  onChange?: (targets: StaticTargets) => void;
  /** The backstop for changes fs.watch misses (network file systems, a recreated directory). @default 30_000 */
  rescanMs?: number;
}

const EMPTY: StaticTargets = Object.freeze({ files: Object.freeze([]), groups: Object.freeze([]) });

/**
 * The directory of static target files (`staticDir`): read at start, then again whenever
 * fs.watch sees a change, and every `rescanMs` in case it did not. A bad file is reported and
 * keeps its last good groups; the others are not disturbed. Also writes and removes files for
 * the targets API, atomically.
 */
export class StaticDirectory {
  readonly #directory: string;
  readonly #logger: Logger;
  readonly #onChange: (targets: StaticTargets) => void;
  readonly #rescanMs: number;
  #current: StaticTargets = EMPTY;
  /** The last good groups of each file, kept while it is bad. */
  readonly #lastGood = new Map<string, readonly PublishedGroup[]>();
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Scans run one at a time; a change during one asks for one more. */
  #scanning: Promise<void> | undefined;
  #again = false;

  constructor({ directory, logger, onChange = () => {}, rescanMs = 30_000 }: StaticDirectoryOptions) {
    this.#directory = directory;
    this.#logger = logger;
    this.#onChange = onChange;
    this.#rescanMs = rescanMs;
  }

  get current(): StaticTargets {
    return this.#current;
  }

  get directory(): string {
    return this.#directory;
  }

  /** Reads the directory once, then watches it. Idempotent. */
  async start(): Promise<void> {
    await this.scan();
    if (this.#timer !== undefined) return;
    this.#watch();
    this.#timer = setInterval(() => void this.scan(), this.#rescanMs);
    this.#timer.unref();
  }

  stop(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #watch(): void {
    try {
      this.#watcher = watch(this.#directory, () => void this.scan());
      // A removed directory ends the watch: the periodic scan notices when it is back.
      this.#watcher.on('error', () => {
        this.#watcher?.close();
        this.#watcher = undefined;
      });
    } catch (error) {
      this.#logger.warn('static targets: cannot watch the directory; reading it every rescan only', { static_dir: this.#directory, error: describeError(error) });
    }
  }

  /** Reads every file again; resolves when the directory's state is current. */
  scan(): Promise<void> {
    if (this.#scanning !== undefined) {
      this.#again = true;
      return this.#scanning;
    }
    this.#scanning = (async () => {
      do {
        this.#again = false;
        await this.#scanOnce();
      } while (this.#again);
    })().finally(() => {
      this.#scanning = undefined;
    });
    return this.#scanning;
  }

  async #scanOnce(): Promise<void> {
    let names: string[];
    try {
      names = (await readdir(this.#directory)).filter(isStaticFileName).sort();
    } catch (error) {
      // The directory is gone or unreadable: keep every file's last groups, and say so on each.
      const reason = `the directory cannot be read: ${describeError(error)}`;
      this.#update(this.#current.files.map((file) => ({ ...file, error: reason })));
      return;
    }
    if (!this.#watcher && this.#timer !== undefined) this.#watch();
    const files: StaticFile[] = [];
    for (const name of names) files.push(await this.#read(name));
    for (const name of this.#lastGood.keys()) if (!names.includes(name)) this.#lastGood.delete(name);
    this.#update(files);
  }

  async #read(name: string): Promise<StaticFile> {
    const path = join(this.#directory, name);
    const lastGood = this.#lastGood.get(name) ?? [];
    try {
      const found = await lstat(path);
      if (!found.isFile()) return { name, groups: lastGood, error: 'not a regular file' };
      if (found.size > MAX_FILE_BYTES) return { name, groups: lastGood, error: `larger than ${MAX_FILE_BYTES} bytes` };
      const format = extname(name) === '.json' ? 'json' : 'yaml';
      const parsed = parseStaticGroups(await readFile(path, 'utf8'), format, format === 'yaml' ? await loadYaml() : undefined);
      if ('error' in parsed) return { name, groups: lastGood, error: parsed.error };
      const read = toStaticPublishedGroups(name, parsed.groups);
      // The same content is the same groups: nothing to publish again.
      const same = read.length === lastGood.length && read.every((group, index) => group.json === lastGood[index]?.json);
      const groups = same ? lastGood : Object.freeze(read);
      this.#lastGood.set(name, groups);
      return { name, groups, error: undefined };
    } catch (error) {
      // Removed between the listing and the read: the next scan drops it.
      return { name, groups: lastGood, error: describeError(error) };
    }
  }

  #update(files: StaticFile[]): void {
    const before = this.#current;
    const changed =
      before.files.length !== files.length ||
      files.some((file, index) => {
        const old = before.files[index];
        return old === undefined || old.name !== file.name || old.error !== file.error || old.groups !== file.groups;
      });
    if (!changed) return;
    for (const file of files) {
      const old = before.files.find((candidate) => candidate.name === file.name);
      if (file.error !== undefined && old?.error !== file.error) {
        this.#logger.warn(`static targets: ${file.name} skipped: ${file.error}${file.groups.length > 0 ? '; keeping its last good targets' : ''}`, {
          static_dir: this.#directory,
          file: file.name,
          error: file.error,
        });
      }
    }
    this.#current = Object.freeze({ files: Object.freeze(files.map((file) => Object.freeze(file))), groups: Object.freeze(files.flatMap((file) => file.groups)) });
    this.#onChange(this.#current);
  }

  /** The groups stored under a targets API name, as the file holds them; undefined when there is none. */
  async read(name: string): Promise<TargetGroup[] | undefined> {
    let text: string;
    try {
      text = await readFile(join(this.#directory, `${name}.json`), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const parsed = parseStaticGroups(text, 'json');
    if ('error' in parsed) throw new Error(`${name}.json: ${parsed.error}`);
    return parsed.groups;
  }

  /** Stores groups (already checked) as `<name>.json`, atomically, and reads the directory again. */
  async write(name: string, groups: readonly TargetGroup[]): Promise<void> {
    const text = `${JSON.stringify(groups, null, 2)}\n`;
    await writeAtomically(join(this.#directory, `${name}.json`), [Buffer.from(text)]);
    await this.scan();
  }

  /** Removes `<name>.json`; false when there was none. */
  async remove(name: string): Promise<boolean> {
    try {
      await unlink(join(this.#directory, `${name}.json`));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
    await this.scan();
    return true;
  }
}
