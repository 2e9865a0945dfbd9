import { parseEndpoints, type Endpoint } from './endpoints.js';
import { toCustomLabels } from './labels.js';
import type { ContainerDefinitionRecord } from './model.js';

/**
 * Where a container's scrape settings are read: the `PROMETHEUS*` variables of its environment
 * or of its docker labels, or teralytics' `PROMETHEUS_EXPORTER_*` docker labels.
 */
export const MARKER_SOURCES = ['environment', 'dockerLabels', 'teralytics'] as const;
export type MarkerSource = (typeof MARKER_SOURCES)[number];

/** What a marked container asks for, whatever the source. */
export interface ContainerSettings {
  /** The port to scrape in any network mode (`PROMETHEUS_PORT`). */
  port?: string;
  /** bridge: scrape the host port bound to this container port (`PROMETHEUS_CONTAINER_PORT`). */
  containerPort?: string;
  endpoints: Endpoint[];
  customLabels: Record<string, string>;
  /** `PROMETHEUS_NOLABELS`: instance and job are the family, placement labels left out. */
  noLabels: boolean;
  scheme?: 'http' | 'https';
  /** The job label, instead of the task family (teralytics' `PROMETHEUS_EXPORTER_JOB_NAME`). */
  job?: string;
  warnings: string[];
}

export interface SettingsOptions {
  markerName: string;
  /** The one value (any case) that marks; undefined: any value that says yes. */
  markerValue?: string | undefined;
  markerSource: MarkerSource;
  labelPrefix: string;
  defaultMetricsPath: string;
}

/** Set at all: a blank value counts, as in the tools we replace. */
const isSet = (value: string | undefined): value is string => value !== undefined && value !== '';

const NO = new Set(['false', '0', 'no', 'off']);
/** A value that says yes: trimmed, non-empty and not false, 0, no or off (any case). */
export const saysYes = (value: string | undefined): boolean =>
  value !== undefined && value.trim() !== '' && !NO.has(value.trim().toLowerCase());

/** Whether a marker value marks: it says yes, or, with a marker value setting, it is that value (any case). */
const marks = (value: string | undefined, wanted: string | undefined): boolean =>
  wanted === undefined ? saysYes(value) : value?.trim().toLowerCase() === wanted.toLowerCase();
const ifSet = (value: string | undefined): string | undefined => (isSet(value) ? value : undefined);

function toScheme(text: string | undefined, name: string, warnings: string[]): 'http' | 'https' | undefined {
  if (!isSet(text)) return undefined;
  const scheme = text.trim().toLowerCase();
  if (scheme === 'http' || scheme === 'https') return scheme;
  warnings.push(`${name} "${text}" is not http or https; ignored`);
  return undefined;
}

/** teralytics/prometheus-ecs-discovery's docker labels, so that its users keep their task definitions. */
function fromTeralyticsLabels(
  labels: Record<string, string>,
  networkMode: string,
  defaultMetricsPath: string,
): ContainerSettings | undefined {
  const exporterPort = ifSet(labels['PROMETHEUS_EXPORTER_PORT']);
  if (exporterPort === undefined) return undefined;
  const warnings: string[] = [];
  const path = ifSet(labels['PROMETHEUS_EXPORTER_PATH']?.trim()) ?? defaultMetricsPath;
  if (!path.startsWith('/')) warnings.push(`PROMETHEUS_EXPORTER_PATH "${path}" does not start with "/"; using "/${path}"`);
  return {
    // Its rule: in bridge mode the label is the container port, scraped on the host port bound to it.
    ...(networkMode === 'bridge' ? { containerPort: exporterPort } : { port: exporterPort }),
    endpoints: [{ interval: 'generic', path: path.startsWith('/') ? path : `/${path}` }],
    customLabels: {},
    noLabels: false,
    scheme: toScheme(labels['PROMETHEUS_EXPORTER_SCHEME'], 'PROMETHEUS_EXPORTER_SCHEME', warnings),
    job: ifSet(labels['PROMETHEUS_EXPORTER_JOB_NAME']),
    warnings,
  };
}

/** The settings of a container, or undefined when it is not marked for scraping. */
export function readContainerSettings(
  container: ContainerDefinitionRecord,
  networkMode: string,
  options: SettingsOptions,
): ContainerSettings | undefined {
  if (options.markerSource === 'teralytics') {
    return fromTeralyticsLabels(container.dockerLabels, networkMode, options.defaultMetricsPath);
  }
  const settings = options.markerSource === 'dockerLabels' ? container.dockerLabels : container.environment;
  if (!marks(settings[options.markerName], options.markerValue)) return undefined;
  const parsed = parseEndpoints(settings['PROMETHEUS_ENDPOINT'], options.defaultMetricsPath);
  const custom = toCustomLabels(settings, options.labelPrefix);
  const warnings = [...parsed.warnings, ...custom.warnings];
  return {
    port: ifSet(settings['PROMETHEUS_PORT']),
    containerPort: ifSet(settings['PROMETHEUS_CONTAINER_PORT']),
    endpoints: parsed.endpoints,
    customLabels: custom.labels,
    noLabels: saysYes(settings['PROMETHEUS_NOLABELS']),
    scheme: toScheme(settings['PROMETHEUS_SCHEME'], 'PROMETHEUS_SCHEME', warnings),
    warnings,
  };
}
