import * as yaml from 'yaml';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Compatibility,
  ContainerCondition,
  LogDriver,
  NetworkMode,
  RegisterTaskDefinitionRequest$,
  TransportProtocol,
} from '@aws-sdk/client-ecs';
import { NormalizedSchema } from '@smithy/core/schema';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SETTINGS, loadConfig } from '../../src/config.js';
import { parseWebConfig } from '../../src/http/webConfig.js';
import { loadWebSecurity } from '../../src/http/webSecurity.js';
import { makeTestPki } from '../support/testPki.js';
import { EXIT } from '../../src/exitCodes.js';

/**
 * The deployment files (Dockerfile, examples/) must stay valid and agree with the code: each
 * check names the example and what drifted.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EXAMPLES = join(ROOT, 'examples');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
function parseYaml(path: string): unknown {
  try {
    return parse(read(path), { strict: true, uniqueKeys: true });
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** The default of a setting of src/config.ts. */
function defaultOf(key: string): unknown {
  const setting = SETTINGS.find((candidate) => candidate.key === key);
  if (setting === undefined) throw new Error(`no setting ${key} in src/config.ts`);
  return setting.default;
}

/** Interval → default file name, as the discoverer writes them ("generic": no interval). */
const FILES: Record<string, string> = Object.fromEntries(
  ['generic', '15s', '30s', '1m', '5m'].map((interval) => [interval, defaultOf(`files.${interval}`) as string]),
);
const OUTPUT_DIR = '/targets';
/** The output directory's variable, as the settings name it. */
const outputDirVariable = SETTINGS.find((setting) => setting.key === 'outputDir')?.env;
const HTTP_PORT = defaultOf('http.port') as number;

// --- Dockerfile ---

interface Instruction {
  keyword: string;
  args: string;
  stage: number;
}

/** Dockerfile instructions, continuation lines joined, comments dropped, with their stage. */
function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let pending = '';
  let stage = -1;
  for (const line of text.split('\n')) {
    if (/^\s*#/.test(line) || (pending === '' && line.trim() === '')) continue;
    if (/\\\s*$/.test(line)) {
      pending += `${line.replace(/\\\s*$/, '').trim()} `;
      continue;
    }
    const whole = (pending + line.trim()).trim();
    pending = '';
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(whole) ?? [];
    if (keyword.toUpperCase() === 'FROM') stage++;
    instructions.push({ keyword: keyword.toUpperCase(), args, stage });
  }
  return instructions;
}

const dockerfile = parseDockerfile(read('Dockerfile'));
const lastStage = Math.max(...dockerfile.map((instruction) => instruction.stage));
const inStage = (stage: number, keyword: string) =>
  dockerfile.filter((instruction) => instruction.stage === stage && instruction.keyword === keyword);
const only = (keyword: string): string => {
  const found = inStage(lastStage, keyword);
  expect(found.map((instruction) => instruction.args), `Dockerfile: one ${keyword} in the runtime stage`).toHaveLength(1);
  return found[0]?.args ?? '';
};
const execForm = (args: string): unknown => JSON.parse(args);
/** The node script of the Dockerfile's HEALTHCHECK CMD ["node", "-e", script]. */
const healthcheckArgs = (): unknown => execForm(only('HEALTHCHECK').replace(/^(--\S+\s+)*CMD\s+/, ''));

describe('Dockerfile', () => {
  const packageJson = JSON.parse(read('package.json')) as { bin: Record<string, string>; scripts: Record<string, string>; dependencies?: Record<string, string> };

  it('builds on node:22-slim in two stages', () => {
    const froms = dockerfile.filter((instruction) => instruction.keyword === 'FROM').map((from) => from.args);

    expect(froms).toHaveLength(2);
    for (const from of froms) expect(from, 'Dockerfile FROM').toMatch(/^node:22-slim(\s+AS\s+\w+)?$/i);
  });

  it('runs the same commands as the README and CI, npm ci and npm run build, and ships the bundle alone', () => {
    const runs = (stage: number) => inStage(stage, 'RUN').map((run) => run.args);

    expect(inStage(0, 'WORKDIR').map((workdir) => workdir.args)).toEqual(['/app']);
    expect(runs(0)).toEqual(['npm ci', 'npm run build']);
    // The bundle holds every dependency: the runtime stage installs none.
    expect(runs(lastStage).filter((run) => /\bnpm\b/.test(run))).toEqual([]);
    expect(packageJson.dependencies ?? {}, 'the bundle holds the dependencies: the package declares none').toEqual({});
    expect(packageJson.scripts['build'], 'package.json has the build script the Dockerfile runs').toBeDefined();
    expect(read('README.md')).toContain('npm ci && npm run build');
    expect(only('ENV')).toBe('NODE_ENV=production');
    expect(inStage(lastStage, 'COPY').map((copy) => copy.args)).toContain('--from=build /app/dist ./dist');
  });

  it('runs the built bin through its shebang: ENTRYPOINT /app/dist/cli.js', () => {
    const bin = Object.values(packageJson.bin)[0];

    expect(execForm(only('ENTRYPOINT'))).toEqual(['/app/dist/cli.js']);
    expect(`/app/${bin}`, 'package.json bin').toBe('/app/dist/cli.js');
    // A POSIX env takes one argument: no -S and no flags, so that busybox (Alpine) and old coreutils run it.
    expect(read('src/cli.ts').split('\n')[0], 'src/cli.ts shebang, run by env').toBe('#!/usr/bin/env node');
    // No CMD: a flag there would win over the file, the environment and flags, and go with any CMD of one's own.
    expect(dockerfile.filter((instruction) => instruction.keyword === 'CMD')).toEqual([]);
    // The default output directory, relative, from the process's working directory: the volume.
    const workdir = inStage(lastStage, 'WORKDIR').at(-1)?.args ?? '';
    expect(join(workdir, String(SETTINGS.find((setting) => setting.key === 'outputDir')?.default))).toBe(OUTPUT_DIR);
  });

  it('runs as node, exposes the HTTP port and declares the output directory, owned by node, as a volume', () => {
    const stage = dockerfile.filter((instruction) => instruction.stage === lastStage);
    const chown = stage.findIndex((run) => run.keyword === 'RUN' && run.args.includes(`chown node:node ${OUTPUT_DIR}`));
    const position = (keyword: string) => stage.findIndex((instruction) => instruction.keyword === keyword);

    expect(only('USER')).toBe('node');
    expect(only('EXPOSE')).toBe(String(HTTP_PORT));
    expect([only('VOLUME')].map((volume) => (volume.startsWith('[') ? execForm(volume) : [volume]))).toEqual([[OUTPUT_DIR]]);
    expect(chown, `a RUN that chowns ${OUTPUT_DIR} to node`).toBeGreaterThan(-1);
    // Changes after VOLUME are discarded, and the chown needs root.
    expect(chown, 'the chown comes before VOLUME').toBeLessThan(position('VOLUME'));
    expect(chown, 'the chown comes before USER node').toBeLessThan(position('USER'));
  });

  it('checks health with node itself, on /-/healthy', () => {
    const args = healthcheckArgs() as string[];

    expect(args.slice(0, 2)).toEqual(['node', '-e']);
    expect(args[2]).toContain(`http://127.0.0.1:${HTTP_PORT}/-/healthy`);
    expect(read('src/http/server.ts')).toContain("'/-/healthy'");
    expect(only('HEALTHCHECK')).not.toMatch(/curl|wget/);
  });

  it('has a .dockerignore that keeps host builds and dependencies out', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.startsWith('#'));

    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', 'targets', 'coverage', 'bench/results', '.git', '*.tgz']));
    // The build stage bundles with these: they must reach it.
    for (const needed of ['package.json', 'package-lock.json', 'tsconfig.json', 'scripts', 'src']) {
      expect(ignored, `.dockerignore must not exclude ${needed}`).not.toContain(needed);
    }
  });
});

describe('the HEALTHCHECK script', () => {
  const servers: Server[] = [];
  afterAll(() => servers.forEach((server) => server.close()));

  /** Runs the script against 127.0.0.1:port instead of the fixed 8080; its exit code. */
  const runAgainst = (port: number) => {
    const script = (healthcheckArgs() as string[])[2] ?? '';
    const child = spawn('node', ['-e', script.replace(`:${HTTP_PORT}/`, `:${port}/`)], { stdio: 'ignore', timeout: 10_000 });
    return new Promise<number | null>((resolve) => child.on('close', resolve));
  };
  const serve = async (status: number) => {
    const server = createServer((request, response) => {
      response.statusCode = request.url === '/-/healthy' ? status : 404;
      response.end();
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  };

  it('exits 0 on 200, 1 on any other answer, and 1 when nothing listens', async () => {
    expect(await runAgainst(await serve(200))).toBe(0);
    expect(await runAgainst(await serve(503))).toBe(1);
    const closed = await serve(200);
    await new Promise((resolve) => servers.pop()?.close(resolve));
    expect(await runAgainst(closed)).toBe(1);
  });
});

// --- examples/ ---

/** The `Key=value` lines of a systemd unit (sections flattened; no key repeats in ours). */
function unitSettings(path: string): Map<string, string> {
  const lines = read(path).split('\n').filter((line) => /^[A-Za-z]+=/.test(line));
  return new Map(lines.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
}

describe('examples/prometheus-ecs-discoverer.service', () => {
  const unit = unitSettings('examples/prometheus-ecs-discoverer.service');

  it('runs the built bin with node, writing to its own state directory', () => {
    expect(unit.get('ExecStart')).toBe('/usr/bin/node /opt/prometheus-ecs-discoverer/dist/cli.js');
    expect((JSON.parse(read('package.json')) as { bin: Record<string, string> }).bin['prometheus-ecs-discoverer']).toBe('dist/cli.js');
    // A variable, which the EnvironmentFile may change; a flag would win over it.
    expect(unit.get('Environment')).toBe(`${outputDirVariable}=/var/lib/${unit.get('StateDirectory')}`);
    expect(unit.get('StateDirectoryMode')).toBe('0755');
  });

  it('reloads with SIGHUP and does not restart on a bad setting', () => {
    expect(unit.get('ExecReload')).toBe('/bin/kill -HUP $MAINPID');
    expect(unit.get('RestartPreventExitStatus')).toBe(String(EXIT.usage));
    expect(unit.get('Restart')).toBe('on-failure');
  });

  it.runIf(existsSync('/usr/bin/systemd-analyze'))('passes systemd-analyze verify', () => {
    const result = spawnSync('/usr/bin/systemd-analyze', ['verify', join(EXAMPLES, 'prometheus-ecs-discoverer.service')], { encoding: 'utf8' });
    // Lines about the host (a missing /usr/bin/node, no running systemd) are not the unit's fault.
    const problems = result.stderr.split('\n').filter((line) => line !== '' && !/is not executable|No such file|Failed to connect|System has not been booted/.test(line));
    expect(problems).toEqual([]);
  });
});

/** The files of examples/ and its folders, as paths inside it. */
const exampleFiles = () => readdirSync(EXAMPLES, { recursive: true, encoding: 'utf8' }).filter((file) => statSync(join(EXAMPLES, file)).isFile());

describe('examples/', () => {
  it('holds JSON and YAML files only, each of which parses', () => {
    const files = exampleFiles();

    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      // CloudFormation's YAML has tags of its own: test/unit/eventExamples.test.ts parses it with them.
      if (file === join('events', 'cloudformation.yaml')) continue;
      if (file.endsWith('.json')) expect(() => JSON.parse(read(`examples/${file}`)) as unknown, file).not.toThrow();
      else if (/\.ya?ml$/.test(file)) expect(() => parseYaml(`examples/${file}`), file).not.toThrow();
      else if (file.endsWith('.service')) expect(unitSettings(`examples/${file}`).get('ExecStart'), file).toBeDefined();
      else expect.fail(`examples/${file}: neither JSON nor YAML; add a check for it`);
    }
  });

  it('uses placeholders only: no real address, account, host or secret', () => {
    const files = [...exampleFiles().map((file) => `examples/${file}`), 'Dockerfile', 'iam-policy.json'];
    const placeholderIp = /^(127\.0\.0\.1|0\.0\.0\.0|192\.0\.2\.\d+|198\.51\.100\.\d+|203\.0\.113\.\d+)$/;
    const placeholderHost = /^(127\.0\.0\.1|localhost|prometheus-ecs-discoverer|[\w.-]*example\.(com|org|net))$/;
    for (const file of files) {
      const text = read(file);
      for (const [ip] of text.matchAll(/\b\d{1,3}(\.\d{1,3}){3}\b/g)) expect(ip, `${file}: IP address`).toMatch(placeholderIp);
      // A JSON Schema names its dialect by URL; that identifier is never fetched.
      const contacted = text.replace(/"\$schema":\s*"http:\/\/json-schema\.org\/[^"]*"/g, '');
      for (const [, host] of contacted.matchAll(/\bhttps?:\/\/([^/:\s'"]+)/g)) expect(host, `${file}: URL host`).toMatch(placeholderHost);
      // The accounts the AWS documentation uses as placeholders.
      for (const [account] of text.matchAll(/\b\d{12}\b/g)) expect(account, `${file}: AWS account`).toMatch(/^(123456789012|111122223333|444455556666)$/);
      expect(text, `${file}: AWS access key`).not.toMatch(/\b(AKIA|ASIA)[0-9A-Z]{16}\b/);
      // A password given as a value; password_file (where Prometheus reads one) and bcrypt hashes are no secret.
      expect(text, `${file}: secret`).not.toMatch(/secret_access_key|aws_session_token|\bpassword\s*[:=]|BEGIN [A-Z ]*PRIVATE KEY/i);
    }
  });
});

// --- examples/ecs-task-definition.json ---

interface ContainerDefinition {
  name: string;
  image: string;
  command?: string[];
  entryPoint?: string[];
  environment?: { name: string; value: string }[];
  portMappings?: { containerPort: number; hostPort?: number; protocol?: string }[];
  mountPoints?: { sourceVolume: string; containerPath: string; readOnly?: boolean }[];
  dependsOn?: { containerName: string; condition: string }[];
  healthCheck?: { command: string[] };
  logConfiguration?: { logDriver: string; options?: Record<string, string> };
}

interface TaskDefinition {
  family: string;
  taskRoleArn?: string;
  executionRoleArn?: string;
  networkMode?: string;
  requiresCompatibilities?: string[];
  cpu?: string;
  memory?: string;
  volumes?: { name: string }[];
  containerDefinitions: ContainerDefinition[];
}

/** Where `value` does not fit the SDK's schema of RegisterTaskDefinition's input. */
function schemaErrors(value: unknown, schema: NormalizedSchema, path: string): string[] {
  if (schema.isStructSchema()) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${path}: expected an object`];
    const members = new Map(schema.structIterator());
    return Object.entries(value).flatMap(([key, member]) => {
      const memberSchema = members.get(key);
      return memberSchema === undefined
        ? [`${path}.${key}: not a field of ${schema.getName()}`]
        : schemaErrors(member, memberSchema, `${path}.${key}`);
    });
  }
  if (schema.isListSchema()) {
    if (!Array.isArray(value)) return [`${path}: expected a list`];
    return value.flatMap((item, index) => schemaErrors(item, schema.getValueSchema(), `${path}[${index}]`));
  }
  if (schema.isMapSchema()) {
    if (typeof value !== 'object' || value === null) return [`${path}: expected a map`];
    return Object.entries(value).flatMap(([key, item]) => schemaErrors(item, schema.getValueSchema(), `${path}.${key}`));
  }
  if (schema.isStringSchema()) return typeof value === 'string' ? [] : [`${path}: expected a string`];
  if (schema.isBooleanSchema()) return typeof value === 'boolean' ? [] : [`${path}: expected a boolean`];
  if (schema.isNumericSchema()) return Number.isInteger(value) ? [] : [`${path}: expected an integer`];
  return [];
}

describe('examples/ecs-task-definition.json', () => {
  const taskDefinition = JSON.parse(read('examples/ecs-task-definition.json')) as TaskDefinition;
  const containers = taskDefinition.containerDefinitions;
  const discoverer = containers.find((container) => container.image.includes('prometheus-ecs-discoverer'));
  const prometheus = containers.find((container) => container.image.startsWith('prom/prometheus'));
  const targetsMount = (container?: ContainerDefinition) =>
    container?.mountPoints?.find((mount) => mount.containerPath === OUTPUT_DIR);

  it("fits the AWS SDK's RegisterTaskDefinition input, with valid enum values", () => {
    const errors = schemaErrors(taskDefinition, NormalizedSchema.of(RegisterTaskDefinitionRequest$), 'taskDefinition');

    expect(errors, errors.join('\n')).toEqual([]);
    expect(Object.values(NetworkMode)).toContain(taskDefinition.networkMode);
    for (const compatibility of taskDefinition.requiresCompatibilities ?? []) expect(Object.values(Compatibility)).toContain(compatibility);
    for (const container of containers) {
      expect(container.name, 'container name').toMatch(/^[A-Za-z0-9_-]{1,255}$/);
      expect(container.image, `${container.name}: image`).toBeTruthy();
      for (const { condition } of container.dependsOn ?? []) expect(Object.values(ContainerCondition)).toContain(condition);
      for (const { protocol } of container.portMappings ?? []) expect(Object.values(TransportProtocol)).toContain(protocol);
    }
  });

  it('runs the discoverer and Prometheus side by side, sharing /targets (read-only in Prometheus)', () => {
    expect(containers).toHaveLength(2);
    expect(discoverer, 'a container with the discoverer image').toBeDefined();
    expect(prometheus, 'a container with the prom/prometheus image').toBeDefined();
    // A placeholder of the user's own registry (README, "Your own image"): the example account's ECR.
    expect(discoverer?.image).toMatch(/^123456789012\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com\/prometheus-ecs-discoverer:/);
    const written = targetsMount(discoverer);
    const readOnly = targetsMount(prometheus);

    expect(written, `discoverer mounts ${OUTPUT_DIR}`).toBeDefined();
    expect(readOnly, `Prometheus mounts ${OUTPUT_DIR}`).toBeDefined();
    expect(readOnly?.sourceVolume).toBe(written?.sourceVolume);
    expect(taskDefinition.volumes?.map((volume) => volume.name)).toContain(written?.sourceVolume);
    expect(written?.readOnly ?? false).toBe(false);
    expect(readOnly?.readOnly).toBe(true);
  });

  it('runs the discoverer as the image does: no arguments, same port and health check', () => {
    expect(discoverer?.command, 'the image sets the output directory').toBeUndefined();
    expect(discoverer?.portMappings?.map((mapping) => mapping.containerPort)).toEqual([HTTP_PORT]);
    expect(discoverer?.healthCheck?.command, 'healthCheck = Dockerfile HEALTHCHECK').toEqual(['CMD', ...(healthcheckArgs() as string[])]);
  });

  it('has a task role (for iam-policy.json), awsvpc, and logs to awslogs', () => {
    expect(taskDefinition.taskRoleArn).toMatch(/^arn:aws:iam::\d{12}:role\/[\w+=,.@/-]+$/);
    expect(taskDefinition.networkMode).toBe('awsvpc');
    if (taskDefinition.requiresCompatibilities?.includes('FARGATE')) {
      // Fargate needs task-level sizes, and an execution role for awslogs.
      expect(taskDefinition.cpu).toBeDefined();
      expect(taskDefinition.memory).toBeDefined();
      expect(taskDefinition.executionRoleArn).toMatch(/^arn:aws:iam::\d{12}:role\//);
    }
    for (const container of containers) {
      expect(container.logConfiguration?.logDriver, container.name).toBe('awslogs');
      expect(Object.values(LogDriver)).toContain('awslogs');
      expect(Object.keys(container.logConfiguration?.options ?? {}).sort()).toEqual(
        expect.arrayContaining(['awslogs-group', 'awslogs-region', 'awslogs-stream-prefix']),
      );
      for (const mapping of container.portMappings ?? []) {
        expect(mapping.hostPort ?? mapping.containerPort, 'awsvpc: hostPort = containerPort').toBe(mapping.containerPort);
      }
    }
  });

  it("gives Prometheus the file_sd configuration of examples/prometheus-file-sd.yml, scraping the discoverer beside it", () => {
    const config = prometheusConfigOf(taskDefinition);
    const configFile = /--config\.file=(\S+)/.exec(prometheus?.command?.join(' ') ?? '')?.[1];
    const example = parseYaml('examples/prometheus-file-sd.yml') as PrometheusConfig;
    // In one awsvpc task the discoverer is on 127.0.0.1, not behind its compose service name.
    const inOneTask = {
      ...example,
      scrape_configs: example.scrape_configs.map((job) => (job.job_name === SELF_JOB ? { ...job, static_configs: [{ targets: [`127.0.0.1:${HTTP_PORT}`] }] } : job)),
    };

    expect(parse(config)).toEqual(inOneTask);
    expect(discoverer?.environment?.map((variable) => variable.name), 'the discoverer is scraped by its own job, not marked for discovery').not.toContain('PROMETHEUS');
    expect(configFile, 'Prometheus --config.file').toBeDefined();
    expect(prometheus?.command?.join(' '), 'the command writes PROM_CONFIG where --config.file reads').toContain(`"$PROM_CONFIG" > ${configFile} `);
  });
});

/** The prometheus.yml that the task definition hands Prometheus in its environment. */
function prometheusConfigOf(taskDefinition: TaskDefinition): string {
  const prometheus = taskDefinition.containerDefinitions.find((container) => container.image.startsWith('prom/prometheus'));
  const value = prometheus?.environment?.find((variable) => variable.name === 'PROM_CONFIG')?.value;
  if (value === undefined) throw new Error('examples/ecs-task-definition.json: Prometheus has no PROM_CONFIG');
  return value;
}

// --- Prometheus configurations ---

interface ScrapeConfig {
  job_name: string;
  scrape_interval?: string;
  metrics_path?: string;
  static_configs?: { targets: string[] }[];
  file_sd_configs?: { files: string[] }[];
  http_sd_configs?: { url: string }[];
  relabel_configs?: { source_labels?: string[]; regex?: string; action?: string; target_label?: string }[];
}
interface PrometheusConfig {
  global?: { scrape_interval?: string };
  scrape_configs: ScrapeConfig[];
}

/** Debian's prometheus package (installed by .ci/run) ships promtool. */
const PROMTOOL = '/usr/bin/promtool';
const hasPromtool = existsSync(PROMTOOL);
const inCi = Boolean(process.env['CI']);
if (!hasPromtool && !inCi) {
  console.warn(`\n*** SKIPPING promtool check config of the examples: ${PROMTOOL} is not installed (apt-get install prometheus) ***\n`);
}

describe.skipIf(!hasPromtool && !inCi)('promtool check config', () => {
  const configs = readdirSync(EXAMPLES).filter((file) => /^prometheus.*\.ya?ml$/.test(file));

  it('is installed', () => {
    expect(hasPromtool, `${PROMTOOL} is missing in CI: .ci/run should have installed Debian's prometheus package`).toBe(true);
  });

  it.each(configs)('accepts examples/%s', (file) => {
    const result = spawnSync(PROMTOOL, ['check', 'config', join(EXAMPLES, file)], { encoding: 'utf8', timeout: 20_000 });

    expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
  });

  it('accepts the configuration in examples/ecs-task-definition.json', () => {
    const dir = mkdtempSync(join(tmpdir(), 'examples-'));
    try {
      const file = join(dir, 'prometheus.yml');
      writeFileSync(file, prometheusConfigOf(JSON.parse(read('examples/ecs-task-definition.json')) as TaskDefinition));
      const result = spawnSync(PROMTOOL, ['check', 'config', file], { encoding: 'utf8', timeout: 20_000 });

      expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('found the examples', () => expect(configs.length).toBeGreaterThanOrEqual(3));
});

/** The job the discoverer's own metrics are scraped in: examples/alerts.yml and grafana-dashboard.json use it (test/unit/monitoringKit.test.ts). */
const SELF_JOB = 'ecs-discoverer';

describe('every Prometheus example', () => {
  const files = readdirSync(EXAMPLES).filter((file) => /^prometheus.*\.ya?ml$/.test(file));
  const configs: [string, PrometheusConfig][] = [
    ...files.map((file): [string, PrometheusConfig] => [`examples/${file}`, parseYaml(`examples/${file}`) as PrometheusConfig]),
    ['examples/ecs-task-definition.json', parse(prometheusConfigOf(JSON.parse(read('examples/ecs-task-definition.json')) as TaskDefinition)) as PrometheusConfig],
  ];

  it.each(configs)("scrapes the discoverer's own /metrics in job ecs-discoverer: %s", (_name, config) => {
    const self = config.scrape_configs.filter((job) => job.job_name === SELF_JOB);
    const targets = self.flatMap((job) => job.static_configs ?? []).flatMap((group) => group.targets);

    expect(self).toHaveLength(1);
    expect(self[0]?.metrics_path ?? '/metrics').toBe('/metrics');
    // One discoverer, or each of several (the accounts example splits them over two processes).
    const discoverers = new Set(config.scrape_configs.flatMap((job) => job.http_sd_configs ?? []).map((sd) => new URL(sd.url).host));
    expect(targets.length).toBeGreaterThanOrEqual(1);
    for (const target of targets) {
      expect(target).toMatch(new RegExp(`^[\\w.-]+:${HTTP_PORT}$`));
      if (discoverers.size > 1) expect(discoverers).toContain(target);
    }
    expect(read('src/http/server.ts')).toContain("case '/metrics':");
  });

  it('found them all', () => expect(configs.length).toBeGreaterThanOrEqual(4));
});

describe('examples/prometheus-file-sd.yml', () => {
  const config = parseYaml('examples/prometheus-file-sd.yml') as PrometheusConfig;

  it('has one job per interval file, scraped at that interval, and one for the generic file', () => {
    const fileJobs = config.scrape_configs.filter((job) => job.file_sd_configs !== undefined);
    const jobs = fileJobs.map((job) => ({
      files: job.file_sd_configs?.flatMap((sd) => sd.files),
      interval: job.scrape_interval ?? 'global',
    }));
    const expected = Object.entries(FILES).map(([interval, file]) => ({
      files: [`${OUTPUT_DIR}/${file}`],
      interval: interval === 'generic' ? 'global' : interval,
    }));

    expect(jobs).toEqual(expect.arrayContaining(expected));
    expect(jobs).toHaveLength(expected.length);
    expect(config.global?.scrape_interval, 'the generic job scrapes at the global interval').toBeDefined();
    expect(new Set(config.scrape_configs.map((job) => job.job_name)).size).toBe(config.scrape_configs.length);
    expect(config.scrape_configs.filter((job) => job.file_sd_configs === undefined).map((job) => job.job_name)).toEqual([SELF_JOB]);
  });
});

describe('examples/prometheus-http-sd.yml', () => {
  const config = parseYaml('examples/prometheus-http-sd.yml') as PrometheusConfig;

  it('has one job on the HTTP SD endpoint of the compose service', () => {
    const sdJobs = config.scrape_configs.filter((job) => job.http_sd_configs !== undefined);
    expect(sdJobs).toHaveLength(1);
    expect(sdJobs[0]?.http_sd_configs?.map((sd) => sd.url)).toEqual([
      `http://prometheus-ecs-discoverer:${HTTP_PORT}/targets`,
    ]);
    expect(Object.keys(composeServices())).toContain('prometheus-ecs-discoverer');
  });
});

describe('examples of several accounts', () => {
  it('gives settings that load, with a role per account in every region', () => {
    const config = loadConfig({ env: {}, configFile: join(EXAMPLES, 'settings-accounts.json') });

    expect(config.aws.roles.map((role) => role.arn)).toEqual([
      'arn:aws:iam::111122223333:role/prometheus-ecs-discoverer',
      'arn:aws:iam::444455556666:role/prometheus-ecs-discoverer',
    ]);
    expect(config.aws.regions.length).toBeGreaterThan(1);
  });

  it('has one Prometheus job with one HTTP SD entry per discoverer', () => {
    const config = parseYaml('examples/prometheus-http-sd-accounts.yml') as PrometheusConfig;

    const jobs = config.scrape_configs.filter((job) => job.http_sd_configs !== undefined);
    expect(jobs).toHaveLength(1);
    const urls = jobs[0]?.http_sd_configs?.map((sd) => sd.url) ?? [];
    expect(urls.length).toBeGreaterThan(1);
    for (const url of urls) expect(url).toMatch(new RegExp(`:${HTTP_PORT}/targets$`));
  });
});

describe('examples/prometheus-relabel.yml', () => {
  const config = parseYaml('examples/prometheus-relabel.yml') as PrometheusConfig;
  const relabel = config.scrape_configs.flatMap((job) => job.relabel_configs ?? []);
  /** __meta_ecs_* labels of the code: names, and prefixes of the templated ones. */
  const source = read('src/discovery/resolveTargets.ts');
  const known = new Set([...source.matchAll(/__meta_ecs_[a-z0-9_]+/g)].map(([name]) => name));
  const isKnown = (label: string) =>
    known.has(label) || [...known].some((name) => name.endsWith('_') && label.startsWith(name));

  it('relabels on __meta_ecs_* labels that the discoverer sets', () => {
    const used = relabel.flatMap((rule) => rule.source_labels ?? []);
    const unknown = used.filter((label) => label.startsWith('__meta_ecs_') && !isKnown(label));

    expect(used.length).toBeGreaterThan(0);
    expect(unknown, `not set by src/discovery/resolveTargets.ts: ${unknown.join(', ')}`).toEqual([]);
    for (const rule of relabel.filter((candidate) => candidate.action === 'labelmap')) {
      const prefix = /^(__meta_ecs_[a-z0-9_]+)/.exec(rule.regex ?? '')?.[1] ?? '';
      expect(isKnown(prefix), `labelmap ${rule.regex}: no such __meta_ecs_ label`).toBe(true);
    }
  });

  it('keeps one cluster, drops unhealthy tasks, and copies the service and availability zone', () => {
    expect(relabel).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ source_labels: ['__meta_ecs_cluster'], action: 'keep' }),
        expect.objectContaining({ source_labels: ['__meta_ecs_health_status'], regex: 'UNHEALTHY', action: 'drop' }),
        expect.objectContaining({ source_labels: ['__meta_ecs_service'], target_label: 'service' }),
        expect.objectContaining({ source_labels: ['__meta_ecs_availability_zone'], target_label: 'az' }),
      ]),
    );
  });
});

// --- examples/docker-compose.yml ---

interface ComposeService {
  build?: { context: string; dockerfile?: string };
  image?: string;
  environment?: string[] | Record<string, string | null>;
  volumes?: string[];
  ports?: string[];
}

function composeServices(): Record<string, ComposeService> {
  return (parseYaml('examples/docker-compose.yml') as { services: Record<string, ComposeService> }).services;
}

describe('examples/docker-compose.yml', () => {
  const compose = parseYaml('examples/docker-compose.yml') as { services: Record<string, ComposeService>; volumes?: Record<string, unknown> };
  const discoverer = compose.services['prometheus-ecs-discoverer'];
  const prometheus = compose.services['prometheus'];

  it("builds the discoverer from the repository's Dockerfile", () => {
    const context = join(EXAMPLES, discoverer?.build?.context ?? 'missing');

    expect(context, 'build context: the repository root').toBe(ROOT.replace(/\/$/, ''));
    expect(existsSync(join(context, discoverer?.build?.dockerfile ?? 'Dockerfile'))).toBe(true);
  });

  it("mounts the user's AWS profile read-only in node's home, and passes AWS_PROFILE and AWS_REGION through", () => {
    const environment = Array.isArray(discoverer?.environment)
      ? discoverer.environment
      : Object.entries(discoverer?.environment ?? {}).map(([name, value]) => (value === null ? name : `${name}=${value}`));

    expect(discoverer?.volumes).toContain(`~/.aws:/home/${only('USER')}/.aws:ro`);
    expect(environment, 'passed through from the environment, no values').toEqual(expect.arrayContaining(['AWS_PROFILE', 'AWS_REGION']));
  });

  it('shares the targets volume, read-only in Prometheus, which reads examples/prometheus-file-sd.yml', () => {
    expect(Object.keys(compose.volumes ?? {})).toContain('targets');
    expect(discoverer?.volumes).toContain(`targets:${OUTPUT_DIR}`);
    expect(prometheus?.image).toMatch(/^prom\/prometheus/);
    expect(prometheus?.volumes).toContain(`targets:${OUTPUT_DIR}:ro`);
    expect(prometheus?.volumes).toContain('./prometheus-file-sd.yml:/etc/prometheus/prometheus.yml:ro');
  });

  it('publishes 8080 and 9090 on 127.0.0.1 only', () => {
    const ports = Object.values(compose.services).flatMap((service) => service.ports ?? []);

    expect(ports.sort()).toEqual([`127.0.0.1:${HTTP_PORT}:${HTTP_PORT}`, '127.0.0.1:9090:9090']);
  });
});

// --- HTTPS: examples/web-config.yml and examples/prometheus-http-sd-tls.yml ---

describe('examples/web-config.yml and examples/prometheus-http-sd-tls.yml', () => {
  const webConfig = parseWebConfig(read('examples/web-config.yml'), join(EXAMPLES, 'web-config.yml'), yaml);
  const prometheus = parseYaml('examples/prometheus-http-sd-tls.yml') as { scrape_configs: (ScrapeConfig & { http_sd_configs?: { url: string; basic_auth?: { username: string; password_file?: string }; tls_config?: { ca_file?: string } }[] })[] };

  it('serves TLS with a user, and Prometheus reads /targets over https as that user, trusting a CA', () => {
    const sd = prometheus.scrape_configs[0]?.http_sd_configs?.[0];

    expect(webConfig.tls).toBeDefined();
    expect(new URL(sd?.url ?? '').protocol).toBe('https:');
    expect(new URL(sd?.url ?? '').port).toBe(String(HTTP_PORT));
    expect(new URL(sd?.url ?? '').pathname).toBe('/targets');
    expect([...webConfig.users.keys()]).toContain(sd?.basic_auth?.username);
    expect(sd?.basic_auth?.password_file, 'a password file, not a password in the config').toBeDefined();
    expect(sd?.tls_config?.ca_file).toBeDefined();
  });

  describe.skipIf(!hasPromtool && !inCi)('with its files in place', () => {
    it('is accepted by the discoverer and by promtool check web-config alike', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'web-config-'));
      try {
        makeTestPki(dir);
        const file = join(dir, 'web-config.yml');
        writeFileSync(file, read('examples/web-config.yml').replaceAll('/etc/prometheus-ecs-discoverer/tls/', `${dir}/`));

        const security = await loadWebSecurity(file);
        const result = spawnSync(PROMTOOL, ['check', 'web-config', file], { encoding: 'utf8', timeout: 20_000 });

        expect(security.tls?.context.minVersion).toBe('TLSv1.2');
        expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
