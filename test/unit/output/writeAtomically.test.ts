import { constants } from 'node:fs';
import { lstat, mkdtemp, open, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OutputError } from '../../../src/errors.js';
import { isTemporaryFileName, removeTemporaryFiles, writeAtomically, type OpenFile, type WritableFile } from '../../../src/output/writeAtomically.js';

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'write-atomically-'));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

const chunks = (...texts: string[]) => texts.map((text) => Buffer.from(text));

/** fs.promises.open, with each opened file's write replaced. */
const openWith =
  (write: (real: WritableFile, buffer: Uint8Array, offset: number, length: number) => Promise<{ bytesWritten: number }>): OpenFile =>
  async (path, flags, mode) => {
    const real = await open(path, flags, mode);
    return {
      write: (buffer, offset, length) => write(real, buffer, offset, length),
      chmod: (fileMode) => real.chmod(fileMode),
      sync: () => real.sync(),
      stat: () => real.stat(),
      close: () => real.close(),
    };
  };

describe('writeAtomically', () => {
  it('writes every chunk, mode 0644, and leaves nothing else behind', async () => {
    const path = join(directory, 'tasks.json');

    await writeAtomically(path, chunks('[\n', '{"targets":[]}', '\n]\n'));

    expect(await readFile(path, 'utf8')).toBe('[\n{"targets":[]}\n]\n');
    expect((await lstat(path)).mode & 0o777).toBe(0o644);
    expect(await readdir(directory)).toEqual(['tasks.json']);
  });

  it('creates its temporary file exclusively, in the directory itself, under a name of ours', async () => {
    const opened: { path: string; flags: number; mode: number }[] = [];
    const recording: OpenFile = async (path, flags, mode) => {
      opened.push({ path, flags, mode });
      return open(path, flags, mode);
    };

    await writeAtomically(join(directory, 'tasks.json'), chunks('[]\n'), { open: recording });

    expect(opened).toHaveLength(1);
    const [{ path, flags, mode }] = opened as [(typeof opened)[number]];
    expect(dirname(path)).toBe(directory);
    expect(isTemporaryFileName(path.slice(directory.length + 1))).toBe(true);
    expect(flags & (constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY)).toBe(constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY);
    expect(mode).toBe(0o644);
  });

  it('continues a short write until every byte is written', async () => {
    const path = join(directory, 'tasks.json');
    const threeBytesAtATime = openWith((real, buffer, offset, length) => real.write(buffer, offset, Math.min(length, 3)));

    await writeAtomically(path, chunks('[\n{"a":1},\n', '{"b":2}\n]\n'), { open: threeBytesAtATime });

    expect(await readFile(path, 'utf8')).toBe('[\n{"a":1},\n{"b":2}\n]\n');
  });

  it('fails, keeps the previous file and removes its temporary file when a write stops making progress', async () => {
    const path = join(directory, 'tasks.json');
    await writeFile(path, '[]\n');
    let calls = 0;
    const stalls = openWith(async (real, buffer, offset) => (calls++ === 0 ? real.write(buffer, offset, 4) : { bytesWritten: 0 }));

    const failure = writeAtomically(path, chunks('[\n{"targets":["127.0.0.1:80"]}\n]\n'), { open: stalls });

    await expect(failure).rejects.toThrow(OutputError);
    await expect(failure).rejects.toThrow(`cannot write ${path}: short write`);
    expect(await readFile(path, 'utf8')).toBe('[]\n');
    expect(await readdir(directory)).toEqual(['tasks.json']);
  });

  it('fails when the file on disk is shorter than what was written, whatever write said', async () => {
    const path = join(directory, 'tasks.json');
    await writeFile(path, '[]\n');
    // A write that claims every byte and keeps only the first half.
    const lies = openWith(async (real, buffer, offset, length) => {
      await real.write(buffer, offset, Math.ceil(length / 2));
      return { bytesWritten: length };
    });

    await expect(writeAtomically(path, chunks('[\n{"targets":["127.0.0.1:80"]}\n]\n'), { open: lies })).rejects.toThrow(/short write: \d+ of 33 bytes on disk/);

    expect(await readFile(path, 'utf8')).toBe('[]\n');
    expect(await readdir(directory)).toEqual(['tasks.json']);
  });

  it('keeps the system error as the cause', async () => {
    const failing = openWith(async () => {
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    });

    const error = await writeAtomically(join(directory, 'tasks.json'), chunks('[]\n'), { open: failing }).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(OutputError);
    expect((error as OutputError).message).toMatch(/cannot write .*tasks\.json: ENOSPC/);
    expect(((error as OutputError).cause as NodeJS.ErrnoException).code).toBe('ENOSPC');
    expect(await readdir(directory)).toEqual([]);
  });

  it('replaces a symlink by a regular file and leaves its target alone', async () => {
    const outside = await mkdtemp(join(tmpdir(), 'write-atomically-outside-'));
    try {
      const victim = join(outside, 'victim');
      await writeFile(victim, 'precious\n');
      const path = join(directory, 'tasks.json');
      await symlink(victim, path);

      await writeAtomically(path, chunks('[]\n'));

      expect((await lstat(path)).isFile()).toBe(true);
      expect(await readFile(path, 'utf8')).toBe('[]\n');
      expect(await readFile(victim, 'utf8')).toBe('precious\n');
      expect(await readdir(outside)).toEqual(['victim']);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });
});

describe('removeTemporaryFiles', () => {
  it('removes our temporary files, and nothing else', async () => {
    const ours = ['.prometheus-ecs-discoverer-4242-0badc0de.tmp', '.prometheus-ecs-discoverer-1-abcdef012345.tmp'];
    const theirs = ['tasks.json', 'notes.tmp', '.prometheus-ecs-discoverer.lock', '.prometheus-ecs-discoverer-x-1.tmp', 'prometheus-ecs-discoverer-1-ab.tmp'];
    for (const name of [...ours, ...theirs]) await writeFile(join(directory, name), 'x');

    const removed = await removeTemporaryFiles(directory);

    expect(removed.sort()).toEqual([...ours].sort());
    expect((await readdir(directory)).sort()).toEqual([...theirs].sort());
  });
});
