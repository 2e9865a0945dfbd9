import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TargetGroup } from '../../src/discovery/targetGroups.js';
import { FakeAws, type FakeFleet } from '../../src/fake/fakeAws.js';
import { addDefinition, addHost, addTask, containerArn, emptyFleet, makeTaskDefinition, taskArn, taskDefinitionArn } from '../../src/fake/fleet.js';
import { RunningDiscoverer, assertBuilt, fakeAwsEnv, freePort, runCli } from '../support/runningDiscoverer.js';

/**
 * A drop-in for each tool: a fleet written the way that tool tells its users to write it must
 * yield, through us with that tool's preset, the targets and label sets the tool itself yields
 * (read from its code and its own fixtures; README, "Migrating"). Labels that start with "__"
 * other than __metrics_path__ and __scheme__ are ours for relabeling: Prometheus drops them, so
 * they are left out of the comparison.
 */

let fake: FakeAws;
let outputDir: string;

/** Every file's groups, each as `file target {labels}`, without our relabeling-only labels. */
async function written(): Promise<Record<string, { target: string; labels: Record<string, string> }[]>> {
  const byFile: Record<string, { target: string; labels: Record<string, string> }[]> = {};
  for (const file of (await readdir(outputDir)).filter((name) => !name.startsWith('.')).sort()) {
    const groups = JSON.parse(await readFile(join(outputDir, file), 'utf8')) as TargetGroup[];
    byFile[file] = groups
      .map((group) => ({
        target: group.targets[0] ?? '',
        labels: Object.fromEntries(Object.entries(group.labels).filter(([name]) => !name.startsWith('__') || name === '__metrics_path__' || name === '__scheme__')),
      }))
      .sort((a, b) => `${a.target}${JSON.stringify(a.labels)}`.localeCompare(`${b.target}${JSON.stringify(b.labels)}`));
  }
  return byFile;
}

async function runWith(fleet: FakeFleet, args: string[], env: NodeJS.ProcessEnv = {}) {
  fake = new FakeAws(fleet);
  await fake.start();
  const result = await runCli(['--once', '--output-dir', outputDir, ...args], { ...fakeAwsEnv(fake.url), ...env });
  expect(result.code, result.stderr).toBe(0);
  return result;
}

const id = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);

beforeAll(() => {
  assertBuilt();
});
beforeEach(async () => {
  outputDir = await mkdtemp(join(tmpdir(), 'discoverer-migration-'));
});
afterEach(async () => {
  await fake?.stop();
  await rm(outputDir, { recursive: true, force: true });
});

describe('prometheus-ecs-discoverer (trallnag) 3.x: --preset prometheus-ecs-discoverer', () => {
  /** Its integration fixture's shape: bridge webapps marked with PROMETHEUS_TARGET=true on two EC2 hosts, custom labels from promed.custom_labels. */
  function promedFleet(): FakeFleet {
    const fleet = emptyFleet();
    const hostA = addHost(fleet, 'cluster-name', 'i-08c7123ef038a7cc4', '127.0.1.73');
    const hostB = addHost(fleet, 'cluster-name', 'i-0b967c2479dd4f5af', '127.0.2.85');
    const webapp = (n: number, dockerLabels?: Record<string, string>) =>
      addDefinition(
        fleet,
        makeTaskDefinition(`webapp-test-${n}`, 2, undefined, [
          { name: `webapp-${n}`, environment: { PROMETHEUS_TARGET: 'true', PROMETHEUS_ENDPOINT: `/app-${n}/metrics` }, portMappings: [{ containerPort: 80, hostPort: 0 }], ...(dockerLabels && { dockerLabels }) },
        ]),
      );
    const one = webapp(1);
    const three = webapp(3, { 'promed.custom_labels': 'foo=bar, high=fi' });
    const unmarked = addDefinition(fleet, makeTaskDefinition('hello-world', 1, 'host', [{ name: 'hello', environment: { PROMETHEUS_TARGET: 'false' } }]));
    addTask(fleet, { cluster: 'cluster-name', id: 'task-one', definition: one, containerInstanceArn: hostA, containers: [{ name: 'webapp-1', id: 'c-one', bindings: [{ containerPort: 80, hostPort: 32790 }] }] });
    addTask(fleet, { cluster: 'cluster-name', id: 'task-three', definition: three, containerInstanceArn: hostB, containers: [{ name: 'webapp-3', id: 'c-three', bindings: [{ containerPort: 80, hostPort: 32794 }] }] });
    addTask(fleet, { cluster: 'cluster-name', id: 'task-hello', definition: unmarked, containerInstanceArn: hostA, containers: [{ name: 'hello' }] });
    // Fargate, with FARGATE in requiresCompatibilities: it leaves out container_id and instance_id.
    const fargate = makeTaskDefinition('api', 4, 'awsvpc', [{ name: 'api', environment: { PROMETHEUS_TARGET: 'true', PROMETHEUS_ENDPOINT: '30s:/metrics' }, portMappings: [{ containerPort: 8080 }] }]);
    fargate.requiresCompatibilities = ['FARGATE'];
    addDefinition(fleet, fargate);
    addTask(fleet, { cluster: 'cluster-name', id: 'task-api', definition: fargate, launchType: 'FARGATE', eniIp: '127.0.3.9', containers: [{ name: 'api' }] });
    return fleet;
  }

  it('writes its five files with its label set: custom labels, instance, job, metrics_path, cluster, task_version, task_id, container_id, instance_id', async () => {
    await runWith(promedFleet(), ['--preset', 'prometheus-ecs-discoverer']);

    const files = await written();
    expect(Object.keys(files)).toEqual(['15s-tasks.json', '1m-tasks.json', '30s-tasks.json', '5m-tasks.json', 'tasks.json']);
    expect(files['tasks.json']).toEqual([
      {
        target: '127.0.1.73:32790',
        labels: {
          instance: '127.0.1.73:32790',
          job: 'webapp-test-1',
          metrics_path: '/app-1/metrics',
          __metrics_path__: '/app-1/metrics',
          cluster: 'cluster-name',
          task_version: '2',
          task_id: 'task-one',
          container_id: id(containerArn('cluster-name', 'c-one')),
          instance_id: 'i-08c7123ef038a7cc4',
        },
      },
      {
        target: '127.0.2.85:32794',
        labels: {
          foo: 'bar',
          high: 'fi',
          instance: '127.0.2.85:32794',
          job: 'webapp-test-3',
          metrics_path: '/app-3/metrics',
          __metrics_path__: '/app-3/metrics',
          cluster: 'cluster-name',
          task_version: '2',
          task_id: 'task-three',
          container_id: id(containerArn('cluster-name', 'c-three')),
          instance_id: 'i-0b967c2479dd4f5af',
        },
      },
    ]);
    expect(files['30s-tasks.json']).toEqual([
      {
        target: '127.0.3.9:8080',
        labels: { instance: '127.0.3.9:8080', job: 'api', metrics_path: '/metrics', __metrics_path__: '/metrics', cluster: 'cluster-name', task_version: '4', task_id: 'task-api' },
      },
    ]);
    expect([...(files['15s-tasks.json'] ?? []), ...(files['1m-tasks.json'] ?? []), ...(files['5m-tasks.json'] ?? [])]).toEqual([]);
  });

  it('warns once of its PROMED_* settings left in the environment, naming what each became', async () => {
    fake = new FakeAws(promedFleet());
    await fake.start();

    const result = await runCli(['--once', '--output-dir', outputDir], { ...fakeAwsEnv(fake.url), PROMED_INTERVAL: '30', PROMED_WARMUP_THROTTLE: 'true', DYNACONF_LOG_LEVEL: 'DEBUG' });

    const warnings = result.stderr.split('\n').filter((line) => line.includes('prometheus-ecs-discoverer settings in the environment are not read'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('DYNACONF_LOG_LEVEL (now log.level), PROMED_INTERVAL (now interval), PROMED_WARMUP_THROTTLE (no equivalent)');
  });

  it('accepts log levels in any case, as its LOG_LEVEL=INFO users write them', async () => {
    await runWith(promedFleet(), ['--preset', 'prometheus-ecs-discoverer', '--log-level', 'DEBUG']);
  });

  /**
   * Its MARKER_TYPE=dockerLabels: only a docker label PROMETHEUS_TARGET=true marks; endpoint,
   * port and PROMETHEUS_LABEL_* still come from the environment; promed.custom_labels and the
   * docker labels WITH_DOCKER_LABELS names become labels (`.` and `-` as `_`; one that is not
   * there adds nothing), as its _extract_custom_labels_from_dockerlabels does.
   */
  function dockerMarkedFleet(): FakeFleet {
    const fleet = emptyFleet();
    const host = addHost(fleet, 'cluster-name', 'i-0d0c4e7a1b2f3c4d5', '127.0.1.90');
    const definition = addDefinition(
      fleet,
      makeTaskDefinition('storefront', 9, 'bridge', [
        {
          name: 'app',
          environment: { PROMETHEUS_ENDPOINT: '30s:/stats', PROMETHEUS_LABEL_Owner: 'ops' },
          dockerLabels: { PROMETHEUS_TARGET: 'true', 'promed.custom_labels': 'team=storefront', 'com.example.tier': 'frontend', 'build-id': '1234' },
          portMappings: [{ containerPort: 8080, hostPort: 0 }],
        },
        // Marked in the environment only: not a target when the marker is a docker label.
        { name: 'envmarked', environment: { PROMETHEUS_TARGET: 'true' }, portMappings: [{ containerPort: 9000, hostPort: 0 }] },
        { name: 'off', dockerLabels: { PROMETHEUS_TARGET: 'false' }, portMappings: [{ containerPort: 9100, hostPort: 0 }] },
      ]),
    );
    addTask(fleet, {
      cluster: 'cluster-name',
      id: 'task-store',
      definition,
      containerInstanceArn: host,
      containers: [
        { name: 'app', id: 'c-app', bindings: [{ containerPort: 8080, hostPort: 32010 }] },
        { name: 'envmarked', id: 'c-env', bindings: [{ containerPort: 9000, hostPort: 32011 }] },
        { name: 'off', id: 'c-off', bindings: [{ containerPort: 9100, hostPort: 32012 }] },
      ],
    });
    return fleet;
  }

  it('reads the marker from docker labels with --marker-source prometheus-ecs-discoverer, and labels from WITH_DOCKER_LABELS', async () => {
    await runWith(dockerMarkedFleet(), ['--preset', 'prometheus-ecs-discoverer', '--marker-source', 'prometheus-ecs-discoverer'], {
      ECS_DISCOVERER_LABEL_FROM_DOCKER_LABELS: 'com.example.tier,build-id,absent.label',
    });

    const files = await written();
    expect(files['30s-tasks.json']).toEqual([
      {
        target: '127.0.1.90:32010',
        labels: {
          owner: 'ops',
          team: 'storefront',
          com_example_tier: 'frontend',
          build_id: '1234',
          instance: '127.0.1.90:32010',
          job: 'storefront',
          metrics_path: '/stats',
          __metrics_path__: '/stats',
          cluster: 'cluster-name',
          task_version: '9',
          task_id: 'task-store',
          container_id: id(containerArn('cluster-name', 'c-app')),
          instance_id: 'i-0d0c4e7a1b2f3c4d5',
        },
      },
    ]);
    expect([...(files['tasks.json'] ?? []), ...(files['15s-tasks.json'] ?? []), ...(files['1m-tasks.json'] ?? []), ...(files['5m-tasks.json'] ?? [])]).toEqual([]);
  });
});

describe('prometheus-ecs-sd (signal-ai): --preset prometheus-ecs-sd', () => {
  /**
   * Its README's task definitions. Its discoverecs.py leaves out ecs_container_id and instance_id
   * when the definition's requiresCompatibilities holds FARGATE, whatever the task runs on.
   */
  function signalFleet(): FakeFleet {
    const fleet = emptyFleet();
    const host = addHost(fleet, 'prod', 'i-0a1b2c3d4e5f60718', '127.0.4.1');
    const fargateDefinition = (...args: Parameters<typeof makeTaskDefinition>) => addDefinition(fleet, { ...makeTaskDefinition(...args), requiresCompatibilities: ['FARGATE'] });
    const web = addDefinition(
      fleet,
      makeTaskDefinition('web', 12, 'bridge', [{ name: 'web', environment: { PROMETHEUS: 'true', PROMETHEUS_ENDPOINT: '30s:/a,/b' }, portMappings: [{ containerPort: 8080, hostPort: 0 }] }]),
    );
    addTask(fleet, { cluster: 'prod', id: 'webtask', definition: web, containerInstanceArn: host, containers: [{ name: 'web', id: 'c-web', bindings: [{ containerPort: 8080, hostPort: 32001 }] }] });
    const pushgateway = fargateDefinition('pushgateway', 3, 'awsvpc', [{ name: 'pushgateway', environment: { PROMETHEUS: 'true', PROMETHEUS_NOLABELS: 'true', PROMETHEUS_PORT: '9091' } }]);
    addTask(fleet, { cluster: 'prod', id: 'pushtask', definition: pushgateway, launchType: 'FARGATE', eniIp: '127.0.4.2', containers: [{ name: 'pushgateway' }] });
    const worker = fargateDefinition('worker', 1, 'awsvpc', [{ name: 'worker', environment: { PROMETHEUS: 'true', PROMETHEUS_NOLABELS: 'yes' }, portMappings: [{ containerPort: 9000 }] }]);
    addTask(fleet, { cluster: 'prod', id: 'workertask', definition: worker, launchType: 'FARGATE', eniIp: '127.0.4.3', containers: [{ name: 'worker' }] });
    // A definition for both EC2 and FARGATE, launched on EC2: its task is scraped, without the ids.
    const both = addDefinition(fleet, {
      ...makeTaskDefinition('both', 2, 'awsvpc', [{ name: 'both', environment: { PROMETHEUS: 'true' }, portMappings: [{ containerPort: 9300 }] }]),
      requiresCompatibilities: ['EC2', 'FARGATE'],
    });
    addTask(fleet, { cluster: 'prod', id: 'bothtask', definition: both, launchType: 'EC2', containerInstanceArn: host, eniIp: '127.0.4.4', containers: [{ name: 'both', id: 'c-both' }] });
    // Named difference: a Fargate task whose definition does not require FARGATE. prometheus-ecs-sd
    // drops it (it finds no EC2 instance for it); we scrape it, with its container id.
    const unrequired = addDefinition(fleet, makeTaskDefinition('unrequired', 1, 'awsvpc', [{ name: 'app', environment: { PROMETHEUS: 'true' }, portMappings: [{ containerPort: 9400 }] }]));
    addTask(fleet, { cluster: 'prod', id: 'unreqtask', definition: unrequired, launchType: 'FARGATE', eniIp: '127.0.4.5', containers: [{ name: 'app', id: 'c-unreq' }] });
    return fleet;
  }

  it('puts paths without an interval into 1m-tasks.json, with its label names, and no ids where the definition requires FARGATE', async () => {
    await runWith(signalFleet(), ['--preset', 'prometheus-ecs-sd']);

    const files = await written();
    const ec2Labels = { ecs_task_id: 'webtask', ecs_task_version: '12', ecs_cluster: 'prod', ecs_container_id: id(containerArn('prod', 'c-web')), instance_id: 'i-0a1b2c3d4e5f60718' };
    expect(files['30s-tasks.json']).toEqual([
      { target: '127.0.4.1:32001', labels: { instance: '127.0.4.1:32001', job: 'web', metrics_path: '/a', __metrics_path__: '/a', ...ec2Labels } },
    ]);
    expect(files['1m-tasks.json']).toEqual([
      { target: '127.0.4.1:32001', labels: { instance: '127.0.4.1:32001', job: 'web', metrics_path: '/b', __metrics_path__: '/b', ...ec2Labels } },
      // PROMETHEUS_NOLABELS=true: instance is the family, no ECS labels.
      { target: '127.0.4.2:9091', labels: { instance: 'pushgateway', job: 'pushgateway', metrics_path: '/metrics', __metrics_path__: '/metrics' } },
      // Only "true" turns NOLABELS on; FARGATE required: no ecs_container_id and no instance_id.
      { target: '127.0.4.3:9000', labels: { instance: '127.0.4.3:9000', job: 'worker', metrics_path: '/metrics', __metrics_path__: '/metrics', ecs_task_id: 'workertask', ecs_task_version: '1', ecs_cluster: 'prod' } },
      // Launched on EC2, but its definition requires FARGATE too: no ids, as prometheus-ecs-sd writes it.
      { target: '127.0.4.4:9300', labels: { instance: '127.0.4.4:9300', job: 'both', metrics_path: '/metrics', __metrics_path__: '/metrics', ecs_task_id: 'bothtask', ecs_task_version: '2', ecs_cluster: 'prod' } },
      // The named difference: scraped here; no instance_id on Fargate.
      {
        target: '127.0.4.5:9400',
        labels: { instance: '127.0.4.5:9400', job: 'unrequired', metrics_path: '/metrics', __metrics_path__: '/metrics', ecs_task_id: 'unreqtask', ecs_task_version: '1', ecs_cluster: 'prod', ecs_container_id: id(containerArn('prod', 'c-unreq')) },
      },
    ]);
    // Written, and empty: its users' Prometheus does not read it.
    expect(files['tasks.json']).toEqual([]);
  });
});

describe('teralytics/prometheus-ecs-discovery: --preset teralytics', () => {
  function teralyticsFleet(): FakeFleet {
    const fleet = emptyFleet();
    const host = addHost(fleet, 'prod', 'i-0c0ffee00000000a1', '127.0.5.1');
    // Its own example: bindings 1883 → 32768 and 1234 → 32769, the exporter on container port 1234.
    const broker = addDefinition(
      fleet,
      makeTaskDefinition('mqtt', 5, 'bridge', [
        { name: 'mqtt', image: 'eclipse-mosquitto:2', dockerLabels: { PROMETHEUS_EXPORTER_PORT: '1234' }, portMappings: [{ containerPort: 1883, hostPort: 0 }, { containerPort: 1234, hostPort: 0 }] },
      ]),
    );
    addTask(fleet, {
      cluster: 'prod',
      id: 'mqtttask',
      definition: broker,
      containerInstanceArn: host,
      group: 'service:mqtt',
      containers: [{ name: 'mqtt', id: 'c-mqtt', bindings: [{ containerPort: 1883, hostPort: 32768 }, { containerPort: 1234, hostPort: 32769 }] }],
    });
    const api = addDefinition(
      fleet,
      makeTaskDefinition('api', 2, 'awsvpc', [
        { name: 'api', image: 'example/api:1', dockerLabels: { PROMETHEUS_EXPORTER_PORT: '8080', PROMETHEUS_EXPORTER_PATH: '/prom', PROMETHEUS_EXPORTER_JOB_NAME: 'api', PROMETHEUS_EXPORTER_SCHEME: 'https' } },
      ]),
    );
    addTask(fleet, { cluster: 'prod', id: 'apitask', definition: api, launchType: 'FARGATE', eniIp: '127.0.5.2', group: 'family:api', containers: [{ name: 'api', id: 'c-api' }] });
    return fleet;
  }

  it('writes its label set, and every target into its one file, ecs_file_sd.yml', async () => {
    await runWith(teralyticsFleet(), ['--preset', 'teralytics']);

    const files = await written();
    const expected = [
      {
        target: '127.0.5.1:32769',
        labels: {
          task_arn: taskArn('prod', 'mqtttask'),
          task_name: 'mqtt',
          task_revision: '5',
          task_group: 'service:mqtt',
          cluster_arn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod',
          container_name: 'mqtt',
          container_arn: containerArn('prod', 'c-mqtt'),
          docker_image: 'eclipse-mosquitto:2',
        },
      },
      {
        target: '127.0.5.2:8080',
        labels: {
          task_arn: taskArn('prod', 'apitask'),
          task_name: 'api',
          job: 'api',
          task_revision: '2',
          task_group: 'family:api',
          cluster_arn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod',
          container_name: 'api',
          container_arn: containerArn('prod', 'c-api'),
          docker_image: 'example/api:1',
          __metrics_path__: '/prom',
          __scheme__: 'https',
        },
      },
    ];
    expect(files['ecs_file_sd.yml']).toEqual(expected);
    expect(files['tasks.json']).toEqual(expected);
    expect(taskDefinitionArn('api', 2)).toContain('api:2');
  });

  it('scrapes the host of PROMETHEUS_EXPORTER_SERVER_NAME instead of the IP, its trailing "/" trimmed, on the bound port', async () => {
    const fleet = emptyFleet();
    const host = addHost(fleet, 'prod', 'i-0c0ffee00000000b2', '127.0.5.3');
    const grafana = addDefinition(
      fleet,
      makeTaskDefinition('grafana', 3, 'bridge', [
        {
          name: 'grafana',
          image: 'grafana/grafana:11',
          dockerLabels: { PROMETHEUS_EXPORTER_PORT: '3000', PROMETHEUS_EXPORTER_SERVER_NAME: 'grafana.localhost/', PROMETHEUS_EXPORTER_JOB_NAME: 'grafana' },
          portMappings: [{ containerPort: 3000, hostPort: 0 }],
        },
      ]),
    );
    addTask(fleet, { cluster: 'prod', id: 'grafanatask', definition: grafana, containerInstanceArn: host, group: 'service:grafana', containers: [{ name: 'grafana', id: 'c-grafana', bindings: [{ containerPort: 3000, hostPort: 32777 }] }] });

    await runWith(fleet, ['--preset', 'teralytics']);

    expect((await written())['ecs_file_sd.yml']).toEqual([
      {
        target: 'grafana.localhost:32777',
        labels: {
          task_arn: taskArn('prod', 'grafanatask'),
          task_name: 'grafana',
          job: 'grafana',
          task_revision: '3',
          task_group: 'service:grafana',
          cluster_arn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod',
          container_name: 'grafana',
          container_arn: containerArn('prod', 'c-grafana'),
          docker_image: 'grafana/grafana:11',
        },
      },
    ]);
  });
});

describe('PROMETHEUS_SCRAPES (sepich/prometheus-ecs-sd): several ports per container', () => {
  /** One container with three ports, in each network mode. */
  function scrapesFleet(): FakeFleet {
    const fleet = emptyFleet();
    const host = addHost(fleet, 'prod', 'i-0beef0000000000b1', '127.0.6.1');
    const labels = { PROMETHEUS_SCRAPES: '8080/internal/metrics,30s:9106,1m:9107/probe' };
    const bridge = addDefinition(fleet, makeTaskDefinition('bridged', 1, 'bridge', [{ name: 'app', dockerLabels: labels }]));
    addTask(fleet, {
      cluster: 'prod',
      id: 'bridged',
      definition: bridge,
      containerInstanceArn: host,
      containers: [{ name: 'app', bindings: [{ containerPort: 8080, hostPort: 32100 }, { containerPort: 9106, hostPort: 32101 }, { containerPort: 9107, hostPort: 32102 }] }],
    });
    const hostMode = addDefinition(fleet, makeTaskDefinition('hosted', 1, 'host', [{ name: 'app', dockerLabels: labels }]));
    addTask(fleet, { cluster: 'prod', id: 'hosted', definition: hostMode, containerInstanceArn: host, containers: [{ name: 'app' }] });
    const awsvpc = addDefinition(fleet, makeTaskDefinition('vpc', 1, 'awsvpc', [{ name: 'app', dockerLabels: labels }]));
    addTask(fleet, { cluster: 'prod', id: 'vpc', definition: awsvpc, launchType: 'FARGATE', eniIp: '127.0.6.2', containers: [{ name: 'app' }] });
    return fleet;
  }

  it('yields three groups for three ports, in the right files and on /targets, in every network mode', async () => {
    fake = new FakeAws(scrapesFleet());
    await fake.start();
    const port = await freePort();
    const running = new RunningDiscoverer(['--marker-source', 'dockerLabels', '--output-dir', outputDir, '--http-host', '127.0.0.1', '--http-port', String(port)], fakeAwsEnv(fake.url));
    try {
      await running.waitForRounds(1);

      const files = await written();
      const served = (await (await fetch(`http://127.0.0.1:${port}/targets`)).json()) as TargetGroup[];
      const of = (file: string) => (files[file] ?? []).map((group) => `${group.labels['job']} ${group.target}${group.labels['__metrics_path__']}`);
      const servedOf = (interval: string | undefined) =>
        served
          .filter((group) => group.labels['__scrape_interval__'] === interval)
          .map((group) => `${group.labels['job']} ${group.targets[0]}${group.labels['__metrics_path__']}`)
          .sort();
      const generic = ['bridged 127.0.6.1:32100/internal/metrics', 'hosted 127.0.6.1:8080/internal/metrics', 'vpc 127.0.6.2:8080/internal/metrics'];
      const thirty = ['bridged 127.0.6.1:32101/metrics', 'hosted 127.0.6.1:9106/metrics', 'vpc 127.0.6.2:9106/metrics'];
      const minute = ['bridged 127.0.6.1:32102/probe', 'hosted 127.0.6.1:9107/probe', 'vpc 127.0.6.2:9107/probe'];
      expect(of('tasks.json')).toEqual(generic);
      expect(of('30s-tasks.json')).toEqual(thirty);
      expect(of('1m-tasks.json')).toEqual(minute);
      expect(servedOf(undefined)).toEqual(generic);
      expect(servedOf('30s')).toEqual(thirty);
      expect(servedOf('1m')).toEqual(minute);
      expect(served).toHaveLength(9);
    } finally {
      await running.stop('SIGTERM');
    }
  });

  it('skips a bad entry alone, and names it with its reason, bad_scrape_entry, in check and on the status page', async () => {
    const fleet = scrapesFleet();
    const definition = addDefinition(fleet, makeTaskDefinition('typo', 1, 'awsvpc', [{ name: 'app', dockerLabels: { PROMETHEUS_SCRAPES: '9100,9x9/metrics' } }]));
    addTask(fleet, { cluster: 'prod', id: 'typo', definition, launchType: 'FARGATE', eniIp: '127.0.6.3', containers: [{ name: 'app' }] });
    fake = new FakeAws(fleet);
    await fake.start();
    const port = await freePort();
    const running = new RunningDiscoverer(['--marker-source', 'dockerLabels', '--output-dir', outputDir, '--http-host', '127.0.0.1', '--http-port', String(port)], fakeAwsEnv(fake.url));
    try {
      await running.waitForRounds(1);
      const page = await (await fetch(`http://127.0.0.1:${port}/`)).text();
      const check = await runCli(['check', '--marker-source', 'dockerLabels'], fakeAwsEnv(fake.url));

      const detail = 'PROMETHEUS_SCRAPES entry "9x9/metrics" is not [interval:]port[/path] with a port in 1..65535';
      expect(check.code).toBe(1);
      expect(check.stdout).toContain(`skipped: typo:1 (service typo), container app, bad_scrape_entry in task typo: ${detail}`);
      expect(check.stdout).toContain(detail);
      expect(page).toContain('<span class="what">bad_scrape_entry</span>');
      expect(page).toContain(detail.replace(/"/g, '&quot;'));
      expect((await written())['tasks.json']?.map((group) => group.target)).toContain('127.0.6.3:9100');
    } finally {
      await running.stop('SIGTERM');
    }
  });
});

describe('sepich/prometheus-ecs-sd: --preset sepich', () => {
  /** Its README's example: a backend on two ports (one with a path) and PROMETHEUS_LABELS, and a node-exporter on the host network. */
  function sepichFleet(): FakeFleet {
    const fleet = emptyFleet();
    const host = addHost(fleet, 'prod', 'i-08a6047039ca60159', '127.0.8.3');
    const backend = addDefinition(
      fleet,
      makeTaskDefinition('backend', 52, 'bridge', [
        {
          name: 'backend-dev',
          image: 'backend:1',
          dockerLabels: { PROMETHEUS_SCRAPES: '8080/internal/metrics,9106', PROMETHEUS_LABELS: '__scheme__=https,skip_15s=true' },
          portMappings: [{ containerPort: 8080, hostPort: 0 }, { containerPort: 9106, hostPort: 0 }],
        },
      ]),
    );
    addTask(fleet, {
      cluster: 'prod',
      id: 'backendtask',
      definition: backend,
      containerInstanceArn: host,
      containers: [{ name: 'backend-dev', id: 'c-backend', bindings: [{ containerPort: 8080, hostPort: 32342 }, { containerPort: 9106, hostPort: 32799 }] }],
    });
    const nodeExporter = addDefinition(fleet, makeTaskDefinition('node-exporter', 13, 'host', [{ name: 'node-exporter', image: 'prom/node-exporter:v1.0.1', dockerLabels: { PROMETHEUS_SCRAPES: '9100' } }]));
    addTask(fleet, { cluster: 'prod', id: 'nodetask', definition: nodeExporter, containerInstanceArn: host, containers: [{ name: 'node-exporter', id: 'c-node' }] });
    return fleet;
  }

  it('writes its label set, with PROMETHEUS_LABELS, into its one file, ecs_file_sd.yml', async () => {
    await runWith(sepichFleet(), ['--preset', 'sepich']);

    const backend = { container_name: 'backend-dev', task_name: 'backend', task_revision: '52', container_arn: containerArn('prod', 'c-backend'), instance_id: 'i-08a6047039ca60159' };
    expect((await written())['ecs_file_sd.yml']).toEqual([
      { target: '127.0.8.3:32342', labels: { skip_15s: 'true', ...backend, __metrics_path__: '/internal/metrics', __scheme__: 'https' } },
      // An entry without a path: it leaves __metrics_path__ out (Prometheus' default, /metrics); ours is the metricsPath setting, /metrics.
      { target: '127.0.8.3:32799', labels: { skip_15s: 'true', ...backend, __metrics_path__: '/metrics', __scheme__: 'https' } },
      {
        target: '127.0.8.3:9100',
        labels: { container_name: 'node-exporter', task_name: 'node-exporter', task_revision: '13', container_arn: containerArn('prod', 'c-node'), instance_id: 'i-08a6047039ca60159', __metrics_path__: '/metrics' },
      },
    ]);
  });
});

describe('CloudWatch agent / OTel ecs_observer: --preset ecs-observer', () => {
  it('scrapes ECS_PROMETHEUS_EXPORTER_PORT through its port mapping, with its path and job', async () => {
    const fleet = emptyFleet();
    // The CloudWatch agent's own Fargate test: two containers on 9404 and 9406, hostPort = containerPort.
    const definition = addDefinition(
      fleet,
      makeTaskDefinition('prometheus-java-jmx', 4, 'awsvpc', [
        { name: 'jmx', dockerLabels: { ECS_PROMETHEUS_EXPORTER_PORT: '9404', ECS_PROMETHEUS_JOB_NAME: 'java-jmx' }, portMappings: [{ containerPort: 9404, hostPort: 9404 }] },
        { name: 'stats', dockerLabels: { ECS_PROMETHEUS_EXPORTER_PORT: '9406', ECS_PROMETHEUS_METRICS_PATH: '/stats/metrics' }, portMappings: [{ containerPort: 9406, hostPort: 9406 }] },
        { name: 'unmapped', dockerLabels: { ECS_PROMETHEUS_EXPORTER_PORT: '9999' } },
      ]),
    );
    addTask(fleet, { cluster: 'ExampleCluster', id: '1234567890123456789', definition, launchType: 'FARGATE', eniIp: '127.0.7.129', containers: [{ name: 'jmx' }, { name: 'stats' }, { name: 'unmapped' }] });

    const result = await runWith(fleet, ['--preset', 'ecs-observer']);

    // Its label set (target.go, and its testdata ut_targets_expected_no_job_relabel.yaml): __metrics_path__,
    // job only where the job label gives one, else the scrape config's; the rest are __meta_ecs_* labels.
    expect((await written())['tasks.json']).toEqual([
      { target: '127.0.7.129:9404', labels: { job: 'java-jmx', __metrics_path__: '/metrics' } },
      { target: '127.0.7.129:9406', labels: { __metrics_path__: '/stats/metrics' } },
    ]);
    expect(result.stderr).toContain('ECS_PROMETHEUS_EXPORTER_PORT 9999 is not a TCP port mapping of the container');
  });
});
