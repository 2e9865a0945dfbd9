import type { FakeAws, FakeFleet } from './fakeAws.js';
import { addDefinition, addHost, addManagedHost, addTask, clusterOf, emptyFleet, makeTaskDefinition } from './fleet.js';

/**
 * The small mixed fleet of `demo`: two clusters with bridge, host and awsvpc tasks on EC2, Fargate
 * tasks, an ECS Anywhere host, a pending task, one container skipped and one warning, so that
 * every part of the status page has something to show. Every address is a loopback one.
 */
export function demoFleet(): FakeFleet {
  const fleet = emptyFleet();
  const web = addDefinition(
    fleet,
    makeTaskDefinition('web', 7, 'bridge', [
      { name: 'nginx', environment: { PROMETHEUS: 'true', PROMETHEUS_ENDPOINT: '30s:/metrics' }, portMappings: [{ containerPort: 8080, hostPort: 0 }] },
      { name: 'log-router', portMappings: [] },
    ]),
  );
  const api = addDefinition(
    fleet,
    makeTaskDefinition('api', 12, 'awsvpc', [
      {
        name: 'api',
        environment: { PROMETHEUS: 'true', PROMETHEUS_ENDPOINT: '15s:/metrics,1m:/metrics/slow', PROMETHEUS_LABEL_team: 'payments' },
        portMappings: [{ containerPort: 9090 }],
      },
    ]),
  );
  const nodeExporter = addDefinition(
    fleet,
    makeTaskDefinition('node-exporter', 3, 'host', [{ name: 'node-exporter', environment: { PROMETHEUS: 'true' }, portMappings: [{ containerPort: 9100, hostPort: 9100 }] }]),
  );
  const worker = addDefinition(
    fleet,
    makeTaskDefinition('worker', 4, 'awsvpc', [
      // Marked, with a port that is no number: skipped, with the reason on the status page.
      { name: 'worker', environment: { PROMETHEUS: 'true', PROMETHEUS_PORT: '9x9', PROMETHEUS_ENDPOINT: '5m:/metrics' }, portMappings: [{ containerPort: 9300 }] },
    ]),
  );
  const reports = addDefinition(
    fleet,
    makeTaskDefinition('reports', 2, 'awsvpc', [
      // A label name Prometheus would refuse: a warning.
      { name: 'reports', environment: { PROMETHEUS: 'true', 'PROMETHEUS_LABEL_cost-centre': 'finance' }, portMappings: [{ containerPort: 8000 }] },
    ]),
  );
  const edge = addDefinition(
    fleet,
    makeTaskDefinition('edge-agent', 1, 'host', [{ name: 'agent', environment: { PROMETHEUS: 'true', PROMETHEUS_ENDPOINT: '1m:/metrics' }, portMappings: [{ containerPort: 9400, hostPort: 9400 }] }]),
  );

  const hosts = [addHost(fleet, 'demo-web', 'i-0000000000000d001', '127.0.10.1'), addHost(fleet, 'demo-web', 'i-0000000000000d002', '127.0.10.2')];
  for (const [index, host] of hosts.entries()) {
    for (let n = 0; n < 2; n++) {
      addTask(fleet, { cluster: 'demo-web', id: `web${index}${n}`, definition: web, containerInstanceArn: host, containers: [{ name: 'nginx', bindings: [{ containerPort: 8080, hostPort: 32768 + n }] }, { name: 'log-router' }] });
    }
    addTask(fleet, { cluster: 'demo-web', id: `node${index}`, definition: nodeExporter, containerInstanceArn: host, group: 'service:node-exporter', containers: [{ name: 'node-exporter', bindings: [{ containerPort: 9100, hostPort: 9100 }] }] });
  }
  for (let n = 0; n < 3; n++) {
    addTask(fleet, { cluster: 'demo-web', id: `api${n}`, definition: api, launchType: 'FARGATE', eniIp: `127.0.20.${n + 1}`, containers: [{ name: 'api' }] });
  }
  addTask(fleet, { cluster: 'demo-web', id: 'api-pending', definition: api, launchType: 'FARGATE', lastStatus: 'PENDING', containers: [{ name: 'api' }] });

  clusterOf(fleet, 'demo-batch');
  for (let n = 0; n < 2; n++) {
    addTask(fleet, { cluster: 'demo-batch', id: `worker${n}`, definition: worker, launchType: 'FARGATE', eniIp: `127.0.30.${n + 1}`, containers: [{ name: 'worker' }] });
  }
  addTask(fleet, { cluster: 'demo-batch', id: 'reports0', definition: reports, launchType: 'FARGATE', eniIp: '127.0.30.10', containers: [{ name: 'reports' }] });
  const onPremises = addManagedHost(fleet, 'demo-batch', 'mi-0000000000000d003', '127.0.40.1');
  addTask(fleet, { cluster: 'demo-batch', id: 'edge0', definition: edge, launchType: 'EXTERNAL', containerInstanceArn: onPremises, containers: [{ name: 'agent', bindings: [{ containerPort: 9400, hostPort: 9400 }] }] });
  return fleet;
}

/** Makes the demo fleet move: from the third round on, one api task comes and goes every other round. */
export function animateDemo(fake: FakeAws): void {
  const cluster = clusterOf(fake.fleet, 'demo-web');
  const api = [...fake.fleet.taskDefinitions.values()].find((definition) => definition.family === 'api');
  if (api === undefined) return;
  const toggle = (round: number) => () => {
    const index = cluster.tasks.findIndex((task) => task.taskArn?.endsWith('/api-scaled'));
    if (index >= 0) cluster.tasks.splice(index, 1);
    else addTask(fake.fleet, { cluster: 'demo-web', id: 'api-scaled', definition: api, launchType: 'FARGATE', eniIp: '127.0.20.9', containers: [{ name: 'api' }] });
    fake.onRound(round + 2, toggle(round + 2));
  };
  fake.onRound(3, toggle(3));
}
