import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { INTERVALS, type IntervalName } from '../discovery/endpoints.js';
import { toFileSdJson, type GroupsByInterval, type PublishedGroup } from '../discovery/targetGroups.js';
import { OutputError, describeError } from '../errors.js';

export interface FileSdWriterOptions {
  directory: string;
  fileNames: Readonly<Record<IntervalName, string>>;
  /** Called once per file and write attempt. */
  onWrite?: (outcome: 'written' | 'unchanged' | 'error') => void;
}

/** Groups are immutable once published: the same objects in the same order mean the same text. */
const sameGroups = (a: readonly PublishedGroup[], b: readonly PublishedGroup[]) =>
  a.length === b.length && a.every((group, index) => group === b[index] || group.json === b[index]?.json);

/** Files of 10,000 targets are megabytes: only a digest of the last content is kept. */
const toDigest = (content: Buffer): string => createHash('sha256').update(content).digest('base64');

/**
 * Writes the file_sd files: each atomically (temporary file in the same directory, fsync,
 * rename), and only when its content changed, so Prometheus re-reads nothing needlessly.
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
      // One UTF-8 copy, for both the digest and the write: files of 10,000 targets are megabytes.
      const content = Buffer.from(toFileSdJson(groups[interval]));
      const digest = toDigest(content);
      if (!this.#digests.has(path)) {
        this.#digests.set(path, await readFile(path).then(toDigest, () => undefined));
      }
      if (this.#digests.get(path) === digest) {
        this.#written.set(path, groups[interval]);
        this.#onWrite('unchanged');
        continue;
      }
      try {
        await writeFileAtomic(path, content, { fsync: true });
      } catch (error) {
        this.#onWrite('error');
        throw new OutputError(`cannot write ${path}: ${describeError(error)}`, { cause: error });
      }
      this.#digests.set(path, digest);
      this.#written.set(path, groups[interval]);
      this.#onWrite('written');
    }
  }
}
