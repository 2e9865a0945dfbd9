import { INTERVALS, INTERVAL_SECONDS, isIntervalName, type IntervalName } from '../discovery/endpoints.js';
import type { GroupsByInterval } from '../discovery/targetGroups.js';

/** Prometheus' default scrape timeout; an interval group never gets a longer one than its interval. */
const DEFAULT_TIMEOUT_SECONDS = 10;

export interface TargetFilter {
  interval?: IntervalName;
  /** Cluster name. */
  cluster?: string;
  /** AWS account id (12 digits). */
  account?: string;
  region?: string;
}

/** Adds labels at the end of a group's JSON text (`{"targets":[...],"labels":{...}}`). */
function withLabels(json: string, labels: string): string {
  const emptyLabels = json.endsWith('{}}');
  return `${json.slice(0, -2)}${emptyLabels ? '' : ','}${labels}}}`;
}

/**
 * The HTTP SD answer: the groups of the files, where each group of a specific interval carries
 * `__scrape_interval__` and `__scrape_timeout__`, so that one Prometheus job serves every interval.
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
      parts.push(scrapeLabels === undefined ? group.json : withLabels(group.json, scrapeLabels));
    }
  }
  return `[${parts.join(',')}]`;
}

export type ParsedFilter = { filter: TargetFilter } | { error: string };

/** Reads `?interval=&cluster=&account=&region=`; anything else is an error with a one-line reason. */
export function parseTargetFilter(query: URLSearchParams): ParsedFilter {
  const filter: TargetFilter = {};
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
    } else {
      return { error: `unknown query parameter "${name}"; expected interval, cluster, account or region` };
    }
  }
  return { filter };
}
