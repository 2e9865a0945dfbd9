import type { TaskDefinition } from '@aws-sdk/client-ecs';
import type { FakeFleet } from '../../src/fake/fakeAws.js';
import { addDefinition, addHost, addTask, clusterOf, emptyFleet, loopbackIp, makeTaskDefinition } from '../../src/fake/fleet.js';

/** A problem repeated in many tasks: the family that has it, and what the discoverer says of it. */
export interface RepeatedProblem {
  family: string;
  container: string;
  /** The skip reason, or undefined for a warning. */
  reason?: string;
}

/** Six distinct problems, as a fleet of many teams makes them: three skipped containers and three warnings. */
export const PROBLEMS: readonly RepeatedProblem[] = [
  { family: 'bad-port', container: 'app', reason: 'bad_port' },
  { family: 'unbound', container: 'app', reason: 'no_port_binding' },
  { family: 'bad-scrape', container: 'app', reason: 'bad_scrape_entry' },
  { family: 'bad-label', container: 'app' },
  { family: 'odd-interval', container: 'app' },
  { family: 'no-slash', container: 'app' },
];

const ENVIRONMENTS: Record<string, Record<string, string>> = {
  'bad-port': { PROMETHEUS: 'true', PROMETHEUS_PORT: '9x9' },
  unbound: { PROMETHEUS: 'true', PROMETHEUS_CONTAINER_PORT: '9999' },
  'bad-scrape': { PROMETHEUS_SCRAPES: '9100,not-a-port' },
  'bad-label': { PROMETHEUS: 'true', 'PROMETHEUS_LABEL_cost-centre': 'finance' },
  'odd-interval': { PROMETHEUS: 'true', PROMETHEUS_ENDPOINT: '2m:/metrics' },
  'no-slash': { PROMETHEUS: 'true', PROMETHEUS_ENDPOINT: 'metrics' },
  healthy: { PROMETHEUS: 'true', PROMETHEUS_ENDPOINT: '30s:/metrics' },
};

/**
 * Many clusters of many tasks where a few problems repeat across hundreds of tasks: of every 8
 * tasks of a cluster, one of each problem's family and two healthy ones. Bridge tasks (the
 * `unbound` family) run on one EC2 host per cluster; the others on Fargate. Every address is a
 * loopback one.
 */
export function problemFleet({ clusters, tasksPerCluster }: { clusters: number; tasksPerCluster: number }): FakeFleet {
  const fleet = emptyFleet();
  const families = [...PROBLEMS.map((problem) => problem.family), 'healthy', 'healthy'];
  const definitions = new Map<string, TaskDefinition>();
  for (const family of new Set(families)) {
    const bridge = family === 'unbound';
    definitions.set(
      family,
      addDefinition(
        fleet,
        makeTaskDefinition(family, 3, bridge ? 'bridge' : 'awsvpc', [
          { name: 'app', environment: ENVIRONMENTS[family] ?? {}, portMappings: [bridge ? { containerPort: 8080, hostPort: 0 } : { containerPort: 9100 }] },
        ]),
      ),
    );
  }
  let ip = 0;
  for (let clusterIndex = 0; clusterIndex < clusters; clusterIndex++) {
    const cluster = `fleet-${clusterIndex}`;
    clusterOf(fleet, cluster);
    const host = addHost(fleet, cluster, `i-${(clusterIndex + 1).toString(16).padStart(17, '0')}`, loopbackIp(1, clusterIndex));
    for (let taskIndex = 0; taskIndex < tasksPerCluster; taskIndex++) {
      const family = families[taskIndex % families.length] as string;
      const definition = definitions.get(family) as TaskDefinition;
      const id = `${clusterIndex}t${String(taskIndex).padStart(5, '0')}`;
      if (family === 'unbound') {
        addTask(fleet, { cluster, id, definition, containerInstanceArn: host, containers: [{ name: 'app', bindings: [{ containerPort: 8080, hostPort: 32768 + taskIndex }] }] });
      } else {
        ip += 1;
        addTask(fleet, { cluster, id, definition, launchType: 'FARGATE', eniIp: loopbackIp(2, ip), containers: [{ name: 'app' }] });
      }
    }
  }
  return fleet;
}
