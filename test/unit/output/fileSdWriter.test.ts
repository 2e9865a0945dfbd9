import { lstat, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toFileSdJson, toGroupsByInterval, toPublishedGroup, type GroupsByInterval } from '../../../src/discovery/targetGroups.js';
import { FileSdWriter } from '../../../src/output/fileSdWriter.js';

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

let directory: string;
/** Outside the output directory: where planted links point. */
let outside: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'file-sd-writer-'));
  outside = await mkdtemp(join(tmpdir(), 'file-sd-writer-outside-'));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

describe('FileSdWriter', () => {
  it('writes the five files, [] for empty intervals', async () => {
    const writer = new FileSdWriter({ directory, fileNames });

    await writer.write(oneGroup());

    expect((await readdir(directory)).sort()).toEqual(Object.values(fileNames).sort());
    expect(await readFile(join(directory, 'tasks.json'), 'utf8')).toBe('[]\n');
    expect(JSON.parse(await readFile(join(directory, '1m-tasks.json'), 'utf8'))).toEqual([
      { targets: ['127.0.0.1:9100'], labels: { instance: '127.0.0.1:9100', job: 'node' } },
    ]);
  });

  it('does not rewrite a file whose content has not changed', async () => {
    const outcomes: string[] = [];
    const writer = new FileSdWriter({ directory, fileNames, onWrite: (outcome) => outcomes.push(outcome) });
    await writer.write(oneGroup());
    const before = await stat(join(directory, '1m-tasks.json'));
    outcomes.length = 0;

    await writer.write(oneGroup());

    expect(outcomes).toEqual(['unchanged', 'unchanged', 'unchanged', 'unchanged', 'unchanged']);
    expect((await stat(join(directory, '1m-tasks.json'))).ino).toBe(before.ino);
  });

  it('does not rewrite files that an earlier process left with the same content', async () => {
    await new FileSdWriter({ directory, fileNames }).write(oneGroup());
    const outcomes: string[] = [];

    await new FileSdWriter({ directory, fileNames, onWrite: (outcome) => outcomes.push(outcome) }).write(oneGroup());

    expect(outcomes.every((outcome) => outcome === 'unchanged')).toBe(true);
  });

  it('replaces a file atomically: a new inode, never a half-written one', async () => {
    const writer = new FileSdWriter({ directory, fileNames });
    await writer.write(noGroups());
    const before = await stat(join(directory, '1m-tasks.json'));

    await writer.write(oneGroup());

    expect((await stat(join(directory, '1m-tasks.json'))).ino).not.toBe(before.ino);
  });

  it('fails with the path in the message, and leaves no temporary file, when a file cannot be replaced', async () => {
    const writer = new FileSdWriter({ directory, fileNames: { ...fileNames, '1m': 'blocked' } });
    // A directory where the file should be: the rename fails, even for root.
    await mkdir(join(directory, 'blocked'));

    await expect(writer.write(oneGroup())).rejects.toThrow(`cannot write ${join(directory, 'blocked')}`);

    expect((await readdir(directory)).sort()).toEqual(['15s-tasks.json', '30s-tasks.json', 'blocked']);
  });

  it('replaces a symlinked file by a regular one, never writing the link target', async () => {
    const victim = join(outside, 'victim.json');
    await writeFile(victim, 'precious\n');
    await symlink(victim, join(directory, '1m-tasks.json'));

    await new FileSdWriter({ directory, fileNames }).write(oneGroup());

    expect((await lstat(join(directory, '1m-tasks.json'))).isFile()).toBe(true);
    expect(await readFile(victim, 'utf8')).toBe('precious\n');
  });

  it('replaces a symlink even when its target holds the very content to write: the target is never read', async () => {
    const victim = join(outside, 'victim.json');
    await writeFile(victim, '[]\n');
    await symlink(victim, join(directory, 'tasks.json'));
    const outcomes: string[] = [];

    await new FileSdWriter({ directory, fileNames, onWrite: (outcome) => outcomes.push(outcome) }).write(noGroups());

    expect((await lstat(join(directory, 'tasks.json'))).isFile()).toBe(true);
    expect(outcomes.filter((outcome) => outcome === 'written')).toHaveLength(5);
  });

  it('writes files larger than one chunk byte for byte', async () => {
    const many = Array.from({ length: 2000 }, (_, index) =>
      toPublishedGroup({ interval: '30s', cluster: 'prod', address: `127.0.${index >> 8}.${index & 255}:9100`, labels: { job: 'node', team: 'x'.repeat(50) } }),
    );
    const groups = { ...noGroups(), '30s': toGroupsByInterval(many)['30s'] };

    await new FileSdWriter({ directory, fileNames }).write(groups);

    const content = await readFile(join(directory, '30s-tasks.json'), 'utf8');
    expect(content.length).toBeGreaterThan(3 * 64 * 1024);
    expect(content).toBe(toFileSdJson(groups['30s']));
  });
});
