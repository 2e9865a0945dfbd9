import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt } from '../support/runningDiscoverer.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The npm package as users get it: npm pack, installed into an empty directory, run with npx. */
describe('the npm package', () => {
  let workDir: string;
  let tarball: string;
  let files: string[];

  beforeAll(async () => {
    assertBuilt();
    workDir = await mkdtemp(join(tmpdir(), 'discoverer-package-'));
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', workDir], { cwd: ROOT });
    const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
    if (!packed) throw new Error(`npm pack printed nothing: ${stdout}`);
    tarball = join(workDir, packed.filename);
    files = packed.files.map((file) => file.path).sort();
  }, 120_000);

  afterAll(async () => {
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('holds only the built code, the README and the license', () => {
    expect(files).toContain('dist/cli.js');
    expect(files.filter((file) => !file.startsWith('dist/') || !file.endsWith('.js'))).toEqual(['LICENSE', 'README.md', 'package.json']);
  });

  it('runs with npx once installed into an empty directory', async () => {
    const project = join(workDir, 'user');
    await run('npm', ['init', '-y'], { cwd: workDir, env: { ...process.env, npm_config_init_module: '' } }).catch(() => undefined);
    await run('sh', ['-c', `mkdir -p "${project}" && cd "${project}" && npm init -y >/dev/null && npm install --prefer-offline --no-audit --no-fund "${tarball}"`], {
      timeout: 180_000,
    });

    const { stdout } = await run('npx', ['--no-install', 'prometheus-ecs-discoverer', '--version'], { cwd: project });
    const help = await run('npx', ['--no-install', 'prometheus-ecs-discoverer', '--help'], { cwd: project });

    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(help.stdout).toContain('Usage: prometheus-ecs-discoverer');
  }, 240_000);
});
