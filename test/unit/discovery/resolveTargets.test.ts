import { describe, expect, it } from 'vitest';
import { toTaskRecord, type TaskRecord } from '../../../src/discovery/model.js';
import {
  resolveTaskTargets,
  type ResolveOptions,
  type Skip,
  type Target,
  type TaskContext,
} from '../../../src/discovery/resolveTargets.js';
import {
  BATCH,
  BATCH_HOST,
  DEFAULT_OPTIONS,
  PROD_HOST,
  changeContainer,
  loadContext,
  onlyContainers,
  readDescribeTaskDefinition,
  readDescribeTasks,
  type FixtureKind,
} from '../../fixtures/ecsFixtures.js';

const BRIDGE_TASK = 'arn:aws:ecs:eu-west-1:123456789012:task/prod/5f7a3c1e9b2d4e6f8a0b1c2d3e4f5a6b';
const FARGATE_TASK = 'arn:aws:ecs:eu-west-1:123456789012:task/prod/9c2e4a6b8d0f4e1a3c5b7d9f1e3a5c7b';
const AWSVPC_EC2_TASK = 'arn:aws:ecs:eu-west-1:123456789012:task/batch/b1d3f5a7c9e04b2d6f8a1c3e5b7d9f0a';

const anyText = expect.any(String) as string;
/** Whose the fixture tasks are, as skips and warnings name them. */
const BRIDGE_OWNER = { family: 'web', revision: 7, service: 'web' };
const FARGATE_OWNER = { family: 'api', revision: 3, service: 'api' };

/** Targets in a fixed order (address, then path), so tests do not depend on resolution order. */
const sorted = (targets: Target[]): Target[] =>
  [...targets].sort((a, b) => {
    const left = `${a.address} ${a.labels['__metrics_path__']}`;
    const right = `${b.address} ${b.labels['__metrics_path__']}`;
    return left < right ? -1 : left > right ? 1 : 0;
  });

/** A copy of labels without the given names. */
const omit = (labels: Record<string, string>, ...names: string[]): Record<string, string> =>
  Object.fromEntries(Object.entries(labels).filter(([name]) => !names.includes(name)));

const PLACEMENT = ['cluster', 'task_version', 'task_id', 'container_id', 'instance_id'];

const containerNames = (targets: Target[]): string[] =>
  [...new Set(targets.map((target) => target.labels['__meta_ecs_container_name'] ?? '?'))].sort();

/** Re-reads a describe-tasks fixture after changing its raw API shape, through toTaskRecord. */
function taskFromRaw(kind: FixtureKind, change: (task: NonNullable<ReturnType<typeof readDescribeTasks>['tasks'][0]>) => void) {
  const raw = readDescribeTasks(kind).tasks[0];
  if (raw === undefined) throw new Error(`no task in fixture ${kind}`);
  change(raw);
  const record = toTaskRecord(raw);
  if (record === undefined) throw new Error('fixture task lost its ARN');
  return record;
}

/** Labels of the bridge fixture's "app" container (host 127.0.0.11, IPv4 host port 32768). */
function bridgeAppLabels(path: string): Record<string, string> {
  return {
    team: 'payments',
    instance: '127.0.0.11:32768',
    job: 'web',
    metrics_path: path,
    __metrics_path__: path,
    cluster: 'prod',
    task_version: '7',
    task_id: '5f7a3c1e9b2d4e6f8a0b1c2d3e4f5a6b',
    container_id: 'a3b9c1d7-2e4f-4a6b-8c0d-1e2f3a4b5c6d',
    instance_id: 'i-0a1b2c3d4e5f67890',
    __meta_ecs_account_id: '123456789012',
    __meta_ecs_cluster: 'prod',
    __meta_ecs_cluster_arn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod',
    __meta_ecs_region: 'eu-west-1',
    __meta_ecs_service: 'web',
    __meta_ecs_task_arn: BRIDGE_TASK,
    __meta_ecs_task_definition: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/web:7',
    __meta_ecs_task_group: 'service:web',
    __meta_ecs_launch_type: 'EC2',
    __meta_ecs_availability_zone: 'eu-west-1b',
    __meta_ecs_network_mode: 'bridge',
    __meta_ecs_health_status: 'HEALTHY',
    __meta_ecs_desired_status: 'RUNNING',
    __meta_ecs_last_status: 'RUNNING',
    __meta_ecs_task_started_by: 'ecs-svc/4372618890123456789',
    __meta_ecs_ip_address: '127.0.0.11',
    __meta_ecs_container_instance_arn:
      'arn:aws:ecs:eu-west-1:123456789012:container-instance/prod/8d2e6b4a1c3f4e5d9a7b0c1d2e3f4a5b',
    __meta_ecs_ec2_instance_id: 'i-0a1b2c3d4e5f67890',
    __meta_ecs_ec2_instance_type: 'm5.large',
    __meta_ecs_ec2_instance_private_ip: '127.0.0.11',
    __meta_ecs_task_definition_family: 'web',
    __meta_ecs_task_definition_revision: '7',
    __meta_ecs_container_name: 'app',
    __meta_ecs_container_image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:1.4.2',
    __meta_ecs_container_label_com_example_tier: 'frontend',
  };
}

/** The bridge fixture with only its "app" container (marked, dual-stack bindings). */
function bridgeApp(): TaskContext {
  const context = loadContext('bridge');
  return { ...context, definition: onlyContainers(context.definition!, 'app') };
}

/** The bridge context with the "app" container's settings changed. */
function bridgeAppWith(environment: Record<string, string | undefined>): TaskContext {
  const context = bridgeApp();
  return { ...context, definition: changeContainer(context.definition!, 'app', { environment }) };
}

const resolve = (context: TaskContext, options: Partial<ResolveOptions> = {}) =>
  resolveTaskTargets(context, { ...DEFAULT_OPTIONS, ...options });

describe('resolveTaskTargets: which containers are scraped', () => {
  it('yields targets for the containers whose task definition environment has the marker', () => {
    // Prepare
    const context = loadContext('bridge');

    // Act
    const resolution = resolve(context);

    // Assess
    expect(containerNames(resolution.targets)).toEqual(['app', 'nginx']);
    expect(resolution.skips).toEqual([]);
  });

  it('yields no target for a container without the marker variable', () => {
    // Prepare
    const context = loadContext('awsvpc-fargate');

    // Act
    const resolution = resolve(context);

    // Assess
    expect(containerNames(resolution.targets)).toEqual(['api']);
  });

  it('does not treat an empty marker value as a marker', () => {
    // Prepare: the fixture's envoy container has PROMETHEUS="" and a port binding
    const context = loadContext('bridge');
    const envoyOnly = { ...context, definition: onlyContainers(context.definition!, 'envoy') };

    // Act
    const resolution = resolve(envoyOnly);

    // Assess: its marker-like setting is kept for check's hint
    expect(resolution).toEqual({ targets: [], skips: [], warnings: [], marked: 0, markerHints: ['PROMETHEUS'] });
  });

  it.each([' ', 'false', 'FALSE', ' 0 ', 'no', 'Off'])('does not take the marker value %j for a yes', (value) => {
    // Prepare
    const context = bridgeAppWith({ PROMETHEUS: value });

    // Act
    const resolution = resolve(context);

    // Assess
    expect(resolution.targets).toEqual([]);
    expect(resolution.skips).toEqual([]);
  });

  it.each(['true', '1', 'yes', 'on', 'anything'])('takes the marker value %j for a yes', (value) => {
    expect(resolve(bridgeAppWith({ PROMETHEUS: value })).targets).toHaveLength(2);
  });

  it('marks only with the marker value setting, in any case, when it is set', () => {
    // Prepare: prometheus-ecs-discoverer 3.x marks with PROMETHEUS_TARGET=true only
    const options = { markerName: 'PROMETHEUS_TARGET', markerValue: 'true' };

    // Act
    const marked = resolve(bridgeAppWith({ PROMETHEUS_TARGET: 'TRUE' }), options);
    const notMarked = resolve(bridgeAppWith({ PROMETHEUS_TARGET: 'yes' }), options);
    const optedOut = resolve(bridgeAppWith({ PROMETHEUS_TARGET: 'false' }), options);

    // Assess
    expect(marked.targets).toHaveLength(2);
    expect(notMarked.targets).toEqual([]);
    expect(optedOut.targets).toEqual([]);
  });

  it('uses the marker name of the setting (PROMETHEUS_TARGET)', () => {
    // Prepare: app is marked with PROMETHEUS_TARGET, nginx only with PROMETHEUS
    const context = loadContext('bridge');
    const definition = changeContainer(context.definition!, 'app', { environment: { PROMETHEUS_TARGET: 'true' } });

    // Act
    const resolution = resolve({ ...context, definition }, { markerName: 'PROMETHEUS_TARGET' });

    // Assess
    expect(containerNames(resolution.targets)).toEqual(['app']);
  });

  it('ignores a marker in docker labels when the marker source is the environment', () => {
    // Prepare
    const context = loadContext('bridge');
    const definition = changeContainer(context.definition!, 'envoy', { dockerLabels: { PROMETHEUS: 'true' } });

    // Act
    const resolution = resolve({ ...context, definition });

    // Assess
    expect(containerNames(resolution.targets)).toEqual(['app', 'nginx']);
  });

  it('reads the marker from docker labels, not the environment, when the marker source is dockerLabels', () => {
    // Prepare: envoy is marked by a docker label; app and nginx only in their environment
    const context = loadContext('bridge');
    const definition = changeContainer(context.definition!, 'envoy', { dockerLabels: { PROMETHEUS: 'true' } });

    // Act
    const resolution = resolve({ ...context, definition }, { markerSource: 'dockerLabels' });

    // Assess
    expect(containerNames(resolution.targets)).toEqual(['envoy']);
  });

  it('reads the other settings from docker labels too when the marker source is dockerLabels', () => {
    // Prepare: the environment's PROMETHEUS_ENDPOINT and PROMETHEUS_LABEL_Team must be ignored
    const context = bridgeApp();
    const definition = changeContainer(context.definition!, 'app', {
      dockerLabels: {
        PROMETHEUS_TARGET: 'yes',
        PROMETHEUS_PORT: '9000',
        PROMETHEUS_ENDPOINT: '1m:/stats',
        PROMETHEUS_LABEL_owner: 'alice',
      },
    });

    // Act
    const resolution = resolve({ ...context, definition }, { markerSource: 'dockerLabels', markerName: 'PROMETHEUS_TARGET' });

    // Assess
    expect(resolution.targets).toHaveLength(1);
    const [target] = resolution.targets;
    expect(target?.interval).toBe('1m');
    expect(target?.address).toBe('127.0.0.11:9000');
    expect(target?.labels).toMatchObject({ owner: 'alice', metrics_path: '/stats', instance: '127.0.0.11:9000' });
    expect(target?.labels).not.toHaveProperty('team');
  });
});

describe('resolveTaskTargets: the address', () => {
  it('uses the EC2 host IP and the IPv4 host port of the first binding in bridge mode (IPv6 binding listed first)', () => {
    // Prepare
    const context = bridgeApp();

    // Act
    const resolution = resolve(context);

    // Assess
    expect(resolution.targets.map((target) => target.address)).toEqual(['127.0.0.11:32768', '127.0.0.11:32768']);
  });

  it('uses the IPv4 host port of the binding of PROMETHEUS_CONTAINER_PORT in bridge mode', () => {
    // Prepare
    const context = loadContext('bridge');
    const nginxOnly = { ...context, definition: onlyContainers(context.definition!, 'nginx') };

    // Act
    const resolution = resolve(nginxOnly);

    // Assess
    expect(resolution.targets.map((target) => target.address)).toEqual(['127.0.0.11:32772']);
  });

  it('skips a container whose PROMETHEUS_CONTAINER_PORT has no binding, while another container of the task still yields its target', () => {
    // Prepare
    const context = loadContext('bridge');
    // "app" comes first in the definition: its skip must not stop the others
    const definition = changeContainer(context.definition!, 'app', { environment: { PROMETHEUS_CONTAINER_PORT: '9999' } });

    // Act
    const resolution = resolve({ ...context, definition });

    // Assess
    expect(resolution.targets.map((target) => target.address)).toEqual(['127.0.0.11:32772']);
    expect(resolution.skips).toEqual([
      { cluster: 'prod', taskArn: BRIDGE_TASK, ...BRIDGE_OWNER, container: 'app', reason: 'no_port_binding', detail: anyText },
    ]);
  });

  it('uses PROMETHEUS_PORT in bridge mode instead of the bindings', () => {
    // Prepare
    const context = bridgeAppWith({ PROMETHEUS_PORT: '9000' });

    // Act
    const resolution = resolve(context);

    // Assess
    expect(resolution.targets.map((target) => target.address)).toEqual(['127.0.0.11:9000', '127.0.0.11:9000']);
  });

  it('skips a container whose PROMETHEUS_PORT is "9x9"', () => {
    // Prepare
    const context = bridgeAppWith({ PROMETHEUS_PORT: '9x9' });

    // Act
    const resolution = resolve(context);

    // Assess
    expect(resolution.targets).toEqual([]);
    expect(resolution.skips).toEqual([
      { cluster: 'prod', taskArn: BRIDGE_TASK, ...BRIDGE_OWNER, container: 'app', reason: 'bad_port', detail: anyText },
    ]);
  });

  it('skips a container whose PROMETHEUS_PORT is 70000', () => {
    // Prepare
    const context = bridgeAppWith({ PROMETHEUS_PORT: '70000' });

    // Act
    const resolution = resolve(context);

    // Assess
    expect(resolution.targets).toEqual([]);
    expect(resolution.skips).toEqual([
      { cluster: 'prod', taskArn: BRIDGE_TASK, ...BRIDGE_OWNER, container: 'app', reason: 'bad_port', detail: anyText },
    ]);
  });

  it('skips a bridge container whose binding has host port 0', () => {
    // Prepare
    const context = bridgeApp();
    const task = taskFromRaw('bridge', (raw) => {
      for (const binding of raw.containers?.find((container) => container.name === 'app')?.networkBindings ?? []) {
        binding.hostPort = 0;
      }
    });

    // Act
    const resolution = resolve({ ...context, task });

    // Assess
    expect(resolution.targets).toEqual([]);
    expect(resolution.skips).toEqual([
      { cluster: 'prod', taskArn: BRIDGE_TASK, ...BRIDGE_OWNER, container: 'app', reason: 'bad_port', detail: anyText },
    ]);
  });

  it('skips a bridge container without network bindings', () => {
    // Prepare
    const context = bridgeApp();
    const task = taskFromRaw('bridge', (raw) => {
      const app = raw.containers?.find((container) => container.name === 'app');
      if (app) app.networkBindings = [];
    });

    // Act
    const resolution = resolve({ ...context, task });

    // Assess
    expect(resolution.targets).toEqual([]);
    expect(resolution.skips).toEqual([
      { cluster: 'prod', taskArn: BRIDGE_TASK, ...BRIDGE_OWNER, container: 'app', reason: 'no_port_binding', detail: anyText, transient: true },
    ]);
  });

  it('skips a bridge container that DescribeTasks does not list', () => {
    // Prepare
    const context = bridgeApp();
    const task: TaskRecord = { ...context.task, containers: context.task.containers.filter((c) => c.name !== 'app') };

    // Act
    const resolution = resolve({ ...context, task });

    // Assess
    expect(resolution.targets).toEqual([]);
    expect(resolution.skips).toEqual([
      { cluster: 'prod', taskArn: BRIDGE_TASK, ...BRIDGE_OWNER, container: 'app', reason: 'no_port_binding', detail: anyText, transient: true },
    ]);
  });

  it('accepts ports that the API gives as decimal text', () => {
    // Prepare
    const context = bridgeApp();
    const task = taskFromRaw('bridge', (raw) => {
      for (const binding of raw.containers?.find((container) => container.name === 'app')?.networkBindings ?? []) {
        Object.assign(binding, { containerPort: String(binding.containerPort), hostPort: String(binding.hostPort) });
      }
    });

    // Act
    const resolution = resolve({ ...context, task });

    // Assess
    expect(resolution.targets.map((target) => target.address)).toEqual(['127.0.0.11:32768', '127.0.0.11:32768']);
  });

  it('uses the EC2 host IP and the first port mapping in host mode', () => {
    // Prepare
    const context = loadContext('host');
    const nodeExporter = { ...context, definition: onlyContainers(context.definition!, 'node-exporter') };

    // Act
    const resolution = resolve(nodeExporter);

    // Assess
    expect(resolution.targets.map((target) => target.address)).toEqual(['127.0.0.11:9100']);
  });

  it('uses PROMETHEUS_PORT in host mode', () => {
    // Prepare: cadvisor has no port mappings and PROMETHEUS_PORT=8081
    const context = loadContext('host');
    const cadvisor = { ...context, definition: onlyContainers(context.definition!, 'cadvisor') };

    // Act
    const resolution = resolve(cadvisor);

    // Assess
    expect(resolution.targets.map((target) => target.address)).toEqual(['127.0.0.11:8081']);
  });

  it('uses port 80 in host mode when the container has no port mappings and no PROMETHEUS_PORT', () => {
    // Prepare
    const context = loadContext('host');
    const definition = changeContainer(onlyContainers(context.definition!, 'cadvisor'), 'cadvisor', {
      environment: { PROMETHEUS_PORT: undefined },
    });

    // Act
    const resolution = resolve({ ...context, definition });

    // Assess
    expect(resolution.targets.map((target) => target.address)).toEqual(['127.0.0.11:80']);
  });

  it('uses the container network interface IP and the first port mapping of a Fargate task', () => {
    // Prepare
    const context = loadContext('awsvpc-fargate');

    // Act
    const resolution = resolve(context);

    // Assess
    expect(resolution.targets.map((target) => target.address)).toEqual(['127.0.1.10:8080']);
  });

  it('prefers the container network interface IP over the ENI attachment IP', () => {
    // Prepare
    const context = loadContext('awsvpc-fargate');
    const task = taskFromRaw('awsvpc-fargate', (raw) => {
      const detail = raw.attachments?.[0]?.details?.find((entry) => entry.name === 'privateIPv4Address');
      if (detail) detail.value = '127.0.1.99';
    });

    // Act
    const resolution = resolve({ ...context, task });

    // Assess
    expect(resolution.targets.map((target) => target.address)).toEqual(['127.0.1.10:8080']);
  });

  it('falls back to the ENI attachment IP when the container has no network interface', () => {
    // Prepare
    const context = loadContext('awsvpc-fargate');
    const task = taskFromRaw('awsvpc-fargate', (raw) => {
      for (const container of raw.containers ?? []) delete container.networkInterfaces;
      const detail = raw.attachments?.[0]?.details?.find((entry) => entry.name === 'privateIPv4Address');
      if (detail) detail.value = '127.0.1.99';
    });

    // Act
    const resolution = resolve({ ...context, task });

    // Assess
    expect(resolution.targets.map((target) => target.address)).toEqual(['127.0.1.99:8080']);
  });

  it('skips an awsvpc container when neither the container nor the ENI has an IP', () => {
    // Prepare
    const context = loadContext('awsvpc-fargate');
    const task = taskFromRaw('awsvpc-fargate', (raw) => {
      for (const container of raw.containers ?? []) delete container.networkInterfaces;
      raw.attachments = [];
    });

    // Act
    const resolution = resolve({ ...context, task });

    // Assess
    expect(resolution.targets).toEqual([]);
    expect(resolution.skips).toEqual([
      { cluster: 'prod', taskArn: FARGATE_TASK, ...FARGATE_OWNER, container: 'api', reason: 'no_ip', detail: anyText, transient: true },
    ]);
  });

  it('uses the task IP, not the EC2 host IP, for an awsvpc task on EC2', () => {
    // Prepare
    const context = loadContext('awsvpc-ec2');

    // Act
    const resolution = resolve(context);

    // Assess
    expect(resolution.targets.map((target) => target.address)).toEqual(['127.0.2.20:9102', '127.0.2.20:9102']);
  });

  it('uses PROMETHEUS_PORT in awsvpc mode instead of the port mappings', () => {
    // Prepare
    const context = loadContext('awsvpc-fargate');
    const definition = changeContainer(context.definition!, 'api', { environment: { PROMETHEUS_PORT: '9090' } });

    // Act
    const resolution = resolve({ ...context, definition });

    // Assess
    expect(resolution.targets.map((target) => target.address)).toEqual(['127.0.1.10:9090']);
  });

  it('uses the container port of the first mapping in awsvpc mode when it has no host port', () => {
    // Prepare
    const context = loadContext('awsvpc-fargate');
    const definition = changeContainer(context.definition!, 'api', { portMappings: [{ containerPort: 9464 }] });

    // Act
    const resolution = resolve({ ...context, definition });

    // Assess
    expect(resolution.targets.map((target) => target.address)).toEqual(['127.0.1.10:9464']);
  });

  it('uses port 80 in awsvpc mode when the container has no port mappings', () => {
    // Prepare
    const context = loadContext('awsvpc-fargate');
    const definition = changeContainer(context.definition!, 'api', { portMappings: [] });

    // Act
    const resolution = resolve({ ...context, definition });

    // Assess
    expect(resolution.targets.map((target) => target.address)).toEqual(['127.0.1.10:80']);
  });

  it('skips with host_not_found when EC2 no longer returns the instance', () => {
    // Prepare
    const context: TaskContext = { ...bridgeApp(), host: { containerInstanceArn: PROD_HOST.containerInstanceArn, instanceId: PROD_HOST.instanceId, found: false } };

    // Act
    const resolution = resolve(context);

    // Assess
    expect(resolution).toEqual({
      targets: [],
      skips: [{ cluster: 'prod', taskArn: BRIDGE_TASK, ...BRIDGE_OWNER, container: 'app', reason: 'host_not_found', detail: anyText }],
      warnings: [],      marked: 1,
      markerHints: [],
    });
  });

  it('skips with container_instance_not_found when the container instance has no EC2 instance id', () => {
    // Prepare
    const context: TaskContext = {
      ...bridgeApp(),
      host: { containerInstanceArn: PROD_HOST.containerInstanceArn },
    };

    // Act
    const resolution = resolve(context);

    // Assess
    expect(resolution).toEqual({
      targets: [],
      skips: [
        { cluster: 'prod', taskArn: BRIDGE_TASK, ...BRIDGE_OWNER, container: 'app', reason: 'container_instance_not_found', detail: anyText },
      ],
      warnings: [],      marked: 1,
      markerHints: [],
    });
  });

  it('skips with container_instance_not_found when the host is unknown', () => {
    // Prepare
    const context: TaskContext = { ...bridgeApp(), host: undefined };

    // Act
    const resolution = resolve(context);

    // Assess
    expect(resolution.skips).toEqual([
      { cluster: 'prod', taskArn: BRIDGE_TASK, ...BRIDGE_OWNER, container: 'app', reason: 'container_instance_not_found', detail: anyText },
    ]);
  });

  it('skips a host mode container when EC2 no longer returns the instance', () => {
    // Prepare
    const context = loadContext('host');
    const hostless: TaskContext = {
      ...context,
      definition: onlyContainers(context.definition!, 'node-exporter'),
      host: { containerInstanceArn: PROD_HOST.containerInstanceArn, instanceId: PROD_HOST.instanceId, found: false },
    };

    // Act
    const resolution = resolve(hostless);

    // Assess
    expect(resolution.targets).toEqual([]);
    expect(resolution.skips).toEqual([
      {
        cluster: 'prod',
        taskArn: 'arn:aws:ecs:eu-west-1:123456789012:task/prod/d4f6a8c0e2b14d3f5a7c9e1b3d5f7a9c',
        family: 'node-exporter',
        revision: 2,
        service: 'node-exporter',
        container: 'node-exporter',
        reason: 'host_not_found',
        detail: anyText,
      },
    ]);
  });

  it('skips the task with task_definition_unavailable when its definition is missing', () => {
    // Prepare
    const context: TaskContext = { ...loadContext('bridge'), definition: undefined };

    // Act
    const resolution = resolve(context);

    // Assess
    const expected: Skip = {
      cluster: 'prod',
      taskArn: BRIDGE_TASK, ...BRIDGE_OWNER,
      container: '*',
      reason: 'task_definition_unavailable',
      detail: expect.stringContaining('arn:aws:ecs:eu-west-1:123456789012:task-definition/web:7') as string,
    };
    expect(resolution).toEqual({ targets: [], skips: [expected], warnings: [], marked: 0, markerHints: [] });
  });

  it('treats a definition without network mode as bridge', () => {
    // Prepare
    const context = bridgeApp();
    const definition = { ...context.definition!, networkMode: undefined };

    // Act
    const resolution = resolve({ ...context, definition });

    // Assess
    expect(resolution.targets.map((target) => target.address)).toEqual(['127.0.0.11:32768', '127.0.0.11:32768']);
  });

  it('skips a container of a task in network mode none', () => {
    // Prepare
    const context = bridgeApp();
    const definition = { ...context.definition!, networkMode: 'none' };

    // Act
    const resolution = resolve({ ...context, definition });

    // Assess
    expect(resolution.targets).toEqual([]);
    expect(resolution.skips).toEqual([
      { cluster: 'prod', taskArn: BRIDGE_TASK, ...BRIDGE_OWNER, container: 'app', reason: 'unsupported_network_mode', detail: anyText },
    ]);
  });
});

describe('resolveTaskTargets: bad data never fails the round', () => {
  it('resolves the good tasks and reports the bad ones', () => {
    // Prepare
    const broken: TaskContext = { ...loadContext('bridge'), definition: undefined };
    const hostless: TaskContext = { ...loadContext('host'), host: undefined };
    const good = loadContext('awsvpc-fargate');

    // Act
    const resolutions = [broken, hostless, good].map((context) => resolveTaskTargets(context, DEFAULT_OPTIONS));

    // Assess
    expect(resolutions.flatMap((resolution) => resolution.targets).map((target) => target.address)).toEqual(['127.0.1.10:8080']);
    expect(resolutions.flatMap((resolution) => resolution.skips).map((skip) => [skip.container, skip.reason])).toEqual([
      ['*', 'task_definition_unavailable'],
      ['node-exporter', 'container_instance_not_found'],
      ['cadvisor', 'container_instance_not_found'],
    ]);
  });
});

describe('resolveTaskTargets: metrics paths and intervals', () => {
  it('yields one target per path, in the group of its interval', () => {
    // Prepare: PROMETHEUS_ENDPOINT="15s:/metrics, /admin/metrics"
    const context = bridgeApp();

    // Act
    const resolution = resolve(context);

    // Assess
    expect(sorted(resolution.targets).map((target) => [target.interval, target.labels['metrics_path']])).toEqual([
      ['generic', '/admin/metrics'],
      ['15s', '/metrics'],
    ]);
  });

  it('puts the paths of an awsvpc task on EC2 in the 1m and 5m groups', () => {
    // Prepare: PROMETHEUS_ENDPOINT="1m:/metrics,5m:/metrics/slow"
    const context = loadContext('awsvpc-ec2');

    // Act
    const resolution = resolve(context);

    // Assess
    expect(sorted(resolution.targets).map((target) => [target.interval, target.labels['__metrics_path__']])).toEqual([
      ['1m', '/metrics'],
      ['5m', '/metrics/slow'],
    ]);
  });

  it('uses the default path of the setting when PROMETHEUS_ENDPOINT is unset', () => {
    // Prepare
    const context = loadContext('host');

    // Act
    const resolution = resolve(context, { defaultMetricsPath: '/prometheus' });

    // Assess
    expect(resolution.targets.map((target) => [target.interval, target.labels['metrics_path']])).toEqual([
      ['generic', '/prometheus'],
      ['generic', '/prometheus'],
    ]);
  });

  it('uses the default path when PROMETHEUS_ENDPOINT is empty', () => {
    // Prepare
    const context = bridgeAppWith({ PROMETHEUS_ENDPOINT: '' });

    // Act
    const resolution = resolve(context);

    // Assess
    expect(resolution.targets.map((target) => [target.interval, target.labels['metrics_path']])).toEqual([
      ['generic', '/metrics'],
    ]);
  });

  it('puts a path of an unknown interval in the generic group and warns about that container', () => {
    // Prepare
    const context = bridgeAppWith({ PROMETHEUS_ENDPOINT: '2m:/metrics' });

    // Act
    const resolution = resolve(context);

    // Assess
    expect(resolution.targets.map((target) => [target.interval, target.labels['metrics_path']])).toEqual([
      ['generic', '/metrics'],
    ]);
    expect(resolution.warnings).toEqual([
      { cluster: 'prod', taskArn: BRIDGE_TASK, ...BRIDGE_OWNER, container: 'app', message: expect.stringContaining('2m') as string },
    ]);
  });

  it('puts "/" in front of a path without it and warns about that container', () => {
    // Prepare
    const context = bridgeAppWith({ PROMETHEUS_ENDPOINT: '30s:stats' });

    // Act
    const resolution = resolve(context);

    // Assess
    expect(resolution.targets.map((target) => [target.interval, target.labels['__metrics_path__']])).toEqual([
      ['30s', '/stats'],
    ]);
    expect(resolution.warnings).toEqual([
      { cluster: 'prod', taskArn: BRIDGE_TASK, ...BRIDGE_OWNER, container: 'app', message: expect.stringContaining('stats') as string },
    ]);
  });

  it('yields one target for a path given twice, in the group of the last entry', () => {
    // Prepare
    const context = bridgeAppWith({ PROMETHEUS_ENDPOINT: '15s:/metrics, 5m:/metrics' });

    // Act
    const resolution = resolve(context);

    // Assess
    expect(resolution.targets.map((target) => [target.interval, target.labels['metrics_path']])).toEqual([
      ['5m', '/metrics'],
    ]);
  });
});

describe('resolveTaskTargets: labels', () => {
  it('gives a bridge target its custom, identity, placement and meta labels', () => {
    // Prepare
    const context = bridgeApp();

    // Act
    const resolution = resolve(context);

    // Assess
    expect(sorted(resolution.targets)).toEqual([
      { interval: 'generic', cluster: 'prod', address: '127.0.0.11:32768', labels: bridgeAppLabels('/admin/metrics') },
      { interval: '15s', cluster: 'prod', address: '127.0.0.11:32768', labels: bridgeAppLabels('/metrics') },
    ]);
    expect(resolution.warnings).toEqual([]);
  });

  it("defines each target's labels in sorted order, so that its text is written without sorting them (toGroupJson)", () => {
    const targets = [...resolve(bridgeApp()).targets, ...resolve(loadContext('awsvpc-fargate')).targets, ...resolve(bridgeAppWith({ PROMETHEUS_SCHEME: 'https' })).targets];

    expect(targets.length).toBeGreaterThanOrEqual(4);
    for (const { labels } of targets) expect(Object.keys(labels)).toEqual(Object.keys(labels).sort());
    expect(targets.some(({ labels }) => labels['__scheme__'] === 'https')).toBe(true);
  });

  it('gives a Fargate target no EC2 instance labels and no instance_id', () => {
    // Prepare
    const context = loadContext('awsvpc-fargate');

    // Act
    const resolution = resolve(context);

    // Assess
    expect(resolution.targets).toEqual([
      {
        interval: '30s',
        cluster: 'prod',
        address: '127.0.1.10:8080',
        labels: {
          instance: '127.0.1.10:8080',
          job: 'api',
          metrics_path: '/metrics',
          __metrics_path__: '/metrics',
          cluster: 'prod',
          task_version: '3',
          task_id: '9c2e4a6b8d0f4e1a3c5b7d9f1e3a5c7b',
          container_id: '2b4d6f8a-0c1e-4a3b-9d5f-7e9a1c3b5d7f',
          __meta_ecs_account_id: '123456789012',
          __meta_ecs_cluster: 'prod',
          __meta_ecs_cluster_arn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod',
          __meta_ecs_region: 'eu-west-1',
          __meta_ecs_service: 'api',
          __meta_ecs_task_arn: FARGATE_TASK,
          __meta_ecs_task_definition: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/api:3',
          __meta_ecs_task_group: 'service:api',
          __meta_ecs_launch_type: 'FARGATE',
          __meta_ecs_availability_zone: 'eu-west-1a',
          __meta_ecs_network_mode: 'awsvpc',
          __meta_ecs_health_status: 'HEALTHY',
          // Also from the DescribeTasks answer: no call of their own.
          __meta_ecs_desired_status: 'RUNNING',
          __meta_ecs_last_status: 'RUNNING',
          __meta_ecs_platform_family: 'Linux',
          __meta_ecs_platform_version: '1.4.0',
          __meta_ecs_subnet_id: 'subnet-0a1b2c3d4e5f67890',
          __meta_ecs_capacity_provider: 'FARGATE',
          __meta_ecs_task_started_by: 'ecs-svc/8816045532109876543',
          __meta_ecs_ip_address: '127.0.1.10',
          __meta_ecs_task_definition_family: 'api',
          __meta_ecs_task_definition_revision: '3',
          __meta_ecs_container_name: 'api',
          __meta_ecs_container_image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:2.8.0',
          // Task tags, named as in the README's list of __meta_ecs_* labels.
          __meta_ecs_tag_task_team: 'search',
          __meta_ecs_tag_task_cost_center: 'cc-1042',
        },
      },
    ]);
  });

  it('gives an awsvpc target on EC2 the instance labels and no service label outside a service', () => {
    // Prepare
    const context = loadContext('awsvpc-ec2');

    // Act
    const resolution = resolve(context);

    // Assess
    const [first] = sorted(resolution.targets);
    expect(first).toEqual({
      interval: '1m',
      cluster: 'batch',
      address: '127.0.2.20:9102',
      labels: {
        instance: '127.0.2.20:9102',
        job: 'worker',
        metrics_path: '/metrics',
        __metrics_path__: '/metrics',
        cluster: 'batch',
        task_version: '12',
        task_id: 'b1d3f5a7c9e04b2d6f8a1c3e5b7d9f0a',
        container_id: 'e5b7d9f1-a3c5-4e7b-9d1f-3a5c7e9b1d3f',
        instance_id: BATCH_HOST.instanceId,
        __meta_ecs_account_id: '123456789012',
        __meta_ecs_cluster: 'batch',
        __meta_ecs_cluster_arn: BATCH.arn,
        __meta_ecs_region: 'eu-west-1',
        __meta_ecs_task_arn: AWSVPC_EC2_TASK,
        __meta_ecs_task_definition: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/worker:12',
        __meta_ecs_task_group: 'family:worker',
        __meta_ecs_launch_type: 'EC2',
        __meta_ecs_availability_zone: 'eu-west-1c',
        __meta_ecs_network_mode: 'awsvpc',
        __meta_ecs_health_status: 'UNKNOWN',
        __meta_ecs_desired_status: 'RUNNING',
        __meta_ecs_last_status: 'RUNNING',
        // The ENI's subnet in awsvpc mode, as Prometheus' role; the host's addresses all the same.
        __meta_ecs_subnet_id: 'subnet-0b2c4d6e8f0a13579',
        __meta_ecs_task_started_by: 'events-rule/nightly-reindex',
        __meta_ecs_ip_address: '127.0.2.20',
        __meta_ecs_container_instance_arn: BATCH_HOST.containerInstanceArn,
        __meta_ecs_ec2_instance_id: BATCH_HOST.instanceId,
        __meta_ecs_ec2_instance_type: 'c6i.xlarge',
        __meta_ecs_ec2_instance_private_ip: '127.0.0.21',
        __meta_ecs_task_definition_family: 'worker',
        __meta_ecs_task_definition_revision: '12',
        __meta_ecs_container_name: 'worker',
        __meta_ecs_container_image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/worker:5.0.1',
      },
    });
  });

  it('gives a host mode target the host network mode and the EC2 instance labels', () => {
    // Prepare
    const context = loadContext('host');
    const nodeExporter = { ...context, definition: onlyContainers(context.definition!, 'node-exporter') };

    // Act
    const resolution = resolve(nodeExporter);

    // Assess
    expect(resolution.targets[0]?.labels).toMatchObject({
      instance: '127.0.0.11:9100',
      job: 'node-exporter',
      instance_id: 'i-0a1b2c3d4e5f67890',
      __meta_ecs_network_mode: 'host',
      __meta_ecs_ip_address: '127.0.0.11',
      __meta_ecs_ec2_instance_id: 'i-0a1b2c3d4e5f67890',
      __meta_ecs_ec2_instance_type: 'm5.large',
      __meta_ecs_service: 'node-exporter',
    });
  });

  it('skips custom labels with invalid names, with a warning each', () => {
    // Prepare
    const context = bridgeAppWith({
      PROMETHEUS_ENDPOINT: '/metrics',
      PROMETHEUS_LABEL_1abc: 'x',
      PROMETHEUS_LABEL___x: 'y',
      'PROMETHEUS_LABEL_a-b': 'z',
    });

    // Act
    const resolution = resolve(context);

    // Assess
    expect(resolution.targets.map((target) => target.labels)).toEqual([bridgeAppLabels('/metrics')]);
    expect(resolution.warnings).toEqual([
      { cluster: 'prod', taskArn: BRIDGE_TASK, ...BRIDGE_OWNER, container: 'app', message: expect.stringContaining('1abc') as string },
      { cluster: 'prod', taskArn: BRIDGE_TASK, ...BRIDGE_OWNER, container: 'app', message: expect.stringContaining('__x') as string },
      { cluster: 'prod', taskArn: BRIDGE_TASK, ...BRIDGE_OWNER, container: 'app', message: expect.stringContaining('a-b') as string },
    ]);
  });

  it('never lets custom labels override the identity and placement labels', () => {
    // Prepare
    const context = bridgeAppWith({
      PROMETHEUS_ENDPOINT: '/metrics',
      PROMETHEUS_LABEL_instance: 'spoofed',
      PROMETHEUS_LABEL_job: 'spoofed',
      PROMETHEUS_LABEL_metrics_path: '/spoofed',
      PROMETHEUS_LABEL_cluster: 'spoofed',
      PROMETHEUS_LABEL_task_version: 'spoofed',
      PROMETHEUS_LABEL_task_id: 'spoofed',
      PROMETHEUS_LABEL_container_id: 'spoofed',
      PROMETHEUS_LABEL_instance_id: 'spoofed',
    });

    // Act
    const resolution = resolve(context);

    // Assess
    expect(resolution.targets.map((target) => target.labels)).toEqual([bridgeAppLabels('/metrics')]);
  });

  it('uses the custom label prefix of the setting', () => {
    // Prepare
    const context = bridgeAppWith({ PROMETHEUS_ENDPOINT: '/metrics', ECS_LABEL_Owner: 'alice' });

    // Act
    const resolution = resolve(context, { labelPrefix: 'ECS_LABEL_' });

    // Assess
    expect(resolution.targets.map((target) => target.labels)).toEqual([
      { ...omit(bridgeAppLabels('/metrics'), 'team'), owner: 'alice' },
    ]);
  });

  it('uses the placement label names of the settings', () => {
    // Prepare
    const context = bridgeAppWith({ PROMETHEUS_ENDPOINT: '/metrics' });
    const labelNames = {
      cluster: 'ecs_cluster',
      taskVersion: 'ecs_task_version',
      taskId: 'ecs_task_id',
      containerId: 'ecs_container_id',
      instanceId: 'ec2_instance_id',
    };

    // Act
    const resolution = resolve(context, { labelNames });

    // Assess
    const rest = omit(bridgeAppLabels('/metrics'), ...PLACEMENT);
    expect(resolution.targets.map((target) => target.labels)).toEqual([
      {
        ...rest,
        ecs_cluster: 'prod',
        ecs_task_version: '7',
        ecs_task_id: '5f7a3c1e9b2d4e6f8a0b1c2d3e4f5a6b',
        ecs_container_id: 'a3b9c1d7-2e4f-4a6b-8c0d-1e2f3a4b5c6d',
        ec2_instance_id: 'i-0a1b2c3d4e5f67890',
      },
    ]);
  });

  it('never lets custom labels override placement labels of renamed settings', () => {
    // Prepare
    const context = bridgeAppWith({ PROMETHEUS_ENDPOINT: '/metrics', PROMETHEUS_LABEL_ecs_cluster: 'spoofed' });
    const labelNames = { ...DEFAULT_OPTIONS.labelNames, cluster: 'ecs_cluster' };

    // Act
    const resolution = resolve(context, { labelNames });

    // Assess
    expect(resolution.targets[0]?.labels['ecs_cluster']).toBe('prod');
  });

  it('with PROMETHEUS_NOLABELS, uses the family as instance and job, leaves out placement labels and keeps custom labels', () => {
    // Prepare
    const context = bridgeAppWith({ PROMETHEUS_ENDPOINT: '/metrics', PROMETHEUS_NOLABELS: 'true' });

    // Act
    const resolution = resolve(context);

    // Assess
    const rest = omit(bridgeAppLabels('/metrics'), ...PLACEMENT);
    expect(resolution.targets).toEqual([
      {
        interval: 'generic',
        cluster: 'prod',
        address: '127.0.0.11:32768',
        labels: { ...rest, instance: 'web', job: 'web', team: 'payments' },
      },
    ]);
  });

  it('with PROMETHEUS_NOLABELS on Fargate, leaves out the placement labels', () => {
    // Prepare
    const context = loadContext('awsvpc-fargate');
    const definition = changeContainer(context.definition!, 'api', { environment: { PROMETHEUS_NOLABELS: '1' } });

    // Act
    const resolution = resolve({ ...context, definition });

    // Assess
    const labels = resolution.targets[0]?.labels ?? {};
    const visible = Object.fromEntries(Object.entries(labels).filter(([name]) => !name.startsWith('__')));
    expect(visible).toEqual({ instance: 'api', job: 'api', metrics_path: '/metrics' });
  });

  it('ignores an empty PROMETHEUS_NOLABELS', () => {
    // Prepare
    const context = bridgeAppWith({ PROMETHEUS_ENDPOINT: '/metrics', PROMETHEUS_NOLABELS: '' });

    // Act
    const resolution = resolve(context);

    // Assess
    expect(resolution.targets.map((target) => target.labels)).toEqual([bridgeAppLabels('/metrics')]);
  });

  it.each([' ', 'false', '0', 'no', 'OFF'])('keeps the labels when PROMETHEUS_NOLABELS is %j (not a yes)', (value) => {
    // Prepare
    const context = bridgeAppWith({ PROMETHEUS_ENDPOINT: '/metrics', PROMETHEUS_NOLABELS: value });

    // Act
    const resolution = resolve(context);

    // Assess
    expect(resolution.targets[0]?.labels['instance']).toMatch(/:\d+$/);
    expect(resolution.targets[0]?.labels).toHaveProperty('task_id');
  });

  it('labels one target group per container and path', () => {
    // Prepare
    const context = loadContext('bridge');

    // Act
    const resolution = resolve(context);

    // Assess
    expect(
      sorted(resolution.targets).map((target) => [
        target.address,
        target.labels['__meta_ecs_container_name'],
        target.labels['__metrics_path__'],
      ]),
    ).toEqual([
      ['127.0.0.11:32768', 'app', '/admin/metrics'],
      ['127.0.0.11:32768', 'app', '/metrics'],
      ['127.0.0.11:32772', 'nginx', '/metrics'],
    ]);
  });

  it('gives the nginx target of the bridge fixture its own container labels', () => {
    // Prepare
    const context = loadContext('bridge');

    // Act
    const resolution = resolve(context);

    // Assess
    const nginx = resolution.targets.find((target) => target.labels['__meta_ecs_container_name'] === 'nginx');
    expect(nginx?.labels).toMatchObject({
      instance: '127.0.0.11:32772',
      job: 'web',
      container_id: 'c7e1f3a5-6b8d-4c0e-a2f4-b6c8d0e2f4a6',
      __meta_ecs_container_image: 'nginx:1.27.2',
    });
    expect(nginx?.labels).not.toHaveProperty('team');
    expect(nginx?.labels).not.toHaveProperty('__meta_ecs_container_label_com_example_tier');
  });
});

describe('fixtures', () => {
  it.each(['bridge', 'host', 'awsvpc-fargate', 'awsvpc-ec2', 'awsvpc-ipv6', 'external', 'bridge-ports', 'awsvpc-ec2-ipv6'] as const)(
    'uses only loopback addresses in the %s fixtures',
    (kind) => {
      // Prepare
      const text = JSON.stringify([readDescribeTasks(kind), readDescribeTaskDefinition(kind)]);

      // Act
      const addresses = text.match(/\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/g) ?? [];

      // Assess
      expect(addresses.filter((address) => address !== '0.0.0.0' && !address.startsWith('127.'))).toEqual([]);
    },
  );
});
