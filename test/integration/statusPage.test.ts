import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeAws } from '../../src/fake/fakeAws.js';
import { edgeFleet } from '../support/edgeFleet.js';
import { RunningDiscoverer, assertBuilt, fakeAwsEnv, freePort } from '../support/runningDiscoverer.js';

let fake: FakeAws | undefined;
let running: RunningDiscoverer | undefined;
let outputDir: string | undefined;
afterEach(async () => {
  await running?.stop('SIGKILL');
  await fake?.stop();
  if (outputDir) await rm(outputDir, { recursive: true, force: true });
});

describe('the status page during a first round', () => {
  it('shows how the round goes while AWS holds it', async () => {
    assertBuilt();
    fake = new FakeAws(edgeFleet());
    // After the clusters are listed, AWS stops answering: the first round goes on, and on.
    fake.faults.oddAnswers.set('DescribeTasks', () => {
      if (fake) fake.faults.hang = true;
      return undefined;
    });
    await fake.start();
    outputDir = await mkdtemp(join(tmpdir(), 'discoverer-progress-'));
    const port = await freePort();
    running = new RunningDiscoverer(['--output-dir', outputDir, '--http-host', '127.0.0.1', '--http-port', String(port)], {
      ...fakeAwsEnv(fake.url),
      ECS_DISCOVERER_LOG_PROGRESS_EVERY: '1',
    });

    // The status page gets the figures no later than the progress line is logged.
    await running.waitFor(() => running?.lines.some((line) => line['msg'] === 'first round in progress' && line['clusters_listed'] === 3) ?? false, 'a progress line');
    const page = await (await fetch(`http://127.0.0.1:${port}/`)).text();

    expect(running.rounds()).toEqual([]);
    expect(page).toContain('<h2>First round in progress</h2>');
    expect(page).toMatch(/<progress max="3" value="\d"><\/progress>\n\d of 3 clusters read; [\d,]+ tasks? and [\d,]+ task definitions? described; [\d,]+ AWS API calls? \(\d+ throttled\)/);
    expect(page).toContain('No round has ended yet.');
  });
});

describe('the settings on the status page', () => {
  it('are those in force: after SIGHUP, the reloaded ones as read again, the others as at start', async () => {
    assertBuilt();
    fake = new FakeAws(edgeFleet());
    await fake.start();
    outputDir = await mkdtemp(join(tmpdir(), 'discoverer-settings-'));
    const configPath = join(outputDir, 'config.json');
    await writeFile(configPath, JSON.stringify({ marker: { name: 'PROMETHEUS' }, interval: 30 }));
    const port = await freePort();
    running = new RunningDiscoverer(['--config', configPath, '--output-dir', join(outputDir, 'targets'), '--http-host', '127.0.0.1', '--http-port', String(port)], fakeAwsEnv(fake.url));
    await running.waitForRounds(1);
    const page = async () => (await fetch(`http://127.0.0.1:${port}/`)).text();
    const before = await page();

    await writeFile(configPath, JSON.stringify({ marker: { name: 'SCRAPE_ME' }, interval: 45 }));
    process.kill(running.pid as number, 'SIGHUP');
    await running.waitFor(() => running?.lines.some((line) => line['msg'] === 'SIGHUP: settings read again') ?? false, 'the reload line');
    const after = await page();

    expect(before).toContain('<tr><td>marker.name</td><td>PROMETHEUS</td></tr>');
    expect(before).toContain('<tr><td>interval</td><td>30</td></tr>');
    expect(after).toContain('<tr><td>marker.name</td><td>SCRAPE_ME</td></tr>');
    // The interval needs a restart: still 30 in force.
    expect(after).toContain('<tr><td>interval</td><td>30</td></tr>');
  });
});
