import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { INTERVALS, type IntervalName } from '../discovery/endpoints.js';
import { toFileSdJson, type GroupsByInterval } from '../discovery/targetGroups.js';
import { OutputError, describeError } from '../errors.js';

export interface FileSdWriterOptions {
  directory: string;
  fileNames: Readonly<Record<IntervalName, string>>;
  /** Called once per file and write attempt. */
  onWrite?: (outcome: 'written' | 'unchanged' | 'error') => void;
}

/**
 * Writes the file_sd files: each atomically (temporary file in the same directory, fsync,
 * rename), and only when its content changed, so Prometheus re-reads nothing needlessly.
 */
export class FileSdWriter {
  readonly #directory: string;
  readonly #fileNames: Readonly<Record<IntervalName, string>>;
  readonly #onWrite: (outcome: 'written' | 'unchanged' | 'error') => void;
  /** What each file holds, as far as we know; filled from disk on first use. */
  readonly #contents = new Map<string, string | undefined>();

  constructor({ directory, fileNames, onWrite = () => {} }: FileSdWriterOptions) {
    this.#directory = directory;
    this.#fileNames = fileNames;
    this.#onWrite = onWrite;
  }

  /** Writes every interval's file; throws OutputError naming the first file that failed. */
  async write(groups: GroupsByInterval): Promise<void> {
    for (const interval of INTERVALS) {
      const path = join(this.#directory, this.#fileNames[interval]);
      const content = toFileSdJson(groups[interval]);
      if (!this.#contents.has(path)) this.#contents.set(path, await readFile(path, 'utf8').catch(() => undefined));
      if (this.#contents.get(path) === content) {
        this.#onWrite('unchanged');
        continue;
      }
      try {
        await writeFileAtomic(path, content, { fsync: true });
      } catch (error) {
        this.#onWrite('error');
        // The file keeps its previous content; forget what we believed it held.
        this.#contents.delete(path);
        throw new OutputError(`cannot write ${path}: ${describeError(error)}`, { cause: error });
      }
      this.#contents.set(path, content);
      this.#onWrite('written');
    }
  }
}
