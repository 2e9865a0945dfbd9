import { lstat, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toFileSdJson, toGroupsByInterval, toPublishedGroup, type GroupsByInterval } from '../../../src/discovery/targetGroups.js';
import type { Logger } from '../../../src/log.js';
import { FileSdWriter, type FileSdWriterOptions } from '../../../src/output/fileSdWriter.js';

const fileNames = {
  generic: 'tasks.json',
  '15s': '15s-tasks.json',
  '30s': '30s-tasks.json',
  '1m': '1m-tasks.json',
  '5m': '5m-tasks.json',
};

const noGroups = (): GroupsByInterval => ({ generic: [], '15s': [], '30s': [], '1m': [], '5m': [] });
const oneGroup = (): GroupsByInterval => ({
  ...noGroups(),
  '1m': [toPublishedGroup({ interval: '1m', cluster: 'prod', address: '127.0.0.1:9100', labels: { instance: '127.0.0.1:9100', job: 'node' } })],
});

/** Warnings, as `message file`. */
let warnings: string[];
const logger: Logger = {
  debug() {},
  info() {},
  warn: (message, fields) => warnings.push(`${message} ${String(fields?.['file'] ?? fields?.['output_dir'])}`),
  error() {},
};
const createWriter = (options: Partial<FileSdWriterOptions> = {}) => new FileSdWriter({ directory, fileNames, logger, ...options });

let directory: string;
/** Outside the output directory: where planted links point. */
let outside: string;
beforeEach(async () => {
  warnings = [];
  directory = await mkdtemp(join(tmpdir(), 'file-sd-writer-'));
  outside = await mkdtemp(join(tmpdir(), 'file-sd-writer-outside-'));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

describe('FileSdWriter', () => {
  it('writes the five files, [] for empty intervals', async () => {
    const writer = createWriter();

    await writer.write(oneGroup());

    expect((await readdir(directory)).sort()).toEqual(Object.values(fileNames).sort());
    expect(await readFile(join(directory, 'tasks.json'), 'utf8')).toBe('[]\n');
    expect(JSON.parse(await readFile(join(directory, '1m-tasks.json'), 'utf8'))).toEqual([
      { targets: ['127.0.0.1:9100'], labels: { instance: '127.0.0.1:9100', job: 'node' } },
    ]);
  });

  it('does not rewrite a file whose content has not changed', async () => {
    const outcomes: string[] = [];
    const writer = createWriter({ onWrite: (outcome) => outcomes.push(outcome) });
    await writer.write(oneGroup());
    const before = await stat(join(directory, '1m-tasks.json'));
    outcomes.length = 0;

    await writer.write(oneGroup());

    expect(outcomes).toEqual(['unchanged', 'unchanged', 'unchanged', 'unchanged', 'unchanged']);
    expect((await stat(join(directory, '1m-tasks.json'))).ino).toBe(before.ino);
  });

  it('does not rewrite files that an earlier process left with the same content', async () => {
    await createWriter().write(oneGroup());
    const outcomes: string[] = [];

    await createWriter({ onWrite: (outcome) => outcomes.push(outcome) }).write(oneGroup());

    expect(outcomes.every((outcome) => outcome === 'unchanged')).toBe(true);
  });

  it('replaces a file atomically: a new inode, never a half-written one', async () => {
    const writer = createWriter();
    await writer.write(noGroups());
    const before = await stat(join(directory, '1m-tasks.json'));

    await writer.write(oneGroup());

    expect((await stat(join(directory, '1m-tasks.json'))).ino).not.toBe(before.ino);
  });

  it('fails with the path in the message, and leaves no temporary file, when a file cannot be replaced', async () => {
    const writer = createWriter({ fileNames: { ...fileNames, '1m': 'blocked' } });
    // A directory where the file should be: the rename fails, even for root.
    await mkdir(join(directory, 'blocked'));

    await expect(writer.write(oneGroup())).rejects.toThrow(`cannot write ${join(directory, 'blocked')}`);

    expect((await readdir(directory)).sort()).toEqual(['15s-tasks.json', '30s-tasks.json', 'blocked']);
  });

  it('replaces a symlinked file by a regular one, never writing the link target', async () => {
    const victim = join(outside, 'victim.json');
    await writeFile(victim, 'precious\n');
    await symlink(victim, join(directory, '1m-tasks.json'));

    await createWriter().write(oneGroup());

    expect((await lstat(join(directory, '1m-tasks.json'))).isFile()).toBe(true);
    expect(await readFile(victim, 'utf8')).toBe('precious\n');
    expect(warnings).toEqual([`target file is a symbolic link (never followed); rewriting it ${join(directory, '1m-tasks.json')}`]);
  });

  it('replaces a symlink even when its target holds the very content to write: the target is never read', async () => {
    const victim = join(outside, 'victim.json');
    await writeFile(victim, '[]\n');
    await symlink(victim, join(directory, 'tasks.json'));
    const outcomes: string[] = [];

    await createWriter({ onWrite: (outcome) => outcomes.push(outcome) }).write(noGroups());

    expect((await lstat(join(directory, 'tasks.json'))).isFile()).toBe(true);
    expect(outcomes.sort()).toEqual(['repaired', 'written', 'written', 'written', 'written']);
  });

  it('writes files larger than one chunk byte for byte', async () => {
    const many = Array.from({ length: 2000 }, (_, index) =>
      toPublishedGroup({ interval: '30s', cluster: 'prod', address: `127.0.${index >> 8}.${index & 255}:9100`, labels: { job: 'node', team: 'x'.repeat(50) } }),
    );
    const groups = { ...noGroups(), '30s': toGroupsByInterval(many)['30s'] };

    await createWriter().write(groups);

    const content = await readFile(join(directory, '30s-tasks.json'), 'utf8');
    expect(content.length).toBeGreaterThan(3 * 64 * 1024);
    expect(content).toBe(toFileSdJson(groups['30s']));
  });

  describe('each round, what is on disk', () => {
    const path = () => join(directory, '1m-tasks.json');

    it('rewrites a file that vanished, with a warning', async () => {
      const writer = createWriter();
      await writer.write(oneGroup());
      await rm(path());

      await writer.write(oneGroup());

      expect(await readFile(path(), 'utf8')).toBe(toFileSdJson(oneGroup()['1m']));
      expect(warnings).toEqual([`target file vanished; rewriting it ${path()}`]);
    });

    it('rewrites a file that something else altered, with a warning', async () => {
      const writer = createWriter();
      await writer.write(oneGroup());
      await writeFile(path(), 'garbage');

      await writer.write(oneGroup());

      expect(await readFile(path(), 'utf8')).toBe(toFileSdJson(oneGroup()['1m']));
      expect(warnings).toEqual([`target file was changed by another writer; rewriting it ${path()}`]);
    });

    it('rewrites a file replaced by a link, and never writes the link target', async () => {
      const writer = createWriter();
      await writer.write(oneGroup());
      const victim = join(outside, 'victim.json');
      await writeFile(victim, toFileSdJson(oneGroup()['1m']));
      await rm(path());
      await symlink(victim, path());

      await writer.write(oneGroup());

      expect((await lstat(path())).isFile()).toBe(true);
      expect(warnings).toEqual([`target file is a symbolic link (never followed); rewriting it ${path()}`]);
    });

    it('recreates a directory that vanished, and every file in it', async () => {
      const writer = createWriter();
      await writer.write(oneGroup());
      await rm(directory, { recursive: true });

      await writer.write(oneGroup());

      expect((await readdir(directory)).sort()).toEqual(Object.values(fileNames).sort());
      expect(warnings[0]).toBe(`output directory vanished; recreating it ${directory}`);
      expect(warnings.slice(1).sort()).toEqual(Object.values(fileNames).map((name) => `target file vanished; rewriting it ${join(directory, name)}`).sort());
    });

    it('counts the rewrite of a file that vanished, was altered or replaced by a link as repaired, not written', async () => {
      const outcomes: string[] = [];
      const writer = createWriter({ onWrite: (outcome) => outcomes.push(outcome) });
      await writer.write(oneGroup());
      await rm(path());
      await writeFile(join(directory, 'tasks.json'), 'garbage');
      await rm(join(directory, '15s-tasks.json'));
      await symlink(join(outside, 'victim.json'), join(directory, '15s-tasks.json'));
      outcomes.length = 0;

      await writer.write(oneGroup());

      expect(outcomes.sort()).toEqual(['repaired', 'repaired', 'repaired', 'unchanged', 'unchanged']);
    });

    it('counts a change of targets as written, and the files of a recreated directory as repaired', async () => {
      const outcomes: string[] = [];
      const writer = createWriter({ onWrite: (outcome) => outcomes.push(outcome) });
      await writer.write(noGroups());
      outcomes.length = 0;
      await writer.write(oneGroup());
      const afterChange = [...outcomes];
      outcomes.length = 0;
      await rm(directory, { recursive: true });

      await writer.write(oneGroup());

      expect(afterChange.sort()).toEqual(['unchanged', 'unchanged', 'unchanged', 'unchanged', 'written']);
      expect(outcomes).toEqual(['repaired', 'repaired', 'repaired', 'repaired', 'repaired']);
    });

    it('neither rewrites nor warns when a file was only touched, or rewritten with the same content', async () => {
      const outcomes: string[] = [];
      const writer = createWriter({ onWrite: (outcome) => outcomes.push(outcome) });
      await writer.write(oneGroup());
      await utimes(path(), new Date(2020, 0, 1), new Date(2020, 0, 1));
      await writeFile(join(directory, 'tasks.json'), '[]\n');
      outcomes.length = 0;

      await writer.write(oneGroup());

      expect(outcomes.every((outcome) => outcome === 'unchanged')).toBe(true);
      expect(warnings).toEqual([]);
    });

    it('does not warn of files that an earlier process left with other content: it updates them', async () => {
      await writeFile(path(), '[]\n');

      await createWriter().write(oneGroup());

      expect(await readFile(path(), 'utf8')).toBe(toFileSdJson(oneGroup()['1m']));
      expect(warnings).toEqual([]);
    });

    it('fails the write, keeping the warning, when a file cannot be restored', async () => {
      const writer = createWriter();
      await writer.write(oneGroup());
      await rm(path());
      await mkdir(path());

      await expect(writer.write(oneGroup())).rejects.toThrow(`cannot write ${path()}`);

      expect(warnings).toEqual([`target file is not a regular file; rewriting it ${path()}`]);
    });
  });
});
