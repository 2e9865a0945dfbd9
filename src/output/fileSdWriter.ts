import { createHash, type Hash } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { lstat, open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { INTERVALS, type IntervalName } from '../discovery/endpoints.js';
import { isSameText, toAllGroups, toFileSdParts, type GroupsByInterval, type PublishedGroup } from '../discovery/targetGroups.js';
import { OutputError, describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { makeDirectory } from './outputDirectory.js';
import { writeAtomically } from './writeAtomically.js';

/** Groups are immutable once published: the same objects in the same order mean the same text. */
const sameGroups = (a: readonly PublishedGroup[], b: readonly PublishedGroup[]) =>
  a === b || (a.length === b.length && a.every((group, index) => isSameText(group, b[index] as PublishedGroup)));

/** The chunks, each added to `hash` as it goes by. */
function* hashing(chunks: Iterable<Buffer>, hash: Hash): Generator<Buffer, void, undefined> {
  for (const chunk of chunks) {
    hash.update(chunk);
    yield chunk;
  }
}

/**
 * Written in chunks of about this many characters (64 KB of ASCII), and read back in buffers of
 * that size: never the whole file as one string or buffer.
 */
const CHUNK_CHARS = 64 * 1024;

function* toChunks(parts: Iterable<string>): Generator<Buffer, void, undefined> {
  let pending: string[] = [];
  let length = 0;
  for (const part of parts) {
    pending.push(part);
    length += part.length;
    if (length >= CHUNK_CHARS) {
      yield Buffer.from(pending.join(''));
      pending = [];
      length = 0;
    }
  }
  if (pending.length > 0) yield Buffer.from(pending.join(''));
}

/**
 * Never follows a link (O_NOFOLLOW) nor waits on a planted FIFO (O_NONBLOCK): a regular file's
 * content, read in chunks.
 */
const READ_REGULAR = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** The digest of what `path` holds; undefined when it is missing or not a regular file (so it differs from anything). */
async function readDigest(path: string): Promise<string | undefined> {
  let file;
  try {
    file = await open(path, READ_REGULAR);
  } catch {
    return undefined;
  }
  try {
    if (!(await file.stat()).isFile()) return undefined;
    const hash = createHash('sha256');
    const buffer = Buffer.allocUnsafe(CHUNK_CHARS);
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) return hash.digest('base64');
      hash.update(buffer.subarray(0, bytesRead));
    }
  } catch {
    return undefined;
  } finally {
    await file.close();
  }
}

/** The lstat fields that change whenever anything writes, replaces or touches a file. */
interface FileIdentity {
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
}

/** What a file held when we last wrote or read it: while its identity stays, so does its content. */
interface KnownFile extends FileIdentity {
  readonly digest: string;
}

const toIdentity = ({ ino, size, mtimeMs, ctimeMs }: FileIdentity): FileIdentity => ({ ino, size, mtimeMs, ctimeMs });

const sameIdentity = (a: FileIdentity, b: FileIdentity) => a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;

/** What is on disk at a path: its digest (undefined: nothing we can compare), and what is wrong when something else made it so. */
interface Inspection {
  digest: string | undefined;
  problem?: string;
}

/**
 * What one write attempt of a file did: written (its targets changed), unchanged (nothing to
 * write), repaired (rewritten because something else had removed, replaced or altered it), error.
 */
export type FileWriteOutcome = 'written' | 'unchanged' | 'repaired' | 'error';

export interface FileSdWriterOptions {
  directory: string;
  fileNames: Readonly<Record<IntervalName, string>>;
  /** One more file with every group of every interval; undefined: none. */
  allTargetsFile?: string | undefined;
  /** Warns of files (and of the directory) that something else removed, replaced or changed. */
  logger: Logger;
  /** Called once per file and write attempt. */
  onWrite?: (outcome: FileWriteOutcome) => void;
}

/**
 * Writes the file_sd files: each atomically (see writeAtomically), and only when what is on disk
 * differs from what it should be. Each round looks at the disk first (the directory, and each
 * file's lstat, with a digest of its content when that changed), so that a file someone removed,
 * replaced by a link or altered, or a removed directory, is restored in the same round, with a warning.
 */
export class FileSdWriter {
  readonly #directory: string;
  readonly #fileNames: Readonly<Record<IntervalName, string>>;
  readonly #allTargetsFile: string | undefined;
  readonly #logger: Logger;
  readonly #onWrite: (outcome: FileWriteOutcome) => void;
  /** What each file held when we last wrote or read it. */
  readonly #known = new Map<string, KnownFile>();
  /** The groups last asked for in each file, and their digest: the same groups need no new text at all. */
  readonly #wanted = new Map<string, { groups: readonly PublishedGroup[]; digest: string }>();

  constructor({ directory, fileNames, allTargetsFile, logger, onWrite = () => {} }: FileSdWriterOptions) {
    this.#directory = directory;
    this.#fileNames = fileNames;
    this.#allTargetsFile = allTargetsFile;
    this.#logger = logger;
    this.#onWrite = onWrite;
  }

  /** Writes every interval's file that differs from its groups; throws OutputError naming the first file that failed. */
  async write(groups: GroupsByInterval): Promise<void> {
    await this.#restoreDirectory();
    for (const interval of INTERVALS) await this.#writeFile(join(this.#directory, this.#fileNames[interval]), groups[interval]);
    if (this.#allTargetsFile !== undefined) await this.#writeFile(join(this.#directory, this.#allTargetsFile), toAllGroups(groups));
  }

  async #restoreDirectory(): Promise<void> {
    const missing = await stat(this.#directory).then(
      () => false,
      (error: NodeJS.ErrnoException) => error.code === 'ENOENT',
    );
    if (!missing) return; // Anything else wrong with it, each write says.
    this.#logger.warn('output directory vanished; recreating it', { output_dir: this.#directory });
    try {
      await makeDirectory(this.#directory);
    } catch (error) {
      throw new OutputError(`cannot recreate ${this.#directory}: ${describeError(error)}`, { cause: error });
    }
  }

  async #writeFile(path: string, groups: readonly PublishedGroup[]): Promise<void> {
    const wanted = this.#wanted.get(path);
    const known = wanted !== undefined && sameGroups(wanted.groups, groups) ? wanted.digest : undefined;
    const { digest: onDisk, problem } = await this.#inspect(path);
    if (known !== undefined && onDisk === known) {
      this.#onWrite('unchanged');
      return;
    }
    // New groups, or a file that is not what we wrote: the text is made once, and hashed as it is
    // written. When it turns out to be what the file holds, the file is left as it is.
    const hash = createHash('sha256');
    let digest = known;
    let warned = false;
    const warn = () => {
      if (problem === undefined || warned) return;
      warned = true;
      this.#logger.warn(`target file ${problem}; rewriting it`, { file: path });
    };
    // Said before writing when it is sure to be rewritten; else once the new text is known to differ.
    if (onDisk === undefined || known !== undefined) warn();
    let replaced: boolean;
    try {
      replaced = await writeAtomically(path, hashing(toChunks(toFileSdParts(groups)), hash), {
        replaces: () => {
          digest = hash.digest('base64');
          if (digest === onDisk) return false;
          warn();
          return true;
        },
      });
    } catch (error) {
      this.#onWrite('error');
      throw error;
    }
    if (digest === undefined) throw new Error('unreachable: the digest is made before the file is replaced');
    this.#wanted.set(path, { groups, digest });
    if (!replaced) {
      this.#onWrite('unchanged');
      return;
    }
    const written = await lstat(path).catch(() => undefined);
    if (written === undefined) this.#known.delete(path);
    else this.#known.set(path, { ...toIdentity(written), digest });
    this.#onWrite(problem === undefined ? 'written' : 'repaired');
  }

  /** Never follows a link, and reads the content only when the file is not what we last saw. */
  async #inspect(path: string): Promise<Inspection> {
    const known = this.#known.get(path);
    let found: Stats;
    try {
      found = await lstat(path);
    } catch (error) {
      this.#known.delete(path);
      // Only a file we wrote can vanish; any other error, the write reports.
      return { digest: undefined, ...((error as NodeJS.ErrnoException).code === 'ENOENT' && known && { problem: 'vanished' }) };
    }
    if (!found.isFile()) {
      this.#known.delete(path);
      return { digest: undefined, problem: found.isSymbolicLink() ? 'is a symbolic link (never followed)' : 'is not a regular file' };
    }
    if (known !== undefined && sameIdentity(known, found)) return { digest: known.digest };
    const digest = await readDigest(path);
    if (digest === undefined) {
      this.#known.delete(path);
      return { digest };
    }
    this.#known.set(path, { ...toIdentity(found), digest });
    return { digest, ...(known !== undefined && known.digest !== digest && { problem: 'was changed by another writer' }) };
  }
}
