import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { cp, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TargetGroup } from '../../src/discovery/targetGroups.js';
import { FakeAws } from '../../src/fake/fakeAws.js';
import { edgeFleet } from '../support/edgeFleet.js';
import { assertBuilt, fakeAwsEnv } from '../support/runningDiscoverer.js';

const run = promisify(execFile);
/** Debian's busybox: its env, like Alpine's, takes no -S. .ci/run installs it. */
const BUSYBOX = '/usr/bin/busybox';
if (!existsSync(BUSYBOX)) {
  if (process.env['CI']) throw new Error(`${BUSYBOX} is missing in CI: .ci/run should have installed Debian's busybox package`);
  console.warn(`\n*** ${BUSYBOX} is missing: the busybox env run of the package test will fail (apt-get install busybox) ***\n`);
}
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
    expect(files).toEqual(expect.arrayContaining(['dist/re2js.cjs', 'dist/opentelemetry-api.cjs']));
    expect(files.filter((file) => !/^dist\/[^/]+\.c?js$/.test(file))).toEqual(['LICENSE', 'README.md', 'package.json']);
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

    // As its shebang runs on Alpine (busybox env, no -S), and as `node <file>` runs it.
    const installed = join(project, 'node_modules', 'prometheus-ecs-discoverer', 'dist', 'cli.js');
    const viaBusybox = await run(BUSYBOX, ['env', 'node', installed, '--version'], { cwd: project });
    const viaNode = await run(process.execPath, [installed, '--version'], { cwd: project });
    expect(viaBusybox.stdout).toBe(stdout);
    expect(viaNode.stdout).toBe(stdout);
    expect((await readFile(installed, 'utf8')).split('\n')[0]).toBe('#!/usr/bin/env node');
  }, 240_000);

  it('selects clusters by a pattern once installed: re2js, loaded on first use, is in the bundle', async () => {
    const installed = join(workDir, 'user', 'node_modules', 'prometheus-ecs-discoverer', 'dist', 'cli.js');
    const outputDir = join(workDir, 'targets');
    const fake = new FakeAws(edgeFleet());
    await fake.start();
    try {
      await run(process.execPath, [installed, '--once', '--output-dir', outputDir, '--cluster-include', '^ba.ch$'], { cwd: join(workDir, 'user'), env: fakeAwsEnv(fake.url) });
    } finally {
      await fake.stop();
    }

    const groups = JSON.parse(await readFile(join(outputDir, '30s-tasks.json'), 'utf8')) as TargetGroup[];
    expect(groups.length).toBeGreaterThan(0);
    expect(new Set(groups.map((group) => group.labels['__meta_ecs_cluster']))).toEqual(new Set(['batch']));
  });

  it('says in one line, naming the setting, that the installation is incomplete when dist/re2js.cjs was not copied', async () => {
    const partial = join(workDir, 'partial');
    await cp(join(workDir, 'user', 'node_modules', 'prometheus-ecs-discoverer'), partial, { recursive: true });
    await rm(join(partial, 'dist', 're2js.cjs'));

    const failed = await run(process.execPath, [join(partial, 'dist', 'cli.js'), '--once', '--output-dir', join(workDir, 'partial-targets'), '--cluster-include', '^ba.ch$'], {
      env: fakeAwsEnv('http://127.0.0.1:9'),
    }).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );

    expect(failed?.code).toBe(2);
    expect(failed?.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^prometheus-ecs-discoverer: clusters\.include \(--cluster-include, ECS_DISCOVERER_CLUSTER_INCLUDE\): re2js, which compiles regular expressions, cannot be loaded \(Cannot find module '\.\/re2js\.cjs'\): the installation is incomplete/) as string,
    ]);
  });

  it('installs no dependency: the bundle holds them', async () => {
    const lock = JSON.parse(await readFile(join(workDir, 'user', 'package-lock.json'), 'utf8')) as { packages: Record<string, unknown> };
    expect(Object.keys(lock.packages).filter((name) => name.startsWith('node_modules/'))).toEqual(['node_modules/prometheus-ecs-discoverer']);
  });
});

/**
 * The modules the built CLI loads at start, file by file: cli.js, the modules it imports once it
 * has set V8's settings, and what each of them imports statically.
 */
async function loadedAtStart(dist: string): Promise<Map<string, string>> {
  const loaded = new Map<string, string>();
  const visit = async (file: string): Promise<void> => {
    if (loaded.has(file)) return;
    const text = await readFile(join(dist, file), 'utf8');
    loaded.set(file, text);
    for (const [, imported] of text.matchAll(/^(?:import|export)\b[^;]*?from\s*"\.\/([^"]+)"/gm)) await visit(imported as string);
    if (file === 'cli.js') for (const [, imported] of text.matchAll(/\bimport\(\s*"\.\/([^"]+)"\s*\)/g)) await visit(imported as string);
  };
  await visit('cli.js');
  return loaded;
}

describe('the bundle', () => {
  const dist = join(ROOT, 'dist');

  it('loads the role credentials and the STS clients only on demand: a single-account process never loads the role provider', async () => {
    assertBuilt();
    const atStart = await loadedAtStart(dist);
    const all = await readdir(dist);
    const holding = async (text: string) => (await Promise.all(all.map(async (file) => [file, await readFile(join(dist, file), 'utf8')] as const))).filter(([, code]) => code.includes(text)).map(([file]) => file);

    for (const name of ['fromTemporaryCredentials', 'AssumeRoleCommand', 'GetCallerIdentityCommand']) {
      const files = await holding(name);
      expect(files.length, `${name} is in the bundle`).toBeGreaterThan(0);
      expect(files.filter((file) => atStart.has(file)), `${name} is loaded at start`).toEqual([]);
    }
  });

  it('loads re2js and @opentelemetry/api only on demand, from files of their own beside the chunks', async () => {
    assertBuilt();
    const atStart = await loadedAtStart(dist);
    const requireInDist = createRequire(join(dist, 'cli.js'));

    for (const [file, code] of atStart) {
      expect(code, `${file} holds re2js's code`).not.toContain('node_modules/re2js/');
      expect(code, `${file} holds @opentelemetry/api's code`).not.toContain('node_modules/@opentelemetry/api/');
    }
    for (const file of ['re2js.cjs', 'opentelemetry-api.cjs']) {
      expect([...atStart.values()].some((code) => code.includes(`__require("./${file}")`)), `a module loaded at start requires ./${file}`).toBe(true);
    }
    expect((requireInDist('./re2js.cjs') as typeof import('re2js')).RE2JS.compile('^ba.ch$').matches('batch')).toBe(true);
    expect(typeof (requireInDist('./opentelemetry-api.cjs') as { trace: { getSpan: unknown } }).trace.getSpan).toBe('function');
  });

  it("never asks ICU for locale data (toLocaleString, localeCompare, Intl): its pages would stay in memory, some 9 MB", async () => {
    assertBuilt();
    const asking: string[] = [];
    for (const file of await readdir(dist)) {
      const code = await readFile(join(dist, file), 'utf8');
      // toLocaleLowerCase() of the SDK's defaults mode is not here: without a locale, V8 lowers ASCII itself.
      for (const [call] of code.matchAll(/\.(?:toLocaleString|toLocaleDateString|toLocaleTimeString|localeCompare)\(|\bIntl\.\w+/g)) asking.push(`${file}: ${call}`);
    }
    expect(asking).toEqual([]);
  });

  it("loads Node.js's built-in modules with require(), never import: an import reads every lazy export (on Node.js 22, http.WebSocket loads undici)", async () => {
    assertBuilt();
    const imported: string[] = [];
    const required = new Set<string>();
    for (const file of await readdir(dist)) {
      const code = await readFile(join(dist, file), 'utf8');
      // The banner's two imports make require() itself; nothing else may import a built-in module.
      const body = code.replace(/^(#!.*\n)?import \{ createRequire as __createRequire \} from 'node:module'; import \{ fileURLToPath as __fileURLToPath \} from 'node:url';/, '');
      const staticImports = [...body.matchAll(/(?:^|[;\s])(?:import|export)\b[^;]*?from\s*["']([^"']+)["']/gm)].map((match) => match[1] as string);
      const dynamicImports = [...body.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)].map((match) => match[1] as string);
      for (const name of [...staticImports, ...dynamicImports]) if (isBuiltin(name)) imported.push(`${file}: ${name}`);
      for (const [, name] of body.matchAll(/\b__require\("([^"]+)"\)/g)) required.add(name as string);
    }
    expect(imported).toEqual([]);
    // What the bundle does instead.
    expect([...required]).toEqual(expect.arrayContaining(['node:http', 'node:https', 'node:fs', 'node:crypto']));
  });
});
