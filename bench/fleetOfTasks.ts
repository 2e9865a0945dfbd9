import type { FakeFleet } from '../src/fake/fakeAws.js';
import { generateFleet } from '../src/fake/fleet.js';

/** A benchmark fleet of `tasks` tasks spread over its clusters, each cluster's share rounded up. */
export function fleetOfTasks({ tasks, clusters, definitions }: { tasks: number; clusters: number; definitions: number }): FakeFleet {
  return generateFleet({ clusters, tasksPerCluster: Math.ceil(tasks / clusters), definitions });
}
