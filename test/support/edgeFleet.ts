import type { FakeFleet } from '../../src/fake/fakeAws.js';
import { addDefinition, addHost, addTask, clusterOf, emptyFleet, makeTaskDefinition, taskArn } from '../../src/fake/fleet.js';

/**
 * One fleet with every network mode and the edge cases of the README's rules, and the targets the
 * rules imply, written out by hand (not computed by the code under test).
 */
export function edgeFleet(): FakeFleet {
  const fleet = emptyFleet();
  const hostA = addHost(fleet, 'prod', 'i-0aaaaaaaaaaaaaaa1', '127.0.10.1');
  const hostB = addHost(fleet, 'prod', 'i-0bbbbbbbbbbbbbbb2', '127.0.10.2');
  const goneHost = addHost(fleet, 'prod', 'i-0dead00000000000', '127.0.10.3');
  fleet.instances.delete('i-0dead00000000000');

  // bridge, dual-stack host: the IPv6 binding comes first and has another port.
  const api = addDefinition(
    fleet,
    makeTaskDefinition('api', 7, 'bridge', [
      {
        name: 'api',
        environment: { PROMETHEUS: 'true', PROMETHEUS_ENDPOINT: ' 15s:/metrics , 1m:admin/metrics ,, ', PROMETHEUS_LABEL_team: 'payments' },
        portMappings: [{ containerPort: 8080, hostPort: 0 }],
      },
    ]),
  );
  addTask(fleet, {
    cluster: 'prod',
    id: 'bridge1',
    definition: api,
    containerInstanceArn: hostA,
    containers: [
      {
        name: 'api',
        id: 'c-bridge1',
        bindings: [
          { bindIP: '::', containerPort: 8080, hostPort: 32781 },
          { bindIP: '0.0.0.0', containerPort: 8080, hostPort: 32780 },
        ],
      },
    ],
  });

  // bridge with PROMETHEUS_CONTAINER_PORT; its sidecar asks for a port that is not bound.
  const jobs = addDefinition(
    fleet,
    makeTaskDefinition('jobs', 2, 'bridge', [
      { name: 'jobs', environment: { PROMETHEUS: '1', PROMETHEUS_CONTAINER_PORT: '9090' } },
      { name: 'envoy', environment: { PROMETHEUS: '1', PROMETHEUS_CONTAINER_PORT: '9999' } },
      { name: 'unmarked', environment: { PROMETHEUS: '' } },
    ]),
  );
  addTask(fleet, {
    cluster: 'prod',
    id: 'bridge2',
    definition: jobs,
    containerInstanceArn: hostB,
    containers: [
      {
        name: 'jobs',
        id: 'c-bridge2',
        bindings: [
          { containerPort: 8080, hostPort: 32790 },
          { containerPort: 9090, hostPort: 32791 },
        ],
      },
      { name: 'envoy', id: 'c-envoy', bindings: [{ containerPort: 15000, hostPort: 32792 }] },
      { name: 'unmarked', bindings: [{ containerPort: 1, hostPort: 32793 }] },
    ],
  });

  // host mode: the first port mapping; a custom label name Prometheus would reject.
  const node = addDefinition(
    fleet,
    makeTaskDefinition('node-exporter', 1, 'host', [
      {
        name: 'node',
        environment: { PROMETHEUS: 'yes', 'PROMETHEUS_LABEL_bad-name': 'x', PROMETHEUS_LABEL_JOB: 'not-the-job' },
        portMappings: [{ containerPort: 9100, hostPort: 9100 }, { containerPort: 9101 }],
      },
    ]),
  );
  addTask(fleet, { cluster: 'prod', id: 'host1', definition: node, containerInstanceArn: hostA, containers: [{ name: 'node', id: 'c-host1' }] });

  // awsvpc on EC2: the ENI address, and the EC2 instance id.
  const search = addDefinition(
    fleet,
    makeTaskDefinition('search', 4, 'awsvpc', [
      { name: 'search', environment: { PROMETHEUS: 'true', PROMETHEUS_ENDPOINT: '30s:/_prometheus/metrics' }, portMappings: [{ containerPort: 9200, hostPort: 9200 }] },
    ]),
  );
  addTask(fleet, {
    cluster: 'prod',
    id: 'vpc1',
    definition: search,
    containerInstanceArn: hostB,
    eniIp: '127.0.20.1',
    containers: [{ name: 'search', id: 'c-vpc1' }],
  });

  // Fargate singleton: no port mappings (port 80), PROMETHEUS_NOLABELS.
  const pushgateway = addDefinition(
    fleet,
    makeTaskDefinition('pushgateway', 3, 'awsvpc', [
      { name: 'pushgateway', environment: { PROMETHEUS: 'true', PROMETHEUS_NOLABELS: 'true', PROMETHEUS_ENDPOINT: '5m:/metrics', PROMETHEUS_LABEL_tier: 'shared' } },
    ]),
  );
  addTask(fleet, { cluster: 'prod', id: 'fargate1', definition: pushgateway, launchType: 'FARGATE', eniIp: '127.0.30.1', containers: [{ name: 'pushgateway', id: 'c-fargate1' }] });

  // Edge cases that yield nothing: a PENDING task, a bad port, a host that has gone.
  const web = addDefinition(
    fleet,
    makeTaskDefinition('web', 9, 'awsvpc', [{ name: 'web', environment: { PROMETHEUS: 'true' }, portMappings: [{ containerPort: 3000 }] }]),
  );
  addTask(fleet, { cluster: 'prod', id: 'pending1', definition: web, launchType: 'FARGATE', lastStatus: 'PENDING', eniIp: '127.0.30.9', containers: [{ name: 'web' }] });
  const badPort = addDefinition(
    fleet,
    makeTaskDefinition('badport', 1, 'awsvpc', [{ name: 'app', environment: { PROMETHEUS: 'true', PROMETHEUS_PORT: '9x9' } }]),
  );
  addTask(fleet, { cluster: 'prod', id: 'badport1', definition: badPort, launchType: 'FARGATE', eniIp: '127.0.30.8', containers: [{ name: 'app' }] });
  addTask(fleet, {
    cluster: 'prod',
    id: 'orphan1',
    definition: api,
    containerInstanceArn: goneHost,
    containers: [{ name: 'api', bindings: [{ containerPort: 8080, hostPort: 32799 }] }],
  });

  // A cluster with more than 100 tasks (two ListTasks pages, two DescribeTasks batches).
  const worker = addDefinition(
    fleet,
    makeTaskDefinition('worker', 12, 'awsvpc', [{ name: 'worker', environment: { PROMETHEUS: 'true', PROMETHEUS_ENDPOINT: '30s:/metrics' }, portMappings: [{ containerPort: 8000 }] }]),
  );
  for (let index = 0; index < BIG_CLUSTER_TASKS; index++) {
    addTask(fleet, {
      cluster: 'batch',
      id: `w${String(index).padStart(3, '0')}`,
      definition: worker,
      launchType: 'FARGATE',
      eniIp: bigClusterIp(index),
      containers: [{ name: 'worker' }],
    });
  }

  clusterOf(fleet, 'empty');
  return fleet;
}

export const BIG_CLUSTER_TASKS = 150;
export const bigClusterIp = (index: number) => `127.1.${Math.floor(index / 200)}.${(index % 200) + 1}`;

/** Labels step 3 of a prod target. */
const placement = (taskId: string, containerId: string, version: string, instanceId?: string) => ({
  cluster: 'prod',
  task_id: taskId,
  container_id: containerId,
  task_version: version,
  ...(instanceId && { instance_id: instanceId }),
});

/** The expected target groups of the prod cluster per file, without `__meta_*` labels. */
export const EXPECTED_PROD = {
  '15s-tasks.json': [
    {
      targets: ['127.0.10.1:32780'],
      labels: { team: 'payments', instance: '127.0.10.1:32780', job: 'api', metrics_path: '/metrics', __metrics_path__: '/metrics', ...placement('bridge1', 'c-bridge1', '7', 'i-0aaaaaaaaaaaaaaa1') },
    },
  ],
  '1m-tasks.json': [
    {
      targets: ['127.0.10.1:32780'],
      labels: {
        team: 'payments',
        instance: '127.0.10.1:32780',
        job: 'api',
        metrics_path: '/admin/metrics',
        __metrics_path__: '/admin/metrics',
        ...placement('bridge1', 'c-bridge1', '7', 'i-0aaaaaaaaaaaaaaa1'),
      },
    },
  ],
  '30s-tasks.json': [
    {
      targets: ['127.0.20.1:9200'],
      labels: {
        instance: '127.0.20.1:9200',
        job: 'search',
        metrics_path: '/_prometheus/metrics',
        __metrics_path__: '/_prometheus/metrics',
        ...placement('vpc1', 'c-vpc1', '4', 'i-0bbbbbbbbbbbbbbb2'),
      },
    },
  ],
  '5m-tasks.json': [
    {
      targets: ['127.0.30.1:80'],
      labels: { tier: 'shared', instance: 'pushgateway', job: 'pushgateway', metrics_path: '/metrics', __metrics_path__: '/metrics' },
    },
  ],
  'tasks.json': [
    {
      targets: ['127.0.10.1:9100'],
      labels: { instance: '127.0.10.1:9100', job: 'node-exporter', metrics_path: '/metrics', __metrics_path__: '/metrics', ...placement('host1', 'c-host1', '1', 'i-0aaaaaaaaaaaaaaa1') },
    },
    {
      targets: ['127.0.10.2:32791'],
      labels: { instance: '127.0.10.2:32791', job: 'jobs', metrics_path: '/metrics', __metrics_path__: '/metrics', ...placement('bridge2', 'c-bridge2', '2', 'i-0bbbbbbbbbbbbbbb2') },
    },
  ],
};

export const PENDING_TASK = taskArn('prod', 'pending1');
