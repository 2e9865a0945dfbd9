import { randomUUID } from 'node:crypto';
import type { Task } from '@aws-sdk/client-ecs';
import type { FakeAws } from './fakeAws.js';
import { addTask, type TaskSpec } from './fleet.js';

/**
 * Changes the fake's fleet as ECS does, and sends the events that ECS would send through an
 * EventBridge rule to the fake's SQS queue: "ECS Task State Change" events whose detail is the
 * task as DescribeTasks shows it, without its tags and health status (which these events do not
 * carry, as AWS documents), with ECS's `version` of the task, which each change increments.
 * The queue's faults (loss, duplication, reordering) apply to what is sent here.
 */

export interface FleetEventsOptions {
  /**
   * The events carry the task's health status. AWS documents that they do not; a test of what
   * the discoverer does when one does sets this. @default false
   */
  withHealth?: boolean;
  now?: () => number;
}

export class FleetEvents {
  /** When the RUNNING event of each task started here was sent (ms): where the latency to /targets starts. */
  readonly runningSentAt = new Map<string, number>();
  readonly #fake: FakeAws;
  readonly #withHealth: boolean;
  readonly #now: () => number;

  constructor(fake: FakeAws, { withHealth = false, now = Date.now }: FleetEventsOptions = {}) {
    this.#fake = fake;
    this.#withHealth = withHealth;
    this.#now = now;
  }

  /** Starts a task: it is in the fleet at once, and its PENDING, then RUNNING events are sent. */
  startTask(spec: TaskSpec): Task {
    const task = addTask(this.#fake.fleet, spec);
    task.version = 1;
    this.#sendTask({
      ...task,
      lastStatus: 'PENDING',
      // Bindings and addresses come with RUNNING.
      containers: (task.containers ?? []).map((container) => ({ ...container, lastStatus: 'PENDING', networkBindings: [], networkInterfaces: [] })),
    });
    task.version = 2;
    this.#sendTask(task);
    this.runningSentAt.set(task.taskArn as string, this.#now());
    return task;
  }

  /** Stops a task: it leaves the fleet at once; the events say it is stopping, then STOPPED. */
  stopTask(cluster: string, id: string): Task | undefined {
    const tasks = this.#fake.fleet.clusters.find((candidate) => candidate.name === cluster)?.tasks ?? [];
    const index = tasks.findIndex((task) => task.taskArn?.endsWith(`/${cluster}/${id}`));
    const task = tasks[index];
    if (task === undefined) return undefined;
    tasks.splice(index, 1);
    const version = task.version ?? 1;
    this.#sendTask({ ...task, desiredStatus: 'STOPPED', version: version + 1 });
    const stopped: Task = {
      ...task,
      desiredStatus: 'STOPPED',
      lastStatus: 'STOPPED',
      stopCode: 'ServiceSchedulerInitiated',
      stoppedReason: 'Scaling activity initiated by (deployment ecs-svc/0000000000000000000)',
      containers: (task.containers ?? []).map((container) => ({ ...container, lastStatus: 'STOPPED', exitCode: 0 })),
      version: version + 2,
    };
    this.#sendTask(stopped);
    return stopped;
  }

  /** Changes a task's health status in the fleet (DescribeTasks says it), and sends a state change event. */
  setHealth(cluster: string, id: string, healthStatus: 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN'): Task | undefined {
    const task = this.#fake.fleet.clusters.find((candidate) => candidate.name === cluster)?.tasks.find((candidate) => candidate.taskArn?.endsWith(`/${cluster}/${id}`));
    if (task === undefined) return undefined;
    task.healthStatus = healthStatus;
    task.version = (task.version ?? 1) + 1;
    this.#sendTask(task);
    return task;
  }

  /** Sends the state change event of a container instance (as when it registers): which EC2 instance it is. */
  announceContainerInstance(cluster: string, containerInstanceArn: string): void {
    const instance = this.#fake.fleet.clusters.find((candidate) => candidate.name === cluster)?.containerInstances.find((candidate) => candidate.arn === containerInstanceArn);
    if (instance === undefined) return;
    const { accountId, region } = this.#fake.fleet;
    this.#send('ECS Container Instance State Change', containerInstanceArn, {
      agentConnected: true,
      clusterArn: `arn:aws:ecs:${region}:${accountId}:cluster/${cluster}`,
      containerInstanceArn,
      ec2InstanceId: instance.ec2InstanceId,
      status: 'ACTIVE',
      version: 1,
      updatedAt: new Date(this.#now()).toISOString(),
    });
  }

  /** The task as a task state change event's detail: DescribeTasks' task without tags (and health), timestamps as ISO text. */
  #sendTask(task: Task): void {
    const detail: Task = { ...task };
    delete detail.tags;
    delete detail.healthStatus;
    const { healthStatus } = task;
    this.#send('ECS Task State Change', task.taskArn as string, {
      ...detail,
      ...(this.#withHealth && healthStatus !== undefined && { healthStatus }),
      updatedAt: new Date(this.#now()).toISOString(),
    });
  }

  #send(detailType: string, resource: string, detail: Record<string, unknown>): void {
    const { accountId, region } = this.#fake.fleet;
    this.#fake.sqs.send(
      JSON.stringify({
        version: '0',
        id: randomUUID(),
        'detail-type': detailType,
        source: 'aws.ecs',
        account: accountId,
        time: new Date(this.#now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        region,
        resources: [resource],
        detail,
      }),
    );
  }
}
