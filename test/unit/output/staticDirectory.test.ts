import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger, type Logger } from '../../../src/log.js';
import { StaticDirectory, type StaticTargets } from '../../../src/output/staticDirectory.js';

let directory: string;
let directories: StaticDirectory[] = [];
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'static-targets-'));
});
afterEach(async () => {
  for (const opened of directories) opened.stop();
  directories = [];
  await rm(directory, { recursive: true, force: true });
});

function open(options: { onChange?: (targets: StaticTargets) => void; logger?: Logger } = {}): StaticDirectory {
  const opened = new StaticDirectory({ directory, logger: options.logger ?? silentLogger, ...(options.onChange && { onChange: options.onChange }) });
  directories.push(opened);
  return opened;
}

const targetsOf = (targets: StaticTargets) => targets.groups.flatMap((group) => (JSON.parse(group.json) as { targets: string[] }).targets);

describe('StaticDirectory', () => {
  it('reads *.json and *.yaml files, but none starting with _ or .', async () => {
    await writeFile(join(directory, 'rds.json'), '[{"targets":["127.0.0.1:9187"],"labels":{"job":"rds"}}]');
    await writeFile(join(directory, 'hosts.yaml'), '- targets: ["127.0.0.2:9100"]\n');
    await writeFile(join(directory, '_draft.json'), '[{"targets":["127.0.0.3:1"]}]');
    await writeFile(join(directory, '.hidden.json'), '[{"targets":["127.0.0.4:1"]}]');
    await writeFile(join(directory, 'notes.txt'), 'not targets');
    const opened = open();

    await opened.scan();

    expect(opened.current.files.map((file) => [file.name, file.error])).toEqual([
      ['hosts.yaml', undefined],
      ['rds.json', undefined],
    ]);
    expect(targetsOf(opened.current)).toEqual(['127.0.0.2:9100', '127.0.0.1:9187']);
  });

  it('keeps the last good groups of a file that turns bad, says why once, and leaves the others alone', async () => {
    const warnings: string[] = [];
    const logger: Logger = { ...silentLogger, warn: (message) => void warnings.push(message) };
    await writeFile(join(directory, 'a.json'), '[{"targets":["127.0.0.1:1"]}]');
    await writeFile(join(directory, 'b.json'), '[{"targets":["127.0.0.2:2"]}]');
    const opened = open({ logger });
    await opened.scan();

    await writeFile(join(directory, 'a.json'), '[{"targets":["not an address"]}]');
    await opened.scan();
    await opened.scan();

    expect(opened.current.files.map((file) => [file.name, file.error])).toEqual([
      ['a.json', 'group 1: target "not an address" is not host:port'],
      ['b.json', undefined],
    ]);
    expect(targetsOf(opened.current)).toEqual(['127.0.0.1:1', '127.0.0.2:2']);
    expect(warnings).toEqual(['static targets: a.json skipped: group 1: target "not an address" is not host:port; keeping its last good targets']);
  });

  it('drops the groups of a removed file, and tells of each change once', async () => {
    const changes: StaticTargets[] = [];
    await writeFile(join(directory, 'a.json'), '[{"targets":["127.0.0.1:1"]}]');
    const opened = open({ onChange: (targets) => changes.push(targets) });
    await opened.scan();
    await opened.scan();
    await rm(join(directory, 'a.json'));
    await opened.scan();

    expect(changes.map(targetsOf)).toEqual([['127.0.0.1:1'], []]);
  });

  it('does not follow a link', async () => {
    const elsewhere = join(tmpdir(), `static-link-target-${process.pid}.json`);
    await writeFile(elsewhere, '[{"targets":["127.0.0.1:1"]}]');
    await symlink(elsewhere, join(directory, 'linked.json'));
    const opened = open();
    await opened.scan();
    await rm(elsewhere);

    expect(opened.current.files.map((file) => [file.name, file.error])).toEqual([['linked.json', 'not a regular file']]);
    expect(opened.current.groups).toEqual([]);
  });

  it('sees a file dropped into the directory by itself, once started', async () => {
    const changed = new Promise<StaticTargets>((resolve) => {
      const watching = open({ onChange: resolve });
      void watching.start().then(() => writeFile(join(directory, 'new.json'), '[{"targets":["127.0.0.5:5"]}]'));
    });

    expect(targetsOf(await changed)).toEqual(['127.0.0.5:5']);
  });

  it('writes and removes <name>.json for the targets API, atomically, and reads it back', async () => {
    const opened = open();
    await opened.write('rds', [{ targets: ['127.0.0.1:9187'], labels: { job: 'rds' } }]);

    expect(await opened.read('rds')).toEqual([{ targets: ['127.0.0.1:9187'], labels: { job: 'rds' } }]);
    expect(targetsOf(opened.current)).toEqual(['127.0.0.1:9187']);
    expect(await opened.remove('rds')).toBe(true);
    expect(await opened.remove('rds')).toBe(false);
    expect(await opened.read('rds')).toBeUndefined();
    expect(opened.current.groups).toEqual([]);
  });
});
