import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RunningDiscoverer, assertBuilt, freePort } from '../support/runningDiscoverer.js';

interface Group {
  targets: string[];
  labels: Record<string, string>;
}

let demo: RunningDiscoverer | undefined;
afterEach(async () => {
  await demo?.stop('SIGKILL');
  demo = undefined;
});

describe('prometheus-ecs-discoverer demo', () => {
  it('serves a fake fleet with no AWS at all, shows it moving, and cleans up on Ctrl-C', async () => {
    assertBuilt();
    const port = await freePort();
    // AWS settings that would fail if they were used: the demo must not use them.
    const env = {
      PATH: process.env['PATH'],
      HOME: process.env['HOME'],
      TMPDIR: process.env['TMPDIR'],
      AWS_PROFILE: 'no-such-profile',
      AWS_REGION: 'us-east-2',
      AWS_ENDPOINT_URL_ECS: 'http://127.0.0.1:9',
    };
    demo = new RunningDiscoverer(['demo', '--http-port', String(port), '--interval', '1'], env);
    const base = `http://127.0.0.1:${port}`;

    await demo.waitForRounds(1);
    const first = demo.rounds()[0];
    const targets = (await (await fetch(`${base}/targets`)).json()) as Group[];
    const page = await (await fetch(`${base}/`)).text();
    const directory = /file_sd files (\S+)/.exec(demo.stdout)?.[1] ?? '';
    // One task comes and goes: some later round counts another number of tasks than the first.
    await demo.waitFor(() => demo?.rounds().some((round) => round['tasks'] !== first?.['tasks']) ?? false, 'a round with another task count');
    const files = readdirSync(directory);

    expect(first).toMatchObject({ outcome: 'ok' });
    expect(demo.stderr).not.toContain('NodeVersionSupportWarning');
    expect(demo.stdout).toContain(`status page   ${base}/`);
    const addresses = targets.flatMap((group) => group.targets);
    // Bridge (host port), host mode, Fargate (the ENI), ECS Anywhere (the SSM host).
    expect(addresses).toEqual(expect.arrayContaining(['127.0.10.1:32768', '127.0.10.2:9100', '127.0.20.1:9090', '127.0.40.1:9400']));
    expect(targets.find((group) => group.targets.includes('127.0.20.1:9090'))?.labels).toMatchObject({ team: 'payments' });
    expect(page).toContain('demo-web');
    expect(page).toContain('demo-batch');
    expect(page).toContain('worker');
    expect(files).toContain('15s-tasks.json');
    expect(JSON.parse(readFileSync(join(directory, '30s-tasks.json'), 'utf8'))).not.toEqual([]);

    expect(await demo.stop('SIGINT')).toBe(0);
    expect(existsSync(directory)).toBe(false);
  });
});
