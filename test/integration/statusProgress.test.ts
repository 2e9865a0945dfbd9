import { mkdtemp, rm } from 'node:fs/promises';
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
