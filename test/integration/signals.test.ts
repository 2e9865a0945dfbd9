import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashSync } from 'bcryptjs';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TargetGroup } from '../../src/discovery/targetGroups.js';
import { FakeAws } from '../../src/fake/fakeAws.js';
import { edgeFleet } from '../support/edgeFleet.js';
import { RunningDiscoverer, assertBuilt, fakeAwsEnv, freePort } from '../support/runningDiscoverer.js';

/** Signals: SIGHUP re-reads the --config file; SIGUSR1 and SIGUSR2 neither stop the process nor open an inspector. */

let fake: FakeAws;
let workDir: string;
let outputDir: string;
let configPath: string;
let running: RunningDiscoverer | undefined;

async function clustersInFiles(): Promise<string[]> {
  const clusters = new Set<string>();
  for (const file of (await readdir(outputDir)).filter((name) => !name.startsWith('.'))) {
    for (const group of JSON.parse(await readFile(join(outputDir, file), 'utf8')) as TargetGroup[]) clusters.add(group.labels['__meta_ecs_cluster'] ?? '');
  }
  return [...clusters].sort();
}
const messages = () => running?.lines.map((line) => String(line['msg'])) ?? [];

beforeAll(() => {
  assertBuilt();
});
beforeEach(async () => {
  fake = new FakeAws(edgeFleet());
  await fake.start();
  workDir = await mkdtemp(join(tmpdir(), 'discoverer-signals-'));
  outputDir = join(workDir, 'targets');
  configPath = join(workDir, 'settings.json');
  // HTTP off (port 0): the default port 8080 may be another test's.
  await writeFile(configPath, JSON.stringify({ clusters: { names: ['prod', 'batch'] }, http: { port: 0 } }));
  running = new RunningDiscoverer(['--interval', '1', '--config', configPath, '--output-dir', outputDir], fakeAwsEnv(fake.url));
});
afterEach(async () => {
  await running?.stop('SIGKILL');
  running = undefined;
  await fake.stop();
  await rm(workDir, { recursive: true, force: true });
});

describe('signals', () => {
  it('re-reads the --config file on SIGHUP, applies the cluster selection, and names what needs a restart', async () => {
    const discoverer = running as RunningDiscoverer;
    await discoverer.waitForRounds(1);
    expect(await clustersInFiles()).toEqual(['batch', 'prod']);

    await writeFile(configPath, JSON.stringify({ clusters: { names: ['prod'] }, http: { port: 8181 } }));
    process.kill(discoverer.pid as number, 'SIGHUP');
    await discoverer.waitFor(() => messages().includes('SIGHUP: settings read again'), 'the reload line');
    const reload = discoverer.lines.find((line) => line['msg'] === 'SIGHUP: settings read again');
    const roundsAtReload = discoverer.rounds().length;
    await discoverer.waitForRounds(roundsAtReload + 2);

    expect(reload).toMatchObject({ applied: 'clusters.names', need_restart: 'http.port' });
    expect(await clustersInFiles()).toEqual(['prod']);
  });

  it('keeps its settings, and says why, when the new --config file does not load', async () => {
    const discoverer = running as RunningDiscoverer;
    await discoverer.waitForRounds(1);

    await writeFile(configPath, '{ not json');
    process.kill(discoverer.pid as number, 'SIGHUP');
    await discoverer.waitFor(() => messages().includes('SIGHUP: the settings did not load; keeping the current ones'), 'the error line');
    const rounds = discoverer.rounds().length;
    await discoverer.waitForRounds(rounds + 1);

    const error = discoverer.lines.find((line) => line['msg'] === 'SIGHUP: the settings did not load; keeping the current ones');
    expect(String(error?.['error'])).toContain('not valid JSON');
    expect(await clustersInFiles()).toEqual(['batch', 'prod']);
  });

  it('goes on, with a log line, after SIGUSR1 and SIGUSR2', async () => {
    const discoverer = running as RunningDiscoverer;
    await discoverer.waitForRounds(1);

    process.kill(discoverer.pid as number, 'SIGUSR1');
    process.kill(discoverer.pid as number, 'SIGUSR2');
    await discoverer.waitFor(() => messages().includes('SIGUSR1 ignored') && messages().includes('SIGUSR2 ignored'), 'both log lines');
    const rounds = discoverer.rounds().length;
    await discoverer.waitForRounds(rounds + 1);

    expect(discoverer.stderr).not.toContain('Debugger listening');
    expect(await discoverer.stop('SIGTERM')).toBe(0);
  });
});

describe('SIGTERM with an HTTP request in flight', () => {
  it('lets the request finish before it exits: a PUT of static targets whose body arrives after the signal is stored and answered', async () => {
    const discoverer = running as RunningDiscoverer;
    await discoverer.stop('SIGKILL');
    const staticDir = join(workDir, 'static');
    const webConfig = join(workDir, 'web.yml');
    await mkdir(staticDir);
    await writeFile(webConfig, `basic_auth_users:\n  alice: ${hashSync('correct horse', 4)}\n`);
    const port = await freePort();
    running = new RunningDiscoverer(
      ['--interval', '1', '--config', configPath, '--output-dir', outputDir, '--static-dir', staticDir, '--web.config.file', webConfig, '--http-host', '127.0.0.1', '--http-port', String(port)],
      fakeAwsEnv(fake.url),
    );
    const serving = running;
    await serving.waitForRounds(1);

    // Expect: 100-continue: the "100 Continue" says the server has read the headers and is waiting for the body.
    const body = JSON.stringify([{ targets: ['127.0.0.9:9100'], labels: { job: 'lab' } }]);
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    const ended = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.write(
      [
        'PUT /api/v1/static/lab HTTP/1.1',
        'host: 127.0.0.1',
        `authorization: Basic ${Buffer.from('alice:correct horse').toString('base64')}`,
        'content-type: application/json',
        `content-length: ${Buffer.byteLength(body)}`,
        'expect: 100-continue',
        '',
        '',
      ].join('\r\n'),
    );
    await serving.waitFor(() => answer.includes('100 Continue'), 'the 100 Continue');
    process.kill(serving.pid as number, 'SIGTERM');
    await serving.waitFor(() => messages().includes('waiting for HTTP requests in flight'), 'the waiting line');
    socket.write(body);
    await ended;

    expect(answer).toMatch(/\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
    expect(await serving.exited).toBe(0);
    expect(serving.lines.find((line) => line['msg'] === 'waiting for HTTP requests in flight')).toMatchObject({ requests: 1 });
    expect(messages()).not.toContain('HTTP requests still in flight were cut');
    expect(JSON.parse(await readFile(join(staticDir, 'lab.json'), 'utf8'))).toEqual([{ targets: ['127.0.0.9:9100'], labels: { job: 'lab' } }]);
  });
});
