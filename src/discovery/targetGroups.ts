import { INTERVALS, type IntervalName } from './endpoints.js';
import type { Target } from './resolveTargets.js';

/** A Prometheus target group, as file_sd and HTTP SD read it. */
export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

/**
 * A target group ready to publish: its JSON text, made once when its task is resolved. Held as
 * text rather than as a labels object: with thousands of targets of some 25 labels each, that
 * is several times smaller, and nothing is serialised again round after round.
 */
export interface PublishedGroup {
  readonly interval: IntervalName;
  /** The ECS cluster's name; empty for a static group. */
  readonly cluster: string;
  /** The file of the static targets directory it came from; undefined for an ECS group. */
  readonly staticFile?: string;
  /** `{"targets":[address],"labels":{...}}`, labels in sorted order. */
  readonly json: string;
}

/** The groups of each interval. Frozen, lists and object alike: snapshots hand them out to the outputs. */
export type GroupsByInterval = Readonly<Record<IntervalName, readonly PublishedGroup[]>>;

export function toPublishedGroup(target: Target): PublishedGroup {
  const group: TargetGroup = { targets: [target.address], labels: target.labels };
  return Object.freeze({ interval: target.interval, cluster: target.cluster, json: JSON.stringify(group) });
}

/**
 * The groups split by interval, without duplicates, sorted by their text (so by address, then
 * labels): the same fleet always gives the same groups in the same order, whatever the input order.
 */
export function toGroupsByInterval(groups: Iterable<PublishedGroup>): GroupsByInterval {
  const byInterval = Object.fromEntries(INTERVALS.map((interval) => [interval, new Map<string, PublishedGroup>()])) as Record<
    IntervalName,
    Map<string, PublishedGroup>
  >;
  for (const group of groups) byInterval[group.interval].set(group.json, group);
  const sorted = {} as Record<IntervalName, readonly PublishedGroup[]>;
  for (const interval of INTERVALS) sorted[interval] = Object.freeze([...byInterval[interval].values()].sort(byText));
  return Object.freeze(sorted);
}

const byText = (a: PublishedGroup, b: PublishedGroup) => (a.json < b.json ? -1 : a.json > b.json ? 1 : 0);

/** Every group of every interval, in one sorted list: the one file of teralytics' users. */
export function toAllGroups(groups: GroupsByInterval): PublishedGroup[] {
  return INTERVALS.flatMap((interval) => groups[interval]).sort(byText);
}

/**
 * The text of a file_sd file, in parts: a JSON array with one group per line (readable diffs),
 * `[]` when empty. In parts, so that files of megabytes are hashed and written without ever
 * being one string.
 */
export function* toFileSdParts(groups: readonly PublishedGroup[]): Generator<string, void, undefined> {
  if (groups.length === 0) {
    yield '[]\n';
    return;
  }
  yield '[\n';
  for (const [index, group] of groups.entries()) {
    if (index > 0) yield ',\n';
    yield group.json;
  }
  yield '\n]\n';
}

/** The text of a file_sd file, whole (see toFileSdParts). */
export function toFileSdJson(groups: readonly PublishedGroup[]): string {
  return [...toFileSdParts(groups)].join('');
}

/** How many groups each interval has. */
export function countByInterval(groups: GroupsByInterval): Record<IntervalName, number> {
  return Object.fromEntries(INTERVALS.map((interval) => [interval, groups[interval].length])) as Record<IntervalName, number>;
}
