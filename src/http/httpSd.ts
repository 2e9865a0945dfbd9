import { INTERVALS, INTERVAL_SECONDS, isIntervalName, type IntervalName } from '../discovery/endpoints.js';
import { formatMatchers, matchesAll, parseMatchers, type LabelMatcher } from '../discovery/matchers.js';
import { isInShard, parseShard, type Shard } from '../discovery/shards.js';
import type { GroupsByInterval, PublishedGroup, TargetGroup } from '../discovery/targetGroups.js';

/** Prometheus' default scrape timeout; an interval group never gets a longer one than its interval. */
const DEFAULT_TIMEOUT_SECONDS = 10;

export interface TargetFilter {
  interval?: IntervalName;
  /** Cluster name. */
  cluster?: string;
  /** AWS account id (12 digits). */
  account?: string;
  region?: string;
  /** Only the targets of this shard (the groups are split by target). */
  shard?: Shard;
  /** Only the groups whose labels match every matcher. */
  matchers?: readonly LabelMatcher[];
}

/** Adds labels at the end of a group's JSON text (`{"targets":[...],"labels":{...}}`). */
function withLabels(json: string, labels: string): string {
  const emptyLabels = json.endsWith('{}}');
  return `${json.slice(0, -2)}${emptyLabels ? '' : ','}${labels}}}`;
}

/**
 * The group's text after the label and shard filters, or undefined when nothing of it is left.
 * Only filtered answers read a group's labels back; they are cached per snapshot (see Status).
 */
function filtered(group: PublishedGroup, { shard, matchers }: TargetFilter): string | undefined {
  if (shard === undefined && matchers === undefined) return group.json;
  const parsed = JSON.parse(group.json) as TargetGroup;
  if (matchers !== undefined && !matchesAll(parsed.labels, matchers)) return undefined;
  if (shard === undefined) return group.json;
  const targets = parsed.targets.filter((address) => isInShard(address, shard));
  if (targets.length === 0) return undefined;
  return targets.length === parsed.targets.length ? group.json : JSON.stringify({ targets, labels: parsed.labels });
}

/**
 * The HTTP SD answer: the groups of the files, where each ECS group of a specific interval
 * carries `__scrape_interval__` and `__scrape_timeout__`, so that one Prometheus job serves
 * every interval. Static groups are served as their file has them.
 */
export function toHttpSdJson(groups: GroupsByInterval, filter: TargetFilter = {}): string {
  const parts: string[] = [];
  for (const interval of INTERVALS) {
    if (filter.interval !== undefined && filter.interval !== interval) continue;
    const scrapeLabels =
      interval === 'generic'
        ? undefined
        : `"__scrape_interval__":"${interval}","__scrape_timeout__":"${Math.min(DEFAULT_TIMEOUT_SECONDS, INTERVAL_SECONDS[interval])}s"`;
    for (const group of groups[interval]) {
      if (filter.cluster !== undefined && group.cluster !== filter.cluster) continue;
      const json = filtered(group, filter);
      if (json === undefined) continue;
      parts.push(scrapeLabels === undefined || group.staticFile !== undefined ? json : withLabels(json, scrapeLabels));
    }
  }
  return `[${parts.join(',')}]`;
}

export type ParsedFilter = { filter: TargetFilter } | { error: string };

/**
 * Reads `?interval=&cluster=&account=&region=&shard=&of=&match=`; anything else is an error with a
 * one-line reason. Throws Re2MissingError (an incomplete installation: the server's fault, a 500).
 */
export function parseTargetFilter(query: URLSearchParams): ParsedFilter {
  const filter: TargetFilter = {};
  const matchers: LabelMatcher[] = [];
  for (const [name, value] of query) {
    if (name === 'interval') {
      if (!isIntervalName(value)) {
        return { error: `interval "${value}" is not one of ${INTERVALS.join(', ')}` };
      }
      filter.interval = value;
    } else if (name === 'cluster') {
      if (value.trim() === '') return { error: 'cluster is empty; expected a cluster name' };
      filter.cluster = value;
    } else if (name === 'account') {
      if (!/^\d{12}$/.test(value)) return { error: `account "${value}" is not an AWS account id (12 digits)` };
      filter.account = value;
    } else if (name === 'region') {
      if (!/^[a-z0-9-]+$/.test(value)) return { error: `region "${value}" is not an AWS region name (such as eu-west-1)` };
      filter.region = value;
    } else if (name === 'match') {
      const parsed = parseMatchers(value);
      if ('error' in parsed) return { error: `match: ${parsed.error}` };
      matchers.push(...parsed.matchers);
    } else if (name !== 'shard' && name !== 'of') {
      return { error: `unknown query parameter "${name}"; expected interval, cluster, account, region, match, or shard and of` };
    }
  }
  const index = query.get('shard');
  const count = query.get('of');
  if ((index === null) !== (count === null)) return { error: 'shard and of go together: ?shard=0&of=2 is the first of two shards' };
  if (index !== null && count !== null) {
    const parsed = parseShard(index, count);
    if ('error' in parsed) return parsed;
    filter.shard = parsed.shard;
  }
  if (matchers.length > 0) filter.matchers = matchers;
  return { filter };
}

/** A key that is the same for filters that select the same groups. */
export function filterKey(filter: TargetFilter): string {
  return [
    filter.interval ?? '',
    filter.cluster ?? '',
    filter.account ?? '',
    filter.region ?? '',
    filter.shard === undefined ? '' : `${filter.shard.index}/${filter.shard.count}`,
    filter.matchers === undefined ? '' : formatMatchers(filter.matchers),
  ].join('\u0000');
}
