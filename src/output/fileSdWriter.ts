import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { INTERVALS, type IntervalName } from '../discovery/endpoints.js';
import { toFileSdParts, type GroupsByInterval, type PublishedGroup } from '../discovery/targetGroups.js';
import { writeAtomically } from './writeAtomically.js';

export interface FileSdWriterOptions {
  directory: string;
  fileNames: Readonly<Record<IntervalName, string>>;
  /** Called once per file and write attempt. */
  onWrite?: (outcome: 'written' | 'unchanged' | 'error') => void;
}

/** Groups are immutable once published: the same objects in the same order mean the same text. */
const sameGroups = (a: readonly PublishedGroup[], b: readonly PublishedGroup[]) =>
  a.length === b.length && a.every((group, index) => group === b[index] || group.json === b[index]?.json);

/** Files of 10,000 targets are megabytes: only a digest of the last content is kept, made from its parts. */
function toDigest(parts: Iterable<string>): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('base64');
}

/** Written in chunks of about this many bytes: never the whole file as one string or buffer. */
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

/**
 * Writes the file_sd files: each atomically (see writeAtomically), and only when its content
 * changed, so Prometheus re-reads nothing needlessly.
 */
export class FileSdWriter {
  readonly #directory: string;
  readonly #fileNames: Readonly<Record<IntervalName, string>>;
  readonly #onWrite: (outcome: 'written' | 'unchanged' | 'error') => void;
  /** A digest of what each file holds, as far as we know; filled from disk on first use. */
  readonly #digests = new Map<string, string | undefined>();
  /** The groups last written to each file: the same groups need no new text at all. */
  readonly #written = new Map<string, readonly PublishedGroup[]>();

  constructor({ directory, fileNames, onWrite = () => {} }: FileSdWriterOptions) {
    this.#directory = directory;
    this.#fileNames = fileNames;
    this.#onWrite = onWrite;
  }

  /** Writes every interval's file; throws OutputError naming the first file that failed. */
  async write(groups: GroupsByInterval): Promise<void> {
    for (const interval of INTERVALS) {
      const path = join(this.#directory, this.#fileNames[interval]);
      const written = this.#written.get(path);
      if (written !== undefined && sameGroups(written, groups[interval])) {
        this.#onWrite('unchanged');
        continue;
      }
      const digest = toDigest(toFileSdParts(groups[interval]));
      if (!this.#digests.has(path)) this.#digests.set(path, await readDigest(path));
      if (this.#digests.get(path) === digest) {
        this.#written.set(path, groups[interval]);
        this.#onWrite('unchanged');
        continue;
      }
      try {
        await writeAtomically(path, toChunks(toFileSdParts(groups[interval])));
      } catch (error) {
        this.#onWrite('error');
        throw error;
      }
      this.#digests.set(path, digest);
      this.#written.set(path, groups[interval]);
      this.#onWrite('written');
    }
  }
}
