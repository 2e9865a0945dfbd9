import { toTaskRecord, type TaskRecord } from '../discovery/model.js';
import { toTaskState, type TaskState } from '../discovery/taskEvents.js';
import { describeError } from '../errors.js';
import { checkContainerInstanceEvent, checkTaskEvent } from './answerShapes.js';

/**
 * What an SQS message filled by an EventBridge rule says: the event's JSON is the message body
 * (or, through an SNS topic, the `Message` of its notification).
 */

/** The EventBridge detail types of ECS that discovery uses. */
export const TASK_STATE_CHANGE = 'ECS Task State Change';
export const CONTAINER_INSTANCE_STATE_CHANGE = 'ECS Container Instance State Change';

/** A task changed: its new state, as the event's detail gives it. */
export interface TaskChange {
  readonly kind: 'task';
  /** The region and cluster of the task, from the cluster ARN. */
  readonly region: string;
  readonly clusterArn: string;
  readonly taskArn: string;
  /** ECS's version of the task's state: the newer state has the higher one. */
  readonly version: number;
  readonly state: TaskState;
  /** The task, trimmed as a DescribeTasks task is. */
  readonly task: TaskRecord;
}

/** A container instance changed: which EC2 (or ECS Anywhere) instance it is, which never changes. */
export interface ContainerInstanceChange {
  readonly kind: 'containerInstance';
  readonly region: string;
  readonly clusterArn: string;
  readonly containerInstanceArn: string;
  readonly ec2InstanceId: string | undefined;
}

/** A well-formed event that discovery does not use (another source or detail type). */
export interface IgnoredEvent {
  readonly kind: 'ignored';
  readonly reason: string;
}

/** A message that is not an event discovery can read: it is deleted, never retried. */
export interface UnreadableMessage {
  readonly kind: 'unreadable';
  readonly reason: string;
}

export type EventMessage = TaskChange | ContainerInstanceChange | IgnoredEvent | UnreadableMessage;

/** `arn:aws:ecs:eu-west-1:123456789012:cluster/prod`: the region is the fourth field. */
const CLUSTER_ARN = /^arn:[a-z-]+:ecs:([a-z0-9-]+):\d{12}:cluster\/[A-Za-z0-9_-]{1,255}$/;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const unreadable = (reason: string): UnreadableMessage => ({ kind: 'unreadable', reason });

/** The event in a message body; an SNS notification's `Message` is unwrapped. */
function toEvent(body: string): { event: Record<string, unknown> } | UnreadableMessage {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    return unreadable(`not JSON (${describeError(error)})`);
  }
  if (isObject(value) && value['Type'] === 'Notification' && typeof value['Message'] === 'string') return toEvent(value['Message']);
  return isObject(value) ? { event: value } : unreadable('not a JSON object');
}

/** The region of a cluster ARN; undefined when it is not one. */
function regionOf(clusterArn: string): string | undefined {
  return CLUSTER_ARN.exec(clusterArn)?.[1];
}

/** Reads one message. Never throws: what cannot be read says why. */
export function parseEventMessage(body: string): EventMessage {
  const parsed = toEvent(body);
  if (!('event' in parsed)) return parsed;
  const { event } = parsed;
  const source = event['source'];
  const type = event['detail-type'];
  if (typeof source !== 'string' || typeof type !== 'string') return unreadable('not an EventBridge event (no source and detail-type)');
  if (source !== 'aws.ecs' || (type !== TASK_STATE_CHANGE && type !== CONTAINER_INSTANCE_STATE_CHANGE)) {
    return { kind: 'ignored', reason: `${source} "${type}" events are not used` };
  }
  try {
    if (type === CONTAINER_INSTANCE_STATE_CHANGE) {
      const detail = checkContainerInstanceEvent(event['detail']);
      const region = regionOf(detail.clusterArn);
      if (region === undefined) return unreadable(`${type} event with a clusterArn that is not a cluster ARN: ${JSON.stringify(detail.clusterArn)}`);
      return {
        kind: 'containerInstance',
        region,
        clusterArn: detail.clusterArn,
        containerInstanceArn: detail.containerInstanceArn,
        ec2InstanceId: detail.ec2InstanceId,
      };
    }
    const detail = checkTaskEvent(event['detail']);
    const region = regionOf(detail.clusterArn);
    if (region === undefined) return unreadable(`${type} event with a clusterArn that is not a cluster ARN: ${JSON.stringify(detail.clusterArn)}`);
    const task = toTaskRecord(detail) as TaskRecord; // checkTaskEvent made sure of its ARN
    return {
      kind: 'task',
      region,
      clusterArn: detail.clusterArn,
      taskArn: detail.taskArn,
      version: detail.version,
      state: toTaskState(detail.lastStatus, detail.desiredStatus),
      task,
    };
  } catch (error) {
    return unreadable(describeError(error).replace(/^MalformedAnswerError: /, ''));
  }
}
