import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, readdir, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { OutputError, describeError } from '../errors.js';

/**
 * Our temporary files: `.prometheus-ecs-discoverer-<pid>-<random>.tmp`, hidden from globs such as
 * `*.json`, and recognisable, so that a process can remove what a killed one left and nothing else.
 */
const TEMPORARY_FILE = /^\.prometheus-ecs-discoverer-\d+-[0-9a-f]+\.tmp$/;

export const temporaryFileName = (): string => `.prometheus-ecs-discoverer-${process.pid}-${randomBytes(6).toString('hex')}.tmp`;

export const isTemporaryFileName = (name: string): boolean => TEMPORARY_FILE.test(name);

/** What writeAtomically needs of an open file; fs.promises' FileHandle has it. */
export interface WritableFile {
  write(buffer: Uint8Array, offset: number, length: number): Promise<{ bytesWritten: number }>;
  chmod(mode: number): Promise<void>;
  sync(): Promise<void>;
  stat(): Promise<{ size: number }>;
  close(): Promise<void>;
}

export type OpenFile = (path: string, flags: number, mode: number) => Promise<WritableFile>;

export interface WriteAtomicallyOptions {
  /** @default fs.promises.open */
  open?: OpenFile;
  /**
   * Asked once every chunk is written: false leaves `path` as it is and removes the temporary
   * file (the content turned out to be what `path` holds). @default always true
   */
  replaces?: () => boolean;
}

/** Created, never opened: a planted file or link of that name fails the write instead of being followed. */
const CREATE_EXCLUSIVELY = constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY;
/** Whatever the umask: Prometheus, often another user in another container, must read the files. */
const FILE_MODE = 0o644;

/**
 * Replaces `path` with `chunks`, all or nothing (true when it did; see `replaces`): a temporary file created exclusively in the same
 * directory, every byte written (a short write is continued, a write that makes no progress is an
 * error), fsynced, its size checked, renamed over `path` (which replaces a symlink rather than
 * following it), then the directory fsynced so that the rename survives a crash. On any error the
 * temporary file is removed, `path` keeps its previous content, and an OutputError says why.
 */
export async function writeAtomically(
  path: string,
  chunks: Iterable<Uint8Array>,
  { open: openFile = open, replaces = () => true }: WriteAtomicallyOptions = {},
): Promise<boolean> {
  const directory = dirname(path);
  const temporary = join(directory, temporaryFileName());
  let file: WritableFile | undefined;
  let created = false;
  try {
    file = await openFile(temporary, CREATE_EXCLUSIVELY, FILE_MODE);
    created = true;
    await file.chmod(FILE_MODE);
    let total = 0;
    for (const chunk of chunks) {
      for (let offset = 0; offset < chunk.length; ) {
        const { bytesWritten } = await file.write(chunk, offset, chunk.length - offset);
        if (bytesWritten <= 0) throw new Error(`short write: ${total + offset} of the bytes written, then none`);
        offset += bytesWritten;
      }
      total += chunk.length;
    }
    if (!replaces()) {
      const closing = file;
      file = undefined;
      await closing.close();
      await unlink(temporary);
      created = false;
      return false;
    }
    await file.sync();
    const { size } = await file.stat();
    if (size !== total) throw new Error(`short write: ${size} of ${total} bytes on disk`);
    const closing = file;
    file = undefined;
    await closing.close();
    await rename(temporary, path);
    created = false;
    await syncDirectory(directory);
    return true;
  } catch (error) {
    await file?.close().catch(() => {});
    if (created) await unlink(temporary).catch(() => {});
    throw new OutputError(`cannot write ${path}: ${describeError(error)}`, { cause: error });
  }
}

async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Removes the temporary files that a killed process left in `directory`; returns their names. */
export async function removeTemporaryFiles(directory: string): Promise<string[]> {
  const leftovers = (await readdir(directory)).filter(isTemporaryFileName);
  for (const name of leftovers) await unlink(join(directory, name)).catch(ignoreMissing);
  return leftovers;
}

const ignoreMissing = (error: unknown) => {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
};
