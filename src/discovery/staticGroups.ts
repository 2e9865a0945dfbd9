import type * as Yaml from 'yaml';
import { INTERVAL_SECONDS, INTERVALS, type IntervalName } from './endpoints.js';
import { sortLabels } from './labels.js';
import type { PublishedGroup, TargetGroup } from './targetGroups.js';
import { firstLine } from './text.js';

/**
 * Static targets: file_sd files that people drop into a directory (an RDS exporter, a host
 * outside ECS), served with the ECS targets. Read as prometheus-http-sd reads its directory.
 */

/** The label that names the file a static group came from. */
export const STATIC_FILE_LABEL = '__meta_static_file';

/** Files that are read: `*.json`, `*.yaml`, `*.yml`, but none whose name starts with `_` or `.`. */
export const isStaticFileName = (name: string): boolean => /^[^_.][^/\\]*\.(json|ya?ml)$/.test(name);

/** A name for the targets API: it becomes `<name>.json` in the directory. */
export const isStaticTargetsName = (name: string): boolean => /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/.test(name);

/** Prometheus' label name syntax; `__` names (`__scrape_interval__`, `__metrics_path__`) are allowed here. */
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** Whether the text is an IPv6 address (the URL parser knows every form of it). */
function isIpv6(text: string): boolean {
  if (!text.includes(':') || /[^0-9a-fA-F:.]/.test(text)) return false;
  try {
    new URL(`http://[${text}]/`);
    return true;
  } catch {
    return false;
  }
}

/** `host:port`: a host name, an IPv4 address or a bracketed IPv6 address, and a port 1..65535. */
export function isTargetAddress(address: string): boolean {
  const match = /^(\[([^\]]+)\]|([^:[\]/\s]+)):(\d{1,5})$/.exec(address);
  if (match === null) return false;
  const port = Number(match[4]);
  if (port < 1 || port > 65535) return false;
  if (match[2] !== undefined) return isIpv6(match[2]);
  const host = match[3] as string;
  return IPV4.test(host) || /^(?=.{1,253}$)[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/.test(host);
}

export type ParsedStaticGroups = { groups: TargetGroup[] } | { error: string };

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Reads and checks a list of target groups in file_sd format (JSON, or YAML when `format` says
 * so, with the `yaml` package that the caller loads: a process without YAML files never does):
 * every group an object of `targets` (addresses `host:port`, none twice in the file) and
 * optional `labels` (valid names, text values). The first problem is the error, with where it is.
 */
export function parseStaticGroups(text: string, format: 'json' | 'yaml', yaml?: typeof Yaml): ParsedStaticGroups {
  if (format === 'yaml' && yaml === undefined) throw new Error('parseStaticGroups: YAML needs the yaml package');
  let content: unknown;
  try {
    content = format === 'json' ? JSON.parse(text) : yaml?.parse(text, { maxAliasCount: 100 });
  } catch (error) {
    return { error: `not valid ${format.toUpperCase()}: ${firstLine(error)}` };
  }
  // An empty YAML file is no group at all, as an empty list.
  if (content === null || content === undefined) return { groups: [] };
  if (!Array.isArray(content)) return { error: 'expected a list of target groups' };
  const groups: TargetGroup[] = [];
  const seen = new Set<string>();
  for (const [index, group] of content.entries()) {
    const where = `group ${index + 1}`;
    if (!isObject(group)) return { error: `${where}: expected an object with "targets" and "labels"` };
    const unknown = Object.keys(group).filter((key) => key !== 'targets' && key !== 'labels');
    if (unknown.length > 0) return { error: `${where}: unknown field "${unknown[0]}" (expected "targets" and "labels")` };
    const { targets, labels = {} } = group;
    if (!Array.isArray(targets)) return { error: `${where}: "targets" must be a list of host:port addresses` };
    for (const target of targets as unknown[]) {
      if (typeof target !== 'string' || !isTargetAddress(target)) return { error: `${where}: target ${JSON.stringify(target)} is not host:port` };
      if (seen.has(target)) return { error: `${where}: target ${target} is listed twice` };
      seen.add(target);
    }
    if (!isObject(labels)) return { error: `${where}: "labels" must be an object of label names and text values` };
    for (const [name, value] of Object.entries(labels)) {
      if (!LABEL_NAME.test(name)) return { error: `${where}: label name "${name}" is not valid ([a-zA-Z_][a-zA-Z0-9_]*)` };
      if (typeof value !== 'string') return { error: `${where}: label ${name} must be text, got ${JSON.stringify(value)}` };
    }
    groups.push({ targets: [...(targets as string[])], labels: { ...(labels as Record<string, string>) } });
  }
  return { groups };
}

/** The interval whose file a static group goes to: the one its `__scrape_interval__` names, else the generic file. */
function intervalOf(labels: Readonly<Record<string, string>>): IntervalName {
  const given = labels['__scrape_interval__'];
  return INTERVALS.find((interval) => interval !== 'generic' && given !== undefined && toSeconds(given) === INTERVAL_SECONDS[interval]) ?? 'generic';
}

/** Seconds of a Prometheus duration of one unit (`15s`, `1m`, `300s`); NaN otherwise. */
function toSeconds(duration: string): number {
  const match = /^(\d+)(s|m|h)$/.exec(duration);
  if (match === null) return Number.NaN;
  return Number(match[1]) * { s: 1, m: 60, h: 3600 }[match[2] as 's' | 'm' | 'h'];
}

/**
 * A file's groups, ready to publish with the ECS ones: labelled with the file they came from
 * (which overrides a label of that name in the file), in sorted label order.
 */
export function toStaticPublishedGroups(fileName: string, groups: readonly TargetGroup[]): PublishedGroup[] {
  return groups
    .filter((group) => group.targets.length > 0)
    .map((group) => {
      const labels = sortLabels({ ...group.labels, [STATIC_FILE_LABEL]: fileName });
      return Object.freeze({ interval: intervalOf(labels), cluster: '', staticFile: fileName, json: JSON.stringify({ targets: group.targets, labels }) });
    });
}
