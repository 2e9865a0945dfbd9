import { isIntervalName, parseEndpoints, type Endpoint, type IntervalName } from './endpoints.js';
import { isLabelName, isUserLabelName, toCustomLabels } from './labels.js';
import type { ContainerDefinitionRecord } from './model.js';
import { toPort } from './ports.js';

/**
 * Where a container's scrape settings are read, in each tool's convention (README, "Marking
 * containers"): the `PROMETHEUS*` variables of its environment or of its docker labels;
 * prometheus-ecs-discoverer's (the marker in docker labels, the rest in the environment);
 * teralytics' `PROMETHEUS_EXPORTER_*` docker labels; the CloudWatch agent's and OTel
 * ecs_observer's `ECS_PROMETHEUS_*` docker labels; sepich/prometheus-ecs-sd's
 * `PROMETHEUS_SCRAPES` and `PROMETHEUS_LABELS` docker labels.
 */
export const MARKER_SOURCES = ['environment', 'dockerLabels', 'prometheus-ecs-discoverer', 'teralytics', 'ecs-observer', 'sepich'] as const;
export type MarkerSource = (typeof MARKER_SOURCES)[number];

/** How the port of a scrape is found. */
export type PortRequest =
  /** SEMANTICS.md's port rules: `PROMETHEUS_PORT`, else by network mode (`PROMETHEUS_CONTAINER_PORT` in bridge mode). */
  | { kind: 'rules'; explicitPort?: string; containerPort?: string }
  /**
   * A container port, named by `setting`: in bridge mode the host port bound to it, in host and
   * awsvpc mode that port; with `mapped`, it must be a port mapping of the container definition.
   */
  | { kind: 'container'; port: number; setting: string; mapped?: boolean };

/** One port of a container, and the metrics paths scraped on it. */
export interface Scrape {
  port: PortRequest;
  endpoints: Endpoint[];
}

/** What a marked container asks for, whatever the source. */
export interface ContainerSettings {
  scrapes: Scrape[];
  customLabels: Record<string, string>;
  /** `PROMETHEUS_NOLABELS`: instance and job are the family, placement labels left out. */
  noLabels: boolean;
  scheme?: 'http' | 'https';
  /** The job label, instead of the task family (teralytics' and ecs_observer's job label). */
  job?: string;
  /** The host to scrape instead of the IP (teralytics' `PROMETHEUS_EXPORTER_SERVER_NAME`). */
  serverName?: string;
  /** Which tool's label set the targets carry. */
  labelStyle: 'ours' | 'teralytics' | 'ecs-observer' | 'sepich';
  /** teralytics: whether the path was given (it sets `__metrics_path__` only then). */
  pathGiven: boolean;
  warnings: string[];
  /** Entries that could not be read (a bad `PROMETHEUS_SCRAPES` entry): each skipped alone, with this detail. */
  badEntries: string[];
}

export interface SettingsOptions {
  markerName: string;
  /** The one value (any case) that marks; undefined: any value that says yes. */
  markerValue?: string | undefined;
  markerSource: MarkerSource;
  labelPrefix: string;
  defaultMetricsPath: string;
  /** The group of a path without an interval. @default 'generic' */
  defaultInterval?: IntervalName;
  /** The one `PROMETHEUS_NOLABELS` value (any case) that turns it on; undefined: any value that says yes. */
  noLabelsValue?: string | undefined;
  /** A docker label holding custom labels as `k=v,k2=v2` (prometheus-ecs-discoverer's `promed.custom_labels`); empty: none. */
  customLabelsDockerLabel?: string;
  /** Docker labels copied as custom labels, `.` and `-` in their names becoming `_` (its `WITH_DOCKER_LABELS`). */
  fromDockerLabels?: readonly string[];
}

/** Set at all: a blank value counts, as in the tools we replace. */
const isSet = (value: string | undefined): value is string => value !== undefined && value !== '';
const ifSet = (value: string | undefined): string | undefined => (isSet(value) ? value : undefined);

const NO = new Set(['false', '0', 'no', 'off']);
/** A value that says yes: trimmed, non-empty and not false, 0, no or off (any case). */
export const saysYes = (value: string | undefined): boolean =>
  value !== undefined && value.trim() !== '' && !NO.has(value.trim().toLowerCase());

/** Whether a value turns a switch on: it says yes, or, when one value is wanted, it is that value (any case). */
const turnsOn = (value: string | undefined, wanted: string | undefined): boolean =>
  wanted === undefined ? saysYes(value) : value?.trim().toLowerCase() === wanted.toLowerCase();

function toScheme(text: string | undefined, name: string, warnings: string[]): 'http' | 'https' | undefined {
  if (!isSet(text)) return undefined;
  const scheme = text.trim().toLowerCase();
  if (scheme === 'http' || scheme === 'https') return scheme;
  warnings.push(`${name} "${text}" is not http or https; ignored`);
  return undefined;
}

/** A path as a tool gave it: with a leading "/" (and a warning when it had none), or the default. */
function toPath(text: string | undefined, name: string, defaultPath: string, warnings: string[]): string {
  const path = ifSet(text?.trim());
  if (path === undefined) return defaultPath;
  if (path.startsWith('/')) return path;
  warnings.push(`${name} "${path}" does not start with "/"; using "/${path}"`);
  return `/${path}`;
}

/**
 * `PROMETHEUS_SCRAPES` (sepich's convention, with an interval): comma-separated
 * `[interval:]port[/path]` entries, one scrape each. A bad entry is skipped alone.
 */
export function parseScrapes(
  text: string,
  defaultPath: string,
  defaultInterval: IntervalName = 'generic',
): { scrapes: Scrape[]; warnings: string[]; badEntries: string[] } {
  const scrapes = new Map<string, Scrape>();
  const warnings: string[] = [];
  const badEntries: string[] = [];
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const match = /^(?:([^:/]*):)?\s*([^/\s]+)\s*(\/.*)?$/.exec(entry);
    const port = toPort(match?.[2]);
    if (match === null || port === undefined) {
      badEntries.push(`PROMETHEUS_SCRAPES entry "${entry}" is not [interval:]port[/path] with a port in 1..65535`);
      continue;
    }
    const intervalText = match[1]?.trim();
    let interval = defaultInterval;
    if (intervalText !== undefined && intervalText !== '') {
      if (isIntervalName(intervalText) && intervalText !== 'generic') interval = intervalText;
      else {
        interval = 'generic';
        warnings.push(`PROMETHEUS_SCRAPES entry "${entry}": interval "${intervalText}" is not one of 15s, 30s, 1m, 5m; using the generic group`);
      }
    }
    const path = match[3]?.trim() || defaultPath;
    // One group per (port, path): the last entry for them wins.
    scrapes.set(`${port}${path}`, { port: { kind: 'container', port, setting: 'PROMETHEUS_SCRAPES' }, endpoints: [{ interval, path }] });
  }
  // Set, so the container is marked and its other settings are ignored: it must say why it yields nothing.
  if (scrapes.size === 0 && badEntries.length === 0) badEntries.push(`PROMETHEUS_SCRAPES "${text}" holds no [interval:]port[/path] entry`);
  return { scrapes: [...scrapes.values()], warnings, badEntries };
}

/** prometheus-ecs-discoverer's docker label of custom labels, `k=v,k2=v2`, and the docker labels it copies. */
function fromDockerLabelSettings(labels: Record<string, string>, options: SettingsOptions, warnings: string[]): Record<string, string> {
  const custom: Record<string, string> = {};
  const add = (name: string, value: string, from: string) => {
    if (isUserLabelName(name)) custom[name] = value;
    else warnings.push(`${from}: "${name}" is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*, no "__" prefix); skipped`);
  };
  const key = options.customLabelsDockerLabel;
  const pairs = key === undefined || key === '' ? undefined : ifSet(labels[key]);
  for (const pair of pairs?.split(',') ?? []) {
    if (pair.trim() === '') continue;
    const equals = pair.indexOf('=');
    if (equals < 0) {
      warnings.push(`docker label ${key}: "${pair.trim()}" is not name=value; skipped`);
      continue;
    }
    add(pair.slice(0, equals).trim(), pair.slice(equals + 1).trim(), `docker label ${key}`);
  }
  for (const name of options.fromDockerLabels ?? []) {
    const value = ifSet(labels[name]);
    if (value !== undefined) add(dockerLabelAsLabelName(name), value, `docker label ${name}`);
  }
  return custom;
}

/** The label a docker label of labels.fromDockerLabels is copied to (`com.example.team` -> `com_example_team`). */
export const dockerLabelAsLabelName = (name: string): string => name.replace(/[.-]/g, '_');

/** teralytics/prometheus-ecs-discovery's docker labels, so that its users keep their task definitions. */
function fromTeralyticsLabels(labels: Record<string, string>, options: SettingsOptions): ContainerSettings | undefined {
  const exporterPort = ifSet(labels['PROMETHEUS_EXPORTER_PORT']);
  const scrapesText = ifSet(labels['PROMETHEUS_SCRAPES']);
  if (exporterPort === undefined && scrapesText === undefined) return undefined;
  const warnings: string[] = [];
  const badEntries: string[] = [];
  const pathGiven = ifSet(labels['PROMETHEUS_EXPORTER_PATH']?.trim()) !== undefined;
  const path = toPath(labels['PROMETHEUS_EXPORTER_PATH'], 'PROMETHEUS_EXPORTER_PATH', options.defaultMetricsPath, warnings);
  let scrapes: Scrape[] = [];
  if (scrapesText !== undefined) {
    ({ scrapes } = collect(parseScrapes(scrapesText, path, options.defaultInterval), warnings, badEntries));
  } else {
    const port = toPort(exporterPort);
    if (port === undefined) badEntries.push(`PROMETHEUS_EXPORTER_PORT "${exporterPort}" is not a port in 1..65535`);
    // Its rule: the label is the container port: in bridge mode scraped on the host port bound to it.
    else scrapes = [{ port: { kind: 'container', port, setting: 'PROMETHEUS_EXPORTER_PORT' }, endpoints: [{ interval: options.defaultInterval ?? 'generic', path }] }];
  }
  const serverName = ifSet(labels['PROMETHEUS_EXPORTER_SERVER_NAME']?.trim().replace(/\/+$/, ''));
  return {
    scrapes,
    customLabels: {},
    noLabels: false,
    scheme: toScheme(labels['PROMETHEUS_EXPORTER_SCHEME'], 'PROMETHEUS_EXPORTER_SCHEME', warnings),
    ...(ifSet(labels['PROMETHEUS_EXPORTER_JOB_NAME']) !== undefined && { job: labels['PROMETHEUS_EXPORTER_JOB_NAME'] }),
    ...(serverName !== undefined && { serverName }),
    labelStyle: 'teralytics',
    // PROMETHEUS_SCRAPES entries carry their paths: each group says its own.
    pathGiven: pathGiven || scrapesText !== undefined,
    warnings,
    badEntries,
  };
}

/** The CloudWatch agent's and OTel ecs_observer's docker labels: the port must be a port mapping of the container. */
function fromEcsObserverLabels(labels: Record<string, string>, options: SettingsOptions): ContainerSettings | undefined {
  const exporterPort = ifSet(labels['ECS_PROMETHEUS_EXPORTER_PORT']);
  const scrapesText = ifSet(labels['PROMETHEUS_SCRAPES']);
  if (exporterPort === undefined && scrapesText === undefined) return undefined;
  const warnings: string[] = [];
  const badEntries: string[] = [];
  const path = toPath(labels['ECS_PROMETHEUS_METRICS_PATH'], 'ECS_PROMETHEUS_METRICS_PATH', options.defaultMetricsPath, warnings);
  let scrapes: Scrape[] = [];
  if (scrapesText !== undefined) {
    ({ scrapes } = collect(parseScrapes(scrapesText, path, options.defaultInterval), warnings, badEntries));
  } else {
    const port = toPort(exporterPort);
    if (port === undefined) badEntries.push(`ECS_PROMETHEUS_EXPORTER_PORT "${exporterPort}" is not a port in 1..65535`);
    else {
      scrapes = [
        { port: { kind: 'container', port, setting: 'ECS_PROMETHEUS_EXPORTER_PORT', mapped: true }, endpoints: [{ interval: options.defaultInterval ?? 'generic', path }] },
      ];
    }
  }
  return {
    scrapes,
    customLabels: {},
    noLabels: false,
    ...(ifSet(labels['ECS_PROMETHEUS_JOB_NAME']) !== undefined && { job: labels['ECS_PROMETHEUS_JOB_NAME'] }),
    labelStyle: 'ecs-observer',
    pathGiven: true,
    warnings,
    badEntries,
  };
}

/**
 * sepich/prometheus-ecs-sd's docker labels: `PROMETHEUS_SCRAPES` marks the container;
 * `PROMETHEUS_LABELS` (`k=v,k2=v2`) adds labels, reserved ones (`__scheme__`, `__x` for
 * relabeling) included, as its users write them to pick targets with relabel rules.
 */
function fromSepichLabels(labels: Record<string, string>, options: SettingsOptions): ContainerSettings | undefined {
  const scrapesText = ifSet(labels['PROMETHEUS_SCRAPES']);
  if (scrapesText === undefined) return undefined;
  const warnings: string[] = [];
  const badEntries: string[] = [];
  const { scrapes } = collect(parseScrapes(scrapesText, options.defaultMetricsPath, options.defaultInterval), warnings, badEntries);
  const customLabels: Record<string, string> = {};
  let schemeText: string | undefined;
  for (const pair of (ifSet(labels['PROMETHEUS_LABELS']) ?? '').split(',')) {
    if (pair.trim() === '') continue;
    const equals = pair.indexOf('=');
    const name = equals < 0 ? '' : pair.slice(0, equals).trim();
    if (!isLabelName(name)) {
      warnings.push(`docker label PROMETHEUS_LABELS: "${pair.trim()}" is not name=value with a label name ([a-zA-Z_][a-zA-Z0-9_]*); skipped`);
      continue;
    }
    const value = pair.slice(equals + 1).trim();
    if (name === '__scheme__') schemeText = value;
    else customLabels[name] = value;
  }
  const scheme = toScheme(schemeText, 'PROMETHEUS_LABELS __scheme__', warnings);
  return { scrapes, customLabels, noLabels: false, ...(scheme && { scheme }), labelStyle: 'sepich', pathGiven: true, warnings, badEntries };
}

function collect<T extends { warnings: string[]; badEntries: string[] }>(parsed: T, warnings: string[], badEntries: string[]): T {
  warnings.push(...parsed.warnings);
  badEntries.push(...parsed.badEntries);
  return parsed;
}

/** The settings of a container, or undefined when it is not marked for scraping. */
export function readContainerSettings(container: ContainerDefinitionRecord, options: SettingsOptions): ContainerSettings | undefined {
  switch (options.markerSource) {
    case 'teralytics':
      return fromTeralyticsLabels(container.dockerLabels, options);
    case 'ecs-observer':
      return fromEcsObserverLabels(container.dockerLabels, options);
    case 'sepich':
      return fromSepichLabels(container.dockerLabels, options);
    default:
      break;
  }
  const settings = options.markerSource === 'dockerLabels' ? container.dockerLabels : container.environment;
  // prometheus-ecs-discoverer's dockerLabels mode: the marker alone is a docker label.
  const marker = (options.markerSource === 'prometheus-ecs-discoverer' ? container.dockerLabels : settings)[options.markerName];
  const scrapesText = ifSet(settings['PROMETHEUS_SCRAPES']);
  if (!turnsOn(marker, options.markerValue) && scrapesText === undefined) return undefined;

  const warnings: string[] = [];
  const badEntries: string[] = [];
  let scrapes: Scrape[];
  if (scrapesText !== undefined) {
    scrapes = collect(parseScrapes(scrapesText, options.defaultMetricsPath, options.defaultInterval), warnings, badEntries).scrapes;
    const ignored = ['PROMETHEUS_PORT', 'PROMETHEUS_CONTAINER_PORT', 'PROMETHEUS_ENDPOINT'].filter((name) => isSet(settings[name]));
    if (ignored.length > 0) warnings.push(`PROMETHEUS_SCRAPES is set: ${ignored.join(', ')} ignored`);
  } else {
    const parsed = parseEndpoints(settings['PROMETHEUS_ENDPOINT'], options.defaultMetricsPath, options.defaultInterval);
    warnings.push(...parsed.warnings);
    const explicitPort = ifSet(settings['PROMETHEUS_PORT']);
    const containerPort = ifSet(settings['PROMETHEUS_CONTAINER_PORT']);
    scrapes = [
      {
        port: { kind: 'rules', ...(explicitPort !== undefined && { explicitPort }), ...(containerPort !== undefined && { containerPort }) },
        endpoints: parsed.endpoints,
      },
    ];
  }
  const custom = toCustomLabels(settings, options.labelPrefix);
  warnings.push(...custom.warnings);
  const customLabels = { ...custom.labels, ...fromDockerLabelSettings(container.dockerLabels, options, warnings) };
  const scheme = toScheme(settings['PROMETHEUS_SCHEME'], 'PROMETHEUS_SCHEME', warnings);
  return {
    scrapes,
    customLabels,
    noLabels: turnsOn(settings['PROMETHEUS_NOLABELS'], options.noLabelsValue),
    ...(scheme && { scheme }),
    labelStyle: 'ours',
    pathGiven: true,
    warnings,
    badEntries,
  };
}
