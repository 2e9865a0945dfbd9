import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeAws } from '../../src/fake/fakeAws.js';
import { fleetOfTasks } from '../../bench/fleetOfTasks.js';
import { CLI, assertBuilt, fakeAwsEnv } from '../support/runningDiscoverer.js';

const run = promisify(execFile);
/** What V8 prints with --trace-opt for each function it hands to an optimizing compiler (Node.js 24 says TURBOFAN_JS). */
const OPTIMIZING = /compiling method .*\(target (TURBOFAN\w*|MAGLEV)\)/;
/**
 * Node.js hands some of its own path and URL functions to an optimizing compiler while it loads
 * the bin's first file, before any line of the bin runs, when the path the bin is installed at is
 * long enough: Node.js 24 (Maglev on by default) at any path, 22 from some 250 characters, 20 from
 * some 1,000. No setting of the bin can prevent it.
 */
const BEFORE_THE_BIN = ['isPosixPathSeparator', 'normalizeString', 'getPathFromURLPosix'];

let fake: FakeAws;
let outputDir: string;

beforeAll(async () => {
  assertBuilt();
  fake = new FakeAws(fleetOfTasks({ tasks: 1000, clusters: 4, definitions: 60 }));
  await fake.start();
  outputDir = await mkdtemp(join(tmpdir(), 'discoverer-v8-'));
});
afterAll(async () => {
  await fake?.stop();
  if (outputDir) await rm(outputDir, { recursive: true, force: true });
});

/**
 * The bin sets V8's settings itself (src/v8Settings.ts), before its modules load: the figures of
 * the README's "Scale" hold for `dist/cli.js` run with no flag. V8 says which functions it
 * optimizes only when asked on its command line, so these runs add --trace-opt, and nothing else.
 */
describe("the bin's V8 settings", () => {
  it('hand no function to an optimizing compiler, from start-up through a round of 1,000 tasks', async () => {
    // Arrange: this Node.js does print what TurboFan optimizes, the way OPTIMIZING reads it (Maglev off, as on 20 and 22)
    const hotLoop = 'let sum = 0; for (let i = 0; i < 1e7; i += 1) sum += i % 7; console.log(sum);';
    const control = await run(process.execPath, ['--trace-opt', '--no-maglev', '-e', hotLoop]);
    expect(control.stdout).toMatch(OPTIMIZING);

    // Act
    const { stdout } = await run(process.execPath, ['--trace-opt', CLI, '--once', '--output-dir', outputDir, '--http-port', '0'], {
      env: fakeAwsEnv(fake.url),
      maxBuffer: 64 * 1024 * 1024,
    });

    // Assert: the round ran, and nothing went past the baseline compiler
    expect(fake.calls.some((call) => call.action === 'DescribeTasks')).toBe(true);
    const optimized = stdout.split('\n').filter((line) => OPTIMIZING.test(line));
    expect(optimized.filter((line) => !BEFORE_THE_BIN.some((name) => line.includes(`<JSFunction ${name} `)))).toEqual([]);
  }, 120_000);
});
