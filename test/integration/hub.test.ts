import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeAws } from '../../src/fake/fakeAws.js';
import { addDefinition, addTask, emptyFleet, makeTaskDefinition } from '../../src/fake/fleet.js';
import { RunningDiscoverer, assertBuilt, fakeAwsEnv, freePort, runCli } from '../support/runningDiscoverer.js';

/** The hub against the fake: static targets beside the ECS ones, selections, shards in check. */

let fake: FakeAws;
let workDir: string;
let staticDir: string;
let discoverer: RunningDiscoverer | undefined;

beforeEach(async () => {
  assertBuilt();
  const fleet = emptyFleet();
  const api = addDefinition(
    fleet,
    makeTaskDefinition('api', 1, 'awsvpc', [{ name: 'api', environment: { PROMETHEUS: 'true', PROMETHEUS_LABEL_team: 'payments' }, portMappings: [{ containerPort: 9100 }] }]),
  );
  for (let index = 0; index < 6; index++) {
    addTask(fleet, { cluster: 'web', id: `api${index}`, definition: api, launchType: 'FARGATE', eniIp: `127.0.70.${index + 1}`, containers: [{ name: 'api' }] });
  }
  fake = new FakeAws(fleet);
  await fake.start();
  workDir = await mkdtemp(join(tmpdir(), 'discoverer-hub-'));
  staticDir = join(workDir, 'static');
  await mkdir(staticDir);
});
afterEach(async () => {
  await discoverer?.stop('SIGKILL');
  discoverer = undefined;
  await fake.stop();
  await rm(workDir, { recursive: true, force: true });
});

interface Served {
  targets: string[];
  labels: Record<string, string>;
}

describe('static targets', () => {
  it('serves a file dropped into the directory, in /targets and in the files; a broken one is reported and disturbs nothing', async () => {
    const port = await freePort();
    const outputDir = join(workDir, 'targets');
    discoverer = new RunningDiscoverer(
      ['--interval', '60', '--output-dir', outputDir, '--http-host', '127.0.0.1', '--http-port', String(port), '--static-dir', staticDir],
      fakeAwsEnv(fake.url),
    );
    await discoverer.waitForRounds(1);
    const base = `http://127.0.0.1:${port}`;
    const served = async () => (await (await fetch(`${base}/targets`)).json()) as Served[];
    const running = discoverer;

    // No round comes for a minute: what follows is the directory watch at work.
    // Written under a name the watch ignores, then renamed: the watch never sees it half written.
    await writeFile(join(staticDir, '.rds.yaml'), '- targets: ["127.0.0.9:9187"]\n  labels:\n    job: rds\n');
    await rename(join(staticDir, '.rds.yaml'), join(staticDir, 'rds.yaml'));
    await running.waitFor(() => running.lines.some((line) => line['msg'] === 'static targets changed'), 'the static targets to be published');
    const withRds = await served();
    const generic = JSON.parse(await readFile(join(outputDir, 'tasks.json'), 'utf8')) as Served[];

    await writeFile(join(staticDir, 'broken.json'), '[{"targets":["no port here"]}]');
    await running.waitFor(() => running.lines.some((line) => String(line['msg']).startsWith('static targets: broken.json skipped')), 'the broken file to be reported');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    const afterBroken = await served();

    expect(withRds).toContainEqual({ targets: ['127.0.0.9:9187'], labels: { __meta_static_file: 'rds.yaml', job: 'rds' } });
    expect(withRds.filter((group) => group.labels['job'] === 'api')).toHaveLength(6);
    expect(generic).toContainEqual({ targets: ['127.0.0.9:9187'], labels: { __meta_static_file: 'rds.yaml', job: 'rds' } });
    expect(afterBroken).toEqual(withRds);
    expect(metrics).toContain('ecs_discoverer_static_files{state="error"} 1');
    expect(metrics).toContain('ecs_discoverer_static_files{state="ok"} 1');
  });

  it('serves named selections from the settings', async () => {
    const port = await freePort();
    discoverer = new RunningDiscoverer(
      ['--output-dir', join(workDir, 'targets'), '--http-host', '127.0.0.1', '--http-port', String(port), '--selections', '{"payments":"team=\\"payments\\"","none":"team=\\"x\\""}'],
      fakeAwsEnv(fake.url),
    );
    await discoverer.waitForRounds(1);
    const base = `http://127.0.0.1:${port}`;

    const payments = (await (await fetch(`${base}/targets/payments`)).json()) as Served[];
    const none = await fetch(`${base}/targets/none`);
    const unknown = await fetch(`${base}/targets/other`);

    expect(payments).toHaveLength(6);
    expect([none.status, await none.text()]).toEqual([200, '[]']);
    expect(unknown.status).toBe(404);
  });

  it('refuses a selection that does not parse, naming the setting (exit 2)', async () => {
    const result = await runCli(['--once', '--selections', '{"payments":"team=~(("}'], fakeAwsEnv(fake.url));

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('selections (--selections, ECS_DISCOVERER_SELECTIONS): selection "payments": selector "team=~((":');
  });
});

describe('check with the hub', () => {
  it('validates the static directory for CI: a bad file fails it, naming the file', async () => {
    await writeFile(join(staticDir, 'good.json'), '[{"targets":["127.0.0.9:9187"]}]');
    const good = await runCli(['check', '--static-dir', staticDir], fakeAwsEnv(fake.url));
    await writeFile(join(staticDir, 'bad.yaml'), '- targets: ["127.0.0.9:9187", "127.0.0.9:9187"]\n');
    const bad = await runCli(['check', '--static-dir', staticDir], fakeAwsEnv(fake.url));

    expect(good.code).toBe(0);
    expect(good.stdout).toContain('good.json: 1 groups, 1 targets');
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('problem: static targets file bad.yaml: group 1: target 127.0.0.9:9187 is listed twice');
  });

  it('counts the targets per shard with --shards, in text and in the documented JSON shape', async () => {
    await writeFile(join(staticDir, 'hosts.json'), '[{"targets":["127.0.0.9:9100","127.0.0.10:9100"]}]');
    const text = await runCli(['check', '--static-dir', staticDir, '--shards', '2'], fakeAwsEnv(fake.url));
    const json = await runCli(['check', '--json', '--static-dir', staticDir, '--shards', '2'], fakeAwsEnv(fake.url));
    const report = JSON.parse(json.stdout) as { shards: { count: number; targets: number[] } };
    const schema = JSON.parse(await readFile(new URL('../../examples/check-report.schema.json', import.meta.url), 'utf8')) as object;
    const validate = new Ajv({ allErrors: true }).compile(schema);

    expect(text.stdout).toMatch(/targets per shard of 2: 0: \d+, 1: \d+/);
    expect(report.shards.count).toBe(2);
    expect(report.shards.targets.reduce((sum, count) => sum + count, 0)).toBe(8);
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
  });

  it('refuses --shards that is not a count', async () => {
    const result = await runCli(['check', '--shards', '0'], fakeAwsEnv(fake.url));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('option --shards "0": expected a number of shards from 1 to 1000');
  });
});
