import { INTERVALS, type IntervalName } from './endpoints.js';
import { sortLabels } from './labels.js';
import type { Target } from './resolveTargets.js';

/** A Prometheus target group, as file_sd and HTTP SD read it. */
export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

/**
 * A target group ready to publish: its interval, its cluster and its JSON text. Groups are
 * immutable once published: the outputs may compare them by identity.
 */
export interface PublishedGroup {
  readonly interval: IntervalName;
  /** The ECS cluster's name; empty for a static group. */
  readonly cluster: string;
  /** The file of the static targets directory it came from; undefined for an ECS group. */
  readonly staticFile?: string;
  /** `{"targets":[...],"labels":{...}}`, labels in sorted order. */
  readonly json: string;
}

/** The groups of each interval. Frozen, lists and object alike: snapshots hand them out to the outputs. */
export type GroupsByInterval = Readonly<Record<IntervalName, readonly PublishedGroup[]>>;

/** Whether JSON.stringify escapes something in the text (a quote, a backslash, a control character, a surrogate). */
function needsEscape(text: string): boolean {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x20 || code === 0x22 || code === 0x5c || (code >= 0xd800 && code <= 0xdfff)) return true;
  }
  return false;
}

/**
 * A group resolved in this process: the address and labels of its target, its text made when
 * it is written. The labels share their values with the task records: some 300 bytes a target
 * against 1.2 KB of text, which is what a cache of tens of thousands of targets is made of.
 */
export class ResolvedGroup implements PublishedGroup {
  readonly interval: IntervalName;
  readonly cluster: string;
  readonly address: string;
  /** In no particular order; never changed. */
  readonly labels: Readonly<Record<string, string>>;
  /** The address as the text writes it (JSON-escaped, most often the address itself): groups are ordered by it first. */
  readonly sortKey: string;

  constructor({ interval, cluster, address, labels }: Target) {
    this.interval = interval;
    this.cluster = cluster;
    this.address = flatten(address);
    this.labels = labels;
    this.sortKey = needsEscape(this.address) ? JSON.stringify(address).slice(1, -1) : this.address;
  }

  get json(): string {
    return toGroupJson(this.address, this.labels);
  }
}

export function toPublishedGroup(target: Target): PublishedGroup {
  return Object.freeze(new ResolvedGroup(target));
}

/** A name that objects list before the others (an array index); they list such names first. */
const isIndexName = (name: string | undefined): boolean => name !== undefined && /^(?:0|[1-9]\d{0,9})$/.test(name) && Number(name) < 4_294_967_295;

/** Whether the names are in strictly ascending order. */
function isAscending(names: readonly string[]): boolean {
  for (let index = 1; index < names.length; index++) if ((names[index - 1] as string) >= (names[index] as string)) return false;
  return true;
}

/**
 * `{"targets":[address],"labels":{...}}`, labels in sorted order, so that equal label sets give
 * equal bytes. Labels defined in sorted order (resolution defines them so) are written as they
 * are, by JSON.stringify's fast path. Else, JSON.stringify writes the properties that its list
 * names in the list's order, at every level: the sorted names after `targets` give that text
 * without a sorted copy of the labels, at twice the time.
 */
export function toGroupJson(address: string, labels: Readonly<Record<string, string>>): string {
  const order = Object.keys(labels);
  // Keys in ascending order are the sorted order, which is what the text needs (an object lists
  // names such as `0` first whatever order they were defined in; if they are first here, they
  // sort first too).
  if (isAscending(order)) return JSON.stringify({ targets: [address], labels } satisfies TargetGroup);
  // A label named `targets` would come first, and names such as `0` come first whatever the
  // list says: never label names Prometheus takes, so the plain way will do.
  if (isIndexName(order[0]) || order.includes('targets')) return JSON.stringify({ targets: [address], labels: sortLabels(labels) } satisfies TargetGroup);
  order.sort();
  order.unshift('targets');
  if (!Object.hasOwn(labels, 'labels')) order.push('labels');
  return JSON.stringify({ targets: [address], labels } satisfies TargetGroup, order);
}

/**
 * A string that V8 holds as a chain of parts (a template literal of some length) is joined the
 * first time it is compared or hashed, then kept twice: joined now, while young, it is kept once.
 */
function flatten(text: string): string {
  text.charCodeAt(0);
  return text;
}

/** Whether two groups have the same text, without making it when their labels tell. */
export function isSameText(a: PublishedGroup, b: PublishedGroup): boolean {
  if (a === b) return true;
  if (a instanceof ResolvedGroup && b instanceof ResolvedGroup) {
    if (a.address !== b.address) return false;
    if (a.labels === b.labels) return true;
    for (const name in a.labels) if (a.labels[name] !== b.labels[name]) return false;
    for (const name in b.labels) if (!Object.hasOwn(a.labels, name)) return false;
    return true;
  }
  return a.json === b.json;
}

const QUOTE = 0x22;

/**
 * Compares `a"` with `b"` (what follows an address in a group's text is a quote) without
 * making either: the order of the texts, when the addresses differ.
 */
function compareQuoted(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let index = 0; index < length; index++) {
    const difference = a.charCodeAt(index) - b.charCodeAt(index);
    if (difference !== 0) return difference;
  }
  if (a.length === b.length) return 0;
  return a.length < b.length ? QUOTE - b.charCodeAt(length) : a.charCodeAt(length) - QUOTE;
}

/**
 * The order of the groups' texts: by address (as the text writes it) when the addresses differ,
 * else by the whole text, made once per group for the groups that need it.
 */
class TextOrder {
  #texts: Map<PublishedGroup, string> | undefined;

  readonly compare = (a: PublishedGroup, b: PublishedGroup): number => {
    if (a instanceof ResolvedGroup && b instanceof ResolvedGroup) {
      const byAddress = compareQuoted(a.sortKey, b.sortKey);
      if (byAddress !== 0) return byAddress;
    }
    const textA = this.#textOf(a);
    const textB = this.#textOf(b);
    return textA < textB ? -1 : textA > textB ? 1 : 0;
  };

  #textOf(group: PublishedGroup): string {
    if (!(group instanceof ResolvedGroup)) return group.json;
    this.#texts ??= new Map();
    let text = this.#texts.get(group);
    if (text === undefined) {
      text = group.json;
      this.#texts.set(group, text);
    }
    return text;
  }
}

/** Sorted, and of groups with the same text only the last (sorting keeps the input order of equal ones). */
function withoutRepeats(sorted: PublishedGroup[], order: TextOrder): PublishedGroup[] {
  const kept: PublishedGroup[] = [];
  for (const group of sorted) {
    const last = kept.length - 1;
    if (last >= 0 && order.compare(kept[last] as PublishedGroup, group) === 0) kept[last] = group;
    else kept.push(group);
  }
  return kept;
}

/**
 * The groups split by interval, without duplicates, sorted by their text (so by address, then
 * labels): the same fleet always gives the same groups in the same order, whatever the input order.
 */
export function toGroupsByInterval(groups: Iterable<PublishedGroup>): GroupsByInterval {
  const byInterval = Object.fromEntries(INTERVALS.map((interval) => [interval, [] as PublishedGroup[]])) as Record<IntervalName, PublishedGroup[]>;
  for (const group of groups) byInterval[group.interval].push(group);
  const order = new TextOrder();
  const sorted = {} as Record<IntervalName, readonly PublishedGroup[]>;
  for (const interval of INTERVALS) sorted[interval] = Object.freeze(withoutRepeats(byInterval[interval].sort(order.compare), order));
  return Object.freeze(sorted);
}

/** Two sorted lists in one, in linear time; with `dropRepeats`, a group of the same text as the one before it replaces it. */
function mergeSorted(a: readonly PublishedGroup[], b: readonly PublishedGroup[], order: TextOrder, dropRepeats: boolean): PublishedGroup[] {
  const merged: PublishedGroup[] = [];
  let i = 0;
  let j = 0;
  const add = (group: PublishedGroup) => {
    const last = merged.length - 1;
    if (dropRepeats && last >= 0 && order.compare(merged[last] as PublishedGroup, group) === 0) merged[last] = group;
    else merged.push(group);
  };
  while (i < a.length && j < b.length) {
    // Equal texts: the one of the first list goes first, as a sort of both would leave them.
    if (order.compare(a[i] as PublishedGroup, b[j] as PublishedGroup) <= 0) add(a[i++] as PublishedGroup);
    else add(b[j++] as PublishedGroup);
  }
  while (i < a.length) add(a[i++] as PublishedGroup);
  while (j < b.length) add(b[j++] as PublishedGroup);
  return merged;
}

/** Sorted lists in one, pairwise: n log(lists) comparisons. */
function mergeAll(lists: readonly (readonly PublishedGroup[])[], order: TextOrder, dropRepeats: boolean): PublishedGroup[] {
  if (lists.length === 0) return [];
  let round = lists;
  while (round.length > 1) {
    const next: (readonly PublishedGroup[])[] = [];
    for (let index = 0; index < round.length; index += 2) {
      const second = round[index + 1];
      next.push(second === undefined ? (round[index] as readonly PublishedGroup[]) : mergeSorted(round[index] as readonly PublishedGroup[], second, order, dropRepeats));
    }
    round = next;
  }
  return [...(round[0] as readonly PublishedGroup[])];
}

/**
 * What toGroupsByInterval gives for all their groups together, from groups it gave for parts
 * of them (one per cluster): merged, not sorted again.
 */
export function mergeGroupsByInterval(parts: readonly GroupsByInterval[]): GroupsByInterval {
  const order = new TextOrder();
  const merged = {} as Record<IntervalName, readonly PublishedGroup[]>;
  for (const interval of INTERVALS) merged[interval] = Object.freeze(mergeAll(parts.map((part) => part[interval]), order, true));
  return Object.freeze(merged);
}

/** Every group of every interval, in one sorted list: the one file of teralytics' users. */
export function toAllGroups(groups: GroupsByInterval): PublishedGroup[] {
  return mergeAll(
    INTERVALS.map((interval) => groups[interval]),
    new TextOrder(),
    false,
  );
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
