/**
 * prometheus-ecs-discoverer's settings, as its users may still have them in their environment
 * (PROMED_<NAME>, or DYNACONF_<NAME> of older releases), and what they became here. They are
 * not read: a start that finds them says so once, so that nothing is ignored without a word.
 */
const PROMED_SETTINGS: Record<string, string | undefined> = {
  INTERVAL: 'interval',
  OUTPUT_DIRECTORY: 'outputDir',
  MARKER: 'marker.name',
  MARKER_TYPE: 'marker.source',
  LOG_LEVEL: 'log.level',
  LOG_JSON: 'log.format',
  FILENAME_15S: 'files.15s',
  FILENAME_30S: 'files.30s',
  FILENAME_1M: 'files.1m',
  FILENAME_5M: 'files.5m',
  FILENAME_GENERIC: 'files.generic',
  LABELNAME_CLUSTER: 'labels.cluster',
  LABELNAME_TASKVERSION: 'labels.taskVersion',
  LABELNAME_TASKID: 'labels.taskId',
  LABELNAME_CONTAINERID: 'labels.containerId',
  LABELNAME_INSTANCEID: 'labels.instanceId',
  CUSTOM_LABEL_PREFIX: 'labels.prefix',
  CUSTOM_LABELS_KEY: 'labels.customLabelsDockerLabel',
  WITH_DOCKER_LABELS: 'labels.fromDockerLabels',
  FALLBACK_METRICS_ENDPOINT: 'metricsPath',
  PROMETHEUS_SERVER_PORT: 'http.port',
  PROMETHEUS_START_HTTP_SERVER: 'http.port',
  MAX_RETRY_ATTEMPTS: 'aws.maxAttempts',
};

export interface Leftover {
  variable: string;
  /** The setting it maps to; undefined: it has no equivalent here. */
  setting: string | undefined;
}

/** The PROMED_* and DYNACONF_* variables of an environment, each with the setting it maps to. */
export function findLeftovers(env: NodeJS.ProcessEnv): Leftover[] {
  return Object.keys(env)
    .filter((name) => /^(PROMED|DYNACONF)_/.test(name))
    .sort()
    .map((variable) => ({ variable, setting: PROMED_SETTINGS[variable.replace(/^(PROMED|DYNACONF)_/, '')] }));
}
