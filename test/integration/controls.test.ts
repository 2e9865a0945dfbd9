import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TargetGroup } from '../../src/discovery/targetGroups.js';
import { FakeAws, type FakeFleet } from '../../src/fake/fakeAws.js';
import { addDefinition, addHost, addTask, emptyFleet, makeTaskDefinition } from '../../src/fake/fleet.js';
import { assertBuilt, fakeAwsEnv, runCli } from '../support/runningDiscoverer.js';
import { edgeFleet } from '../support/edgeFleet.js';

/** Operator controls against the fake: which clusters and regions, how containers are marked, scheme, tags, check. */

let fake: FakeAws;
let outputDir: string;

async function allGroups(): Promise<TargetGroup[]> {
  const groups: TargetGroup[] = [];
  for (const file of await readdir(outputDir)) groups.push(...(JSON.parse(await readFile(join(outputDir, file), 'utf8')) as TargetGroup[]));
  return groups;
}
const clustersIn = async () => [...new Set((await allGroups()).map((group) => group.labels['__meta_ecs_cluster']))].sort();
const once = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(['--once', '--output-dir', outputDir, ...args], { ...fakeAwsEnv(fake.url), ...env });

/** One Fargate task per container spec, in cluster "labels". */
function labelledFleet(): FakeFleet {
  const fleet = emptyFleet();
  const host = addHost(fleet, 'labels', 'i-0abc', '127.0.50.1');
  const nginx = addDefinition(
    fleet,
    makeTaskDefinition('nginx', 2, 'bridge', [
      {
        name: 'nginx',
        dockerLabels: { PROMETHEUS_EXPORTER_PORT: '9113', PROMETHEUS_EXPORTER_PATH: '/prometheus', PROMETHEUS_EXPORTER_JOB_NAME: 'edge-nginx' },
        portMappings: [{ containerPort: 80, hostPort: 0 }, { containerPort: 9113, hostPort: 0 }],
      },
    ]),
  );
  addTask(fleet, {
    cluster: 'labels',
    id: 'nginx1',
    definition: nginx,
    containerInstanceArn: host,
    containers: [{ name: 'nginx', bindings: [{ containerPort: 80, hostPort: 32801 }, { containerPort: 9113, hostPort: 32802 }] }],
  });
  const api = addDefinition(
    fleet,
    makeTaskDefinition('api', 5, 'awsvpc', [
      {
        name: 'api',
        dockerLabels: { PROMETHEUS: 'true', PROMETHEUS_PORT: '8443', PROMETHEUS_SCHEME: 'https', PROMETHEUS_EXPORTER_PORT: '9000' },
        environment: { PROMETHEUS_ENDPOINT: '/not-read-from-the-environment' },
      },
    ]),
  );
  addTask(fleet, {
    cluster: 'labels',
    id: 'api1',
    definition: api,
    launchType: 'FARGATE',
    eniIp: '127.0.50.2',
    containers: [{ name: 'api' }],
    tags: { team: 'payments', 'cost-center': '42' },
  });
  return fleet;
}

beforeAll(() => {
  assertBuilt();
});
beforeEach(async () => {
  outputDir = await mkdtemp(join(tmpdir(), 'discoverer-controls-'));
});
afterEach(async () => {
  await fake.stop();
  await rm(outputDir, { recursive: true, force: true });
});

describe('which clusters', () => {
  beforeEach(async () => {
    fake = new FakeAws(edgeFleet());
    await fake.start();
  });

  it('scans only the clusters given by name or ARN', async () => {
    const result = await once(['--clusters', 'batch,arn:aws:ecs:eu-west-1:123456789012:cluster/prod']);

    expect(result.code, result.stderr).toBe(0);
    expect(await clustersIn()).toEqual(['batch', 'prod']);
    expect(fake.calls.filter((call) => call.action === 'ListTasks').map((call) => call.cluster)).not.toContain('empty');
  });

  it('scans the clusters whose names match include and not exclude', async () => {
    await once(['--cluster-include', '^(prod|batch)$', '--cluster-exclude', 'bat']);

    expect(await clustersIn()).toEqual(['prod']);
  });

  it('warns once of a cluster in the clusters setting that does not exist', async () => {
    const result = await once(['--clusters', 'prod,prdo']);

    expect(result.stderr.match(/cluster "prdo" of the clusters setting is not in any region's cluster list/g)).toHaveLength(1);
  });
});

describe('several regions', () => {
  it('scans every region and labels each target with its region', async () => {
    fake = new FakeAws(edgeFleet());
    const usEast = labelledFleet();
    usEast.region = 'us-east-1';
    fake.regions.set('us-east-1', usEast);
    await fake.start();

    const result = await once(['--regions', 'eu-west-1,us-east-1', '--marker-source', 'dockerLabels']);

    expect(result.code, result.stderr).toBe(0);
    const groups = await allGroups();
    const byRegion = (region: string) => groups.filter((group) => group.labels['__meta_ecs_region'] === region);
    expect(byRegion('us-east-1').map((group) => group.targets[0])).toEqual(['127.0.50.2:8443']);
    expect(byRegion('us-east-1')[0]?.labels['__meta_ecs_cluster_arn']).toBe('arn:aws:ecs:us-east-1:123456789012:cluster/labels');
    // The edge fleet marks containers in the environment: with docker labels as the source, eu-west-1 has none.
    expect(byRegion('eu-west-1')).toEqual([]);
    expect(new Set(fake.calls.map((call) => call.region))).toEqual(new Set(['eu-west-1', 'us-east-1']));
  });
});

describe('how containers are marked', () => {
  beforeEach(async () => {
    fake = new FakeAws(labelledFleet());
    await fake.start();
  });

  it('reads PROMETHEUS* docker labels with --marker-source dockerLabels, with PROMETHEUS_SCHEME as __scheme__', async () => {
    await once(['--marker-source', 'dockerLabels']);

    const groups = await allGroups();
    expect(groups.map((group) => group.targets[0])).toEqual(['127.0.50.2:8443']);
    expect(groups[0]?.labels).toMatchObject({ __scheme__: 'https', job: 'api', __metrics_path__: '/metrics' });
  });

  it("reads teralytics' PROMETHEUS_EXPORTER_* labels: bridge maps the container port to its host port; job and path only when given", async () => {
    await once(['--marker-source', 'teralytics']);

    const groups = (await allGroups()).sort((a, b) => (a.targets[0] ?? '').localeCompare(b.targets[0] ?? ''));
    expect(groups.map((group) => [group.targets[0], group.labels['job'], group.labels['__metrics_path__']])).toEqual([
      ['127.0.50.1:32802', 'edge-nginx', '/prometheus'],
      // As teralytics: no job label (Prometheus takes the scrape config's) and no __metrics_path__ (Prometheus' /metrics).
      ['127.0.50.2:9000', undefined, undefined],
    ]);
  });

  it('finds nothing in the environment of containers marked by docker labels', async () => {
    await once([]);

    expect(await allGroups()).toEqual([]);
  });
});

describe('task tags', () => {
  beforeEach(async () => {
    fake = new FakeAws(labelledFleet());
    await fake.start();
  });

  it('adds __meta_ecs_tag_task_* labels when asked, from the same DescribeTasks calls', async () => {
    await once(['--marker-source', 'dockerLabels'], { ECS_DISCOVERER_LABEL_TASK_TAGS: 'true' });

    const [group] = await allGroups();
    expect(group?.labels).toMatchObject({ __meta_ecs_tag_task_team: 'payments', __meta_ecs_tag_task_cost_center: '42' });
    // Not waited for, so it may or may not come before --once ends: the own account's id.
    const calls = fake.countCalls();
    delete calls['GetCallerIdentity'];
    expect(calls).toEqual({ ListClusters: 1, ListTasks: 1, DescribeTasks: 1, DescribeTaskDefinition: 2, DescribeContainerInstances: 1, DescribeInstances: 1 });
  });

  it('leaves tags out by default', async () => {
    await once(['--marker-source', 'dockerLabels']);

    const [group] = await allGroups();
    expect(Object.keys(group?.labels ?? {}).filter((name) => name.startsWith('__meta_ecs_tag_'))).toEqual([]);
  });
});

describe('prometheus-ecs-discoverer check', () => {
  beforeEach(async () => {
    fake = new FakeAws(edgeFleet());
    await fake.start();
  });

  it('prints per cluster the tasks, targets per interval, skipped containers and warnings, writes no file, and exits 1', async () => {
    const result = await runCli(['check', '--output-dir', outputDir], fakeAwsEnv(fake.url));

    expect(result.code).toBe(1);
    expect(result.stdout).toContain('cluster batch (eu-west-1): 150 tasks, 150 marked containers\n  targets: 30s 150\n');
    expect(result.stdout).toContain('cluster prod (eu-west-1): 7 tasks, 1 not running yet, 8 marked containers\n  targets: 15s 1, 30s 1, 1m 1, 5m 1, generic 2\n');
    expect(result.stdout).toContain('  skipped: jobs:2 (service jobs), container envoy, no_port_binding in task bridge2: no network binding for container port 9999\n');
    expect(result.stdout).toContain('  skipped: badport:1 (service badport), container app, bad_port in task badport1: PROMETHEUS_PORT "9x9" is not a port in 1..65535\n');
    expect(result.stdout).toMatch(/ {2}warning: .*PROMETHEUS_LABEL_bad-name/);
    expect(result.stdout).toContain('total: 3 clusters, 157 tasks, 158 marked containers, 156 targets, 3 skipped containers, 2 warnings\n');
    expect(result.stdout).not.toMatch(/kept|last good/);
    expect(result.stderr).toBe('');
    expect(await readdir(outputDir)).toEqual([]);
  });

  it('prints every target group, skip and warning as JSON, in its documented shape, with --json', async () => {
    const schema = JSON.parse(await readFile(new URL('../../examples/check-report.schema.json', import.meta.url), 'utf8')) as object;
    const validate = new Ajv({ allErrors: true }).compile(schema);

    const all = await runCli(['check', '--json'], fakeAwsEnv(fake.url));
    const batch = await runCli(['check', '--json', '--clusters', 'batch'], fakeAwsEnv(fake.url));

    const report = JSON.parse(all.stdout) as { targets: { labels: Record<string, string> }[]; skipped: { task: string; family: string }[] };
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    expect(report.targets).toHaveLength(156);
    expect(report.skipped.map((skip) => `${skip.family} ${skip.task}`).sort()).toEqual(['api orphan1', 'badport badport1', 'jobs bridge2']);
    expect(batch.code).toBe(0);
    expect(JSON.parse(batch.stdout)).toMatchObject({
      outcome: 'ok',
      problems: [],
      clusters: [{ region: 'eu-west-1', name: 'batch', tasks: 150, pendingTasks: 0, markedContainers: 150, targets: { '15s': 0, '30s': 150, '1m': 0, '5m': 0, generic: 0 } }],
      totals: { clusters: 1, tasks: 150, markedContainers: 150, targets: 150, skipped: 0, warnings: 0 },
    });
  });

  it('fails (2) on a web configuration that serve could not use, as serve would, before reading AWS', async () => {
    const webConfig = join(outputDir, 'web.yml');
    await writeFile(webConfig, 'basic_auth_users:\n  alice: not-a-bcrypt-hash\n');

    const result = await runCli(['check', '--web.config.file', webConfig], fakeAwsEnv(fake.url));

    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^prometheus-ecs-discoverer: http\.webConfigFile \(--web\.config\.file, ECS_DISCOVERER_HTTP_WEB_CONFIG_FILE\): .*web\.yml: basic_auth_users\.alice: /)]);
    expect(fake.calls).toEqual([]);
  });

  it('logs every AWS request with --log-level debug, where it logs only errors otherwise', async () => {
    const result = await runCli(['check', '--clusters', 'batch', '--log-level', 'debug'], fakeAwsEnv(fake.url));

    const requestLines = result.stderr.split('\n').filter((line) => / debug aws call action=\w+ outcome=ok /.test(line));
    expect(result.code).toBe(0);
    expect(requestLines.length).toBeGreaterThan(0);
    expect(requestLines).toHaveLength(fake.calls.length);
  });

  it('exits 1, naming it, for a cluster of --clusters that does not exist', async () => {
    const result = await runCli(['check', '--clusters', 'prod,prdo'], fakeAwsEnv(fake.url));

    expect(result.code).toBe(1);
    expect(result.stdout).toContain('problem: cluster "prdo" of --clusters does not exist in any region\n');
  });

  it('exits 1 when no container carries the marker, naming the marker they seem to use', async () => {
    const result = await runCli(['check', '--marker', 'PROMETHEUS_TARGET', '--clusters', 'batch'], fakeAwsEnv(fake.url));

    expect(result.code).toBe(1);
    expect(result.stdout).toContain('problem: no container carries the marker; 150 containers set PROMETHEUS: did you mean --marker PROMETHEUS?\n');
  });

  it('exits 1 with --strict on a warning, and with --fail-if-empty when no target is found; 3 when AWS cannot be read', async () => {
    const strict = await runCli(['check', '--strict', '--clusters', 'prod'], fakeAwsEnv(fake.url));
    const empty = await runCli(['check', '--fail-if-empty', '--clusters', 'empty'], fakeAwsEnv(fake.url));
    fake.faults.outage = true;
    const outage = await runCli(['check'], { ...fakeAwsEnv(fake.url), ECS_DISCOVERER_AWS_MAX_ATTEMPTS: '1' });

    expect(strict.code).toBe(1);
    expect(empty.code).toBe(1);
    expect(empty.stdout).toContain('total: 1 clusters, 0 tasks, 0 marked containers, 0 targets, 0 skipped containers, 0 warnings');
    expect(outage.code).toBe(3);
    expect(outage.stdout).toContain('problem: region eu-west-1: clusters could not be listed');
    expect(outage.stdout).not.toMatch(/kept|last good/);
  });
});

describe('hostile names', () => {
  /** A cluster whose name makes `(a+)+$` backtrack for hours in JavaScript's engine, and a container named to forge a log line. */
  function hostileFleet(): FakeFleet {
    const fleet = emptyFleet();
    const cluster = `${'a'.repeat(40)}-`;
    const definition = addDefinition(
      fleet,
      makeTaskDefinition('forge', 1, 'awsvpc', [
        { name: 'web\n2026-12-01T10:00:00.000Z error forged line\u001b[31m', environment: { PROMETHEUS: 'true', PROMETHEUS_PORT: '9x9' } },
      ]),
    );
    addTask(fleet, { cluster, id: 'forge1', definition, launchType: 'FARGATE', eniIp: '127.0.70.1', containers: [{ name: 'web' }] });
    return fleet;
  }

  beforeEach(async () => {
    fake = new FakeAws(hostileFleet());
    await fake.start();
  });

  it('matches cluster patterns in linear time: (a+)+$ against 40 "a" and a "-" does not block a round', async () => {
    const result = await once(['--cluster-include', '(a+)+$']);

    expect(result.code, result.stderr).toBe(0);
    expect(fake.calls.filter((call) => call.action === 'ListTasks')).toEqual([]);
  });

  it('escapes control characters in text logs, so that a container name cannot forge a line', async () => {
    const result = await once([]);

    const lines = result.stderr.trimEnd().split('\n');
    expect(lines.every((line) => /^\d{4}-\d\d-\d\dT[\d:.]+Z (debug|info|warn|error) /.test(line)), result.stderr).toBe(true);
    // eslint-disable-next-line no-control-regex -- no raw escape character may reach the terminal
    expect(result.stderr).not.toMatch(/\u001b/);
    expect(result.stderr).toContain('web\\n2026-12-01T10:00:00.000Z error forged line\\u001b[31m');
  });
});
