import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import convict from 'convict';
import { RETRY_MODES, type RetryMode } from './aws/clients.js';
import { rolesProblem, toRoleSettings, type RoleSetting } from './aws/roles.js';
import { compileNamePattern } from './discovery/clusters.js';
import { INTERVALS, type IntervalName } from './discovery/endpoints.js';
import { isUserLabelName } from './discovery/labels.js';
import { parseMatchers } from './discovery/matchers.js';
import { Re2MissingError } from './discovery/re2.js';
import { FARGATE_IDS, HEALTH_FILTERS, type FargateIds, type HealthFilter } from './discovery/resolveTargets.js';
import { PRESETS, PRESET_NAMES, type PresetName } from './presets.js';
import { MARKER_SOURCES, dockerLabelAsLabelName, type MarkerSource } from './discovery/containerSettings.js';
import { ConfigError, describeError } from './errors.js';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from './log.js';
import { describeListenAddress, listenersClash, parseListenAddress, type ListenAddress } from './http/listenAddresses.js';
import { isExternalUrl, isRoutePrefix } from './http/routing.js';

/** Every environment variable of ours starts with this. */
export const ENV_PREFIX = 'ECS_DISCOVERER_';

/**
 * Adds a convict format whose error names what is expected. Convict appends
 * `: value was X` for truthy values only, so falsy ones (0, "") are quoted here.
 */
function addRule(name: string, expected: string, isValid: (value: unknown) => boolean, coerce?: (text: string) => unknown) {
  convict.addFormat({
    name,
    validate(value: unknown) {
      if (!isValid(value)) throw new Error(`expected ${expected}${value ? '' : `: value was ${JSON.stringify(value)}`}`);
    },
    ...(coerce && { coerce }),
  });
}

/** Whole numbers only: "9x9" or "1e3" stay text, so the error shows what was given. */
const toWholeNumber = (text: string): unknown => (/^\s*-?\d+\s*$/.test(text) ? Number(text) : text);
const isWholeNumberFrom = (min: number, max = Number.MAX_SAFE_INTEGER) => (value: unknown) =>
  typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
const isNonEmptyText = (value: unknown) => typeof value === 'string' && value.trim() !== '';
const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
/** A comma-separated list as a variable or a flag gives it: `a, b,` is a and b. */
const splitList = (text: string): string[] => text.split(',').map((item) => item.trim()).filter((item) => item !== '');
/** A list in which no item is given twice (a region read twice). */
const isEachOnce = (values: unknown[]) => new Set(values).size === values.length;

/** Formats of whole numbers with their range in the name (`seconds:1..86400`): --help and the README show it. */
const RANGED = /^(seconds|count):(\d+)\.\.(\d+)$/;

/**
 * The format of a whole number in min..max, registered on first use. Every number has a
 * maximum: Node's timers overflow at 2,147,484 s, and a setting past what makes sense is a typo.
 */
const registeredFormats = new Set<string>();
function wholeNumber(unit: 'seconds' | 'count', min: number, max: number, zeroMeans?: string): string {
  const name = `${unit}:${min}..${max}`;
  if (!registeredFormats.has(name)) {
    const what = unit === 'seconds' ? 'a whole number of seconds' : 'a whole number';
    addRule(name, `${what} from ${min} to ${max}${zeroMeans === undefined ? '' : ` (0 ${zeroMeans})`}`, isWholeNumberFrom(min, max), toWholeNumber);
    registeredFormats.add(name);
  }
  return name;
}

/**
 * An SQS queue URL: http(s), a host, and the path /<12-digit account>/<queue name> (letters,
 * digits, - and _, up to 80, .fifo for a FIFO queue), nothing after it. Any host: a VPC endpoint,
 * or a local fake, answers for SQS too.
 */
function isQueueUrl(text: string): boolean {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return false;
  }
  return (
    (url.protocol === 'https:' || url.protocol === 'http:') &&
    url.username === '' &&
    url.search === '' &&
    url.hash === '' &&
    /^\/\d{12}\/[A-Za-z0-9_-]+(\.fifo)?$/.test(url.pathname) &&
    url.pathname.length - '/123456789012/'.length <= 80
  );
}

/** A file name in the output directory: no path, not a name that means a directory. */
const isPlainFileName = (value: unknown) =>
  isNonEmptyText(value) && !/[/\\]/.test(String(value)) && !String(value).includes('\u0000') && value !== '.' && value !== '..';

addRule('port-or-off', 'a TCP port 1..65535, or 0 for off', isWholeNumberFrom(0, 65535), toWholeNumber);
addRule('text', 'a non-empty text', isNonEmptyText);
addRule('file-name', 'a plain file name (no "/", not "." or "..")', isPlainFileName);
addRule('file-name-or-none', 'a plain file name (no "/", not "." or ".."), or empty for none', (value) => value === '' || isPlainFileName(value));
addRule(
  'log-level',
  `one of ${LOG_LEVELS.join(', ')} (any case)`,
  (value) => typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value),
  (text) => text.toLowerCase(),
);
addRule(
  'host',
  'an IP address (IPv4 or IPv6) or a host name',
  (value) => typeof value === 'string' && (isIP(value) !== 0 || /^(?=.{1,253}$)[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/.test(value)),
  // [::1] as in a URL is ::1.
  (text) => (/^\[[^\]]*\]$/.test(text) && isIP(text.slice(1, -1)) === 6 ? text.slice(1, -1) : text),
);
addRule(
  'listen-addresses',
  'host:port addresses, comma-separated ([::1]:8080 for IPv6, :8080 for every address)',
  (value) => Array.isArray(value) && value.every((item) => typeof item === 'string' && !('error' in parseListenAddress(item))),
  splitList,
);
addRule('route-prefix', 'a path such as /ecs (plain segments: no "//", ".", "..", "?", "#" or "%"), or empty', (value) => typeof value === 'string' && isRoutePrefix(value));
addRule('external-url', 'an absolute http or https URL without query or fragment, such as https://proxy.example/ecs/, or empty', (value) => typeof value === 'string' && isExternalUrl(value));
addRule(
  'queue-url-or-none',
  'an SQS queue URL, https://sqs.<region>.amazonaws.com/<account id>/<queue name>, or empty for none',
  (value) => value === '' || (typeof value === 'string' && isQueueUrl(value)),
);
addRule('metrics-path', 'a path starting with "/"', (value) => typeof value === 'string' && value.startsWith('/'));
addRule('label-name', 'a label name matching [a-zA-Z_][a-zA-Z0-9_]* without "__" prefix', (value) =>
  typeof value === 'string' && isUserLabelName(value),
);
addRule('variable-name', 'a variable name matching [A-Za-z_][A-Za-z0-9_]*', (value) =>
  typeof value === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(value),
);
addRule(
  'regex',
  'a regular expression in RE2 syntax (no lookaround or backreferences: matching stays linear in time), or empty for none',
  (value) => {
    if (typeof value !== 'string') return false;
    // Empty is none: nothing to compile (re2js is loaded only for a pattern).
    if (value === '') return true;
    try {
      compileNamePattern(value);
      return true;
    } catch (error) {
      // Not the pattern's fault: said as it is.
      if (error instanceof Re2MissingError) throw error;
      return false;
    }
  },
);
addRule(
  'true-or-false',
  'true or false',
  (value) => typeof value === 'boolean',
  (text) => (text === 'true' ? true : text === 'false' ? false : text),
);
// eu-west-1, us-gov-west-1, cn-northwest-1, eu-isoe-west-1, eusc-de-east-1 (the SDK's partitions): a name of another shape reaches no endpoint.
const isRegionName = (value: unknown) => typeof value === 'string' && /^[a-z]{2,4}(-[a-z]+)+-\d+$/.test(value);
addRule(
  'regions',
  'AWS region names such as eu-west-1, comma-separated, each once',
  (value) => Array.isArray(value) && value.every(isRegionName) && isEachOnce(value),
  splitList,
);
addRule(
  'docker-labels-as-labels',
  'docker label names, comma-separated, each a label name with "." and "-" as "_" ([a-zA-Z_][a-zA-Z0-9_]*, no "__" prefix), no two the same label',
  (value) =>
    Array.isArray(value) &&
    value.every((name) => isNonEmptyText(name) && isUserLabelName(dockerLabelAsLabelName(name as string))) &&
    isEachOnce(value.map((name) => dockerLabelAsLabelName(name as string))),
  splitList,
);
addRule(
  'list',
  'a comma-separated list',
  (value) => Array.isArray(value) && value.every(isNonEmptyText),
  splitList,
);

/** Named selections: `{"payments": "team=\"payments\""}`; in a variable or flag, the same JSON text. */
const isSelectionName = (name: string) => /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(name);
convict.addFormat({
  name: 'selections',
  validate(value: unknown) {
    if (!isPlainObject(value)) {
      // Convict adds the value.
      throw new Error('expected an object of names and label selectors, such as {"payments": "team=\\"payments\\""}');
    }
    for (const [name, selector] of Object.entries(value)) {
      if (!isSelectionName(name)) throw new Error(`selection name "${name}" is not valid: letters, digits, "-" and "_", starting with a letter or digit`);
      if (typeof selector !== 'string') throw new Error(`selection "${name}": expected a label selector text, got ${JSON.stringify(selector)}`);
      let parsed: ReturnType<typeof parseMatchers>;
      try {
        parsed = parseMatchers(selector);
      } catch (error) {
        // Not the selector's fault (re2js missing): said as it is, naming the selection.
        if (error instanceof Re2MissingError) throw new Error(`selection "${name}": ${error.message}`, { cause: error });
        throw error;
      }
      if ('error' in parsed) throw new Error(`selection "${name}": ${parsed.error}`);
    }
  },
  coerce(text: string) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  },
});

// The environment and flags give role ARNs, comma-separated; the config file a list of role objects.
convict.addFormat({
  name: 'roles',
  validate(value: unknown) {
    const problem = rolesProblem(value);
    if (problem !== undefined) throw new Error(problem);
  },
  coerce: toRoleSettings,
});

const env = (name: string) => `${ENV_PREFIX}${name}`;

/** The settings: one schema, with documented defaults, environment variables and flags. */
const schema = {
  interval: {
    doc: 'Seconds from the start of one round to the start of the next.',
    format: wholeNumber('seconds', 1, 86_400),
    default: 15,
    env: env('INTERVAL'),
    arg: 'interval',
  },
  taskRefresh: {
    doc: 'Seconds after which a cached task is described again (its health and bindings may have changed), spread over the rounds; 0 turns it off.',
    format: wholeNumber('seconds', 0, 604_800, 'turns it off'),
    default: 300,
    env: env('TASK_REFRESH'),
    arg: 'task-refresh',
  },
  outputDir: {
    doc: 'Directory of the file_sd files; created when missing.',
    format: 'text',
    default: 'targets',
    env: env('OUTPUT_DIR'),
    arg: 'output-dir',
  },
  marker: {
    name: {
      doc: 'Container setting whose value, when it says yes, marks a container for scraping.',
      format: 'variable-name',
      default: 'PROMETHEUS',
      env: env('MARKER'),
      arg: 'marker',
    },
    value: {
      doc: 'The one marker value (any case) that marks a container, e.g. true; empty: any value but false, 0, no or off.',
      format: String,
      default: '',
      env: env('MARKER_VALUE'),
      arg: 'marker-value',
    },
    source: {
      doc: 'Where container settings are read: environment (PROMETHEUS* variables), dockerLabels (the same names as docker labels), prometheus-ecs-discoverer (the marker in docker labels, the rest in the environment), teralytics (PROMETHEUS_EXPORTER_* docker labels, and its label set), ecs-observer (the CloudWatch agent\'s and OTel ecs_observer\'s ECS_PROMETHEUS_* docker labels, and their label set) or sepich (sepich/prometheus-ecs-sd\'s PROMETHEUS_SCRAPES and PROMETHEUS_LABELS docker labels, and its label set).',
      format: [...MARKER_SOURCES],
      default: 'environment',
      env: env('MARKER_SOURCE'),
      arg: 'marker-source',
    },
  },
  preset: {
    doc: 'Defaults of another tool, so that its users keep their task definitions, files and label sets: prometheus-ecs-discoverer, prometheus-ecs-sd, teralytics, ecs-observer or sepich (README, "Migrating"); settings given otherwise win over it.',
    format: ['', ...PRESET_NAMES],
    default: '',
    env: env('PRESET'),
    arg: 'preset',
  },
  defaultInterval: {
    doc: 'The interval group of a metrics path that names none: generic (the generic file), or 15s, 30s, 1m, 5m.',
    format: [...INTERVALS],
    default: 'generic',
    env: env('DEFAULT_INTERVAL'),
    arg: 'default-interval',
  },
  healthFilter: {
    doc: 'Which tasks are scraped by their health status: any; healthy (only HEALTHY tasks); not-unhealthy (all but UNHEALTHY ones). The others are skipped as health_filtered.',
    format: [...HEALTH_FILTERS],
    default: 'any',
    env: env('HEALTH_FILTER'),
    arg: 'health-filter',
  },
  allTargetsFile: {
    doc: 'One more file in the output directory with every target group of every interval (teralytics users: its -config.write-to file); empty: none.',
    format: 'file-name-or-none',
    default: '',
    env: env('ALL_TARGETS_FILE'),
  },
  clusters: {
    names: {
      doc: 'Clusters to scan, by name or ARN, comma-separated; empty: every cluster of each region.',
      format: 'list',
      default: [] as string[],
      env: env('CLUSTERS'),
      arg: 'clusters',
    },
    include: {
      doc: 'Scan only clusters whose name matches this regular expression (RE2 syntax, unanchored: use ^ and $).',
      format: 'regex',
      default: '',
      env: env('CLUSTER_INCLUDE'),
      arg: 'cluster-include',
    },
    exclude: {
      doc: 'Skip clusters whose name matches this regular expression; wins over the other two.',
      format: 'regex',
      default: '',
      env: env('CLUSTER_EXCLUDE'),
      arg: 'cluster-exclude',
    },
  },
  metricsPath: {
    doc: 'Metrics path of a container whose PROMETHEUS_ENDPOINT is unset or empty.',
    format: 'metrics-path',
    default: '/metrics',
    env: env('METRICS_PATH'),
  },
  labels: {
    prefix: {
      doc: 'Prefix of container settings that become custom labels (PROMETHEUS_LABEL_team=a → team="a").',
      format: 'variable-name',
      default: 'PROMETHEUS_LABEL_',
      env: env('LABEL_PREFIX'),
    },
    cluster: { doc: 'Label with the cluster name.', format: 'label-name', default: 'cluster', env: env('LABEL_CLUSTER') },
    taskVersion: {
      doc: 'Label with the task definition revision.',
      format: 'label-name',
      default: 'task_version',
      env: env('LABEL_TASK_VERSION'),
    },
    taskId: { doc: 'Label with the task id.', format: 'label-name', default: 'task_id', env: env('LABEL_TASK_ID') },
    containerId: {
      doc: 'Label with the container id.',
      format: 'label-name',
      default: 'container_id',
      env: env('LABEL_CONTAINER_ID'),
    },
    instanceId: {
      doc: 'Label with the EC2 instance id (absent on Fargate).',
      format: 'label-name',
      default: 'instance_id',
      env: env('LABEL_INSTANCE_ID'),
    },
    taskTags: {
      doc: 'Add task tags as __meta_ecs_tag_task_<name> labels (asks DescribeTasks for tags: no extra calls).',
      format: 'true-or-false',
      default: false,
      env: env('LABEL_TASK_TAGS'),
    },
    clusterTags: {
      doc: 'Add cluster tags as __meta_ecs_tag_cluster_<name> labels (one DescribeClusters call per 100 clusters, cached for taskRefresh seconds).',
      format: 'true-or-false',
      default: false,
      env: env('LABEL_CLUSTER_TAGS'),
    },
    noLabelsValue: {
      doc: 'The one PROMETHEUS_NOLABELS value (any case) that turns it on, e.g. true; empty: any value that says yes.',
      format: String,
      default: '',
      env: env('NOLABELS_VALUE'),
    },
    customLabelsDockerLabel: {
      doc: 'Docker label whose value, k=v,k2=v2, adds custom labels (prometheus-ecs-discoverer\'s CUSTOM_LABELS_KEY); empty: none.',
      format: String,
      default: 'promed.custom_labels',
      env: env('LABEL_CUSTOM_LABELS_DOCKER_LABEL'),
    },
    fromDockerLabels: {
      doc: 'Docker labels copied as custom labels, . and - in their names becoming _ (prometheus-ecs-discoverer\'s WITH_DOCKER_LABELS), comma-separated.',
      format: 'docker-labels-as-labels',
      default: [] as string[],
      env: env('LABEL_FROM_DOCKER_LABELS'),
    },
    fargateIds: {
      doc: 'Whether Fargate tasks carry the container and instance id labels: keep; launchType (left out when the task was launched on Fargate); compatibility (left out when the definition requires FARGATE, even for a task launched on EC2, as prometheus-ecs-discoverer and prometheus-ecs-sd do).',
      format: [...FARGATE_IDS],
      default: 'keep',
      env: env('LABEL_FARGATE_IDS'),
    },
  },
  /** One file per interval, named after it. */
  files: Object.fromEntries(
    INTERVALS.map((interval) => [
      interval,
      {
        doc: interval === 'generic' ? 'File of targets without a specific interval.' : `File of ${interval} targets.`,
        format: 'file-name',
        default: interval === 'generic' ? 'tasks.json' : `${interval}-tasks.json`,
        env: env(`FILE_${interval.toUpperCase()}`),
      },
    ]),
  ) as Record<IntervalName, { doc: string; format: string; default: string; env: string }>,
  log: {
    level: {
      doc: 'Least severe level that is logged.',
      format: 'log-level',
      default: 'info',
      env: env('LOG_LEVEL'),
      arg: 'log-level',
    },
    format: {
      doc: 'Log line format: text, or json (one JSON object per line).',
      format: [...LOG_FORMATS],
      default: 'text',
      env: env('LOG_FORMAT'),
      arg: 'log-format',
    },
    progressEvery: {
      doc: 'Seconds between the progress lines of a first round that runs longer (a first round describes every task).',
      format: wholeNumber('seconds', 1, 3_600),
      default: 5,
      env: env('LOG_PROGRESS_EVERY'),
    },
  },
  aws: {
    regions: {
      doc: 'AWS regions to scan, comma-separated; empty: the SDK\'s region (AWS_REGION, profile, ...).',
      format: 'regions',
      default: [] as string[],
      env: env('REGIONS'),
      arg: 'regions',
    },
    roles: {
      doc: 'IAM roles to assume, one per account, each read in every region of aws.regions: role ARNs, comma-separated (in the --config file, a list of {"arn", "externalId", "sessionName"}); empty: the process\'s own credentials, one account.',
      format: 'roles',
      default: [] as RoleSetting[],
      env: env('ROLES'),
      arg: 'roles',
    },
    maxAttempts: {
      doc: 'Attempts per AWS call, first one included (the SDK retries throttling and 5xx with backoff).',
      format: wholeNumber('count', 1, 20),
      default: 5,
      env: env('AWS_MAX_ATTEMPTS'),
    },
    retryMode: {
      doc: 'The SDK\'s retry strategy.',
      format: [...RETRY_MODES],
      default: 'standard',
      env: env('AWS_RETRY_MODE'),
    },
    requestTimeout: {
      doc: 'Seconds an AWS request may take, its whole answer included, before it is abandoned (and retried).',
      format: wholeNumber('seconds', 1, 3_600),
      default: 10,
      env: env('AWS_REQUEST_TIMEOUT'),
    },
    clusterTimeout: {
      doc: 'Seconds one cluster may be read in a round; one still being read then is abandoned for the round and keeps its last good targets; above roundTimeout, the end of the round comes first.',
      format: wholeNumber('seconds', 1, 3_600),
      default: 60,
      env: env('AWS_CLUSTER_TIMEOUT'),
    },
  },
  http: {
    host: {
      doc: 'Address the HTTP server (HTTP SD, /metrics, health, status page) listens on.',
      format: 'host',
      default: '0.0.0.0',
      env: env('HTTP_HOST'),
      arg: 'http-host',
    },
    port: {
      doc: 'Port of the HTTP server; 0 turns it off.',
      format: 'port-or-off',
      default: 8080,
      env: env('HTTP_PORT'),
      arg: 'http-port',
    },
    unreadyAfterFailedRounds: {
      doc: '/-/ready answers 503 once this many rounds in a row have failed.',
      format: wholeNumber('count', 1, 1_000),
      default: 3,
      env: env('HTTP_UNREADY_AFTER_FAILED_ROUNDS'),
    },
    listenAddresses: {
      doc: 'Addresses to listen on instead of http.host and http.port (leave those unset then): host:port, [::1]:8080 for IPv6, :8080 for every address; comma-separated, or the flag repeated, for several listeners.',
      format: 'listen-addresses',
      default: [] as string[],
      env: env('HTTP_LISTEN_ADDRESSES'),
      arg: 'web.listen-address',
    },
    webConfigFile: {
      doc: 'Web configuration file in the format of Prometheus exporters (exporter-toolkit): TLS, basic auth users with bcrypt hashes, response headers; read again when it or its certificates change; empty: plain HTTP without authentication (README, "HTTP endpoints").',
      format: String,
      default: '',
      env: env('HTTP_WEB_CONFIG_FILE'),
      arg: 'web.config.file',
    },
    openHealthEndpoints: {
      doc: '/-/healthy and /-/ready answer without basic auth, for load balancer health checks (a required client certificate still applies).',
      format: 'true-or-false',
      default: false,
      env: env('HTTP_OPEN_HEALTH_ENDPOINTS'),
    },
    routePrefix: {
      doc: 'Path prefix of every endpoint, as Prometheus\' --web.route-prefix (/ecs: /ecs/targets, /ecs/metrics, the status page at /ecs/); empty: the path of http.externalUrl, or /.',
      format: 'route-prefix',
      default: '',
      env: env('HTTP_ROUTE_PREFIX'),
      arg: 'web.route-prefix',
    },
    externalUrl: {
      doc: 'URL under which clients reach the discoverer, e.g. through a reverse proxy (https://proxy.example/ecs/), as Prometheus\' --web.external-url: its path is the default route prefix and the base of the status page\'s links.',
      format: 'external-url',
      default: '',
      env: env('HTTP_EXTERNAL_URL'),
      arg: 'web.external-url',
    },
    headersTimeout: {
      doc: 'Seconds a client may take to send the headers of a request, from the moment it connects or its last answer ends; then it gets 408 and is disconnected.',
      format: wholeNumber('seconds', 1, 3_600),
      default: 10,
      env: env('HTTP_HEADERS_TIMEOUT'),
    },
    requestTimeout: {
      doc: 'Seconds a client may take to send a whole request; not below http.headersTimeout.',
      format: wholeNumber('seconds', 1, 3_600),
      default: 30,
      env: env('HTTP_REQUEST_TIMEOUT'),
    },
    keepAliveTimeout: {
      doc: 'Seconds an idle keep-alive connection stays open; above a load balancer\'s idle timeout (60 s on an ALB), so that it never reuses a connection being closed.',
      format: wholeNumber('seconds', 1, 3_600),
      default: 65,
      env: env('HTTP_KEEP_ALIVE_TIMEOUT'),
    },
    writeTimeout: {
      doc: 'Seconds an answer may go without any of it being read; then the connection is dropped, so that a client that stops reading holds nothing.',
      format: wholeNumber('seconds', 1, 3_600),
      default: 30,
      env: env('HTTP_WRITE_TIMEOUT'),
    },
    maxConnections: {
      doc: 'Connections each listener holds at once; more are closed as they come.',
      format: wholeNumber('count', 1, 1_000_000),
      default: 4_096,
      env: env('HTTP_MAX_CONNECTIONS'),
    },
  },
  staticDir: {
    doc: 'Directory of static target files (*.json, *.yaml in file_sd format; names starting with _ or . are ignored), served with the ECS targets and written by the targets API; empty: none.',
    format: String,
    default: '',
    env: env('STATIC_DIR'),
    arg: 'static-dir',
  },
  selections: {
    doc: 'Named label selectors served at /targets/<name>, as a JSON object: {"payments": "team=\\"payments\\""} (README, "Selections").',
    format: 'selections',
    default: {} as Record<string, string>,
    env: env('SELECTIONS'),
    arg: 'selections',
  },
  events: {
    queueUrl: {
      doc: 'URL of an SQS queue that an EventBridge rule fills with ECS task state change events (README, "Events"): task changes are published as they come, and full rounds become a safety net; empty: none. Not used by --once and check.',
      format: 'queue-url-or-none',
      default: '',
      env: env('EVENTS_QUEUE_URL'),
      arg: 'events-queue-url',
    },
    resyncInterval: {
      doc: 'With events.queueUrl: seconds from the start of one full round to the start of the next while the queue answers (they repair what events missed); while it does not, interval applies. Not less than interval.',
      format: wholeNumber('seconds', 1, 86_400),
      default: 300,
      env: env('EVENTS_RESYNC_INTERVAL'),
      arg: 'events-resync-interval',
    },
  },
  roundTimeout: {
    doc: 'Seconds a round may take before it is abandoned; the files keep their last good targets.',
    format: wholeNumber('seconds', 1, 86_400),
    default: 120,
    env: env('ROUND_TIMEOUT'),
  },
};

type Schema = typeof schema;
type Leaf = { default: unknown };
type ValueOf<D> = D extends (infer Item)[] ? readonly Item[] : D extends number ? number : D extends boolean ? boolean : D extends string ? string : Readonly<D>;
type ValuesOf<S> = {
  readonly [K in keyof S]: S[K] extends Leaf ? ValueOf<S[K]['default']> : ValuesOf<S[K]>;
};

/** The validated, frozen settings. */
export type Config = ValuesOf<Schema> & {
  readonly preset: PresetName | '';
  readonly defaultInterval: IntervalName;
  readonly healthFilter: HealthFilter;
  readonly marker: { readonly source: MarkerSource };
  readonly labels: { readonly fargateIds: FargateIds };
  readonly log: { readonly level: LogLevel; readonly format: LogFormat };
  readonly aws: { readonly retryMode: RetryMode };
};

/** One setting, flattened: for --help, for the README table and for error messages. */
export interface SettingInfo {
  key: string;
  doc: string;
  default: unknown;
  env: string;
  flag?: string;
  /** The range of a number, `1..86400`. */
  range?: string;
}

function flattenSchema(node: Record<string, unknown>, prefix = ''): SettingInfo[] {
  const settings: SettingInfo[] = [];
  for (const [name, value] of Object.entries(node)) {
    const item = value as Record<string, unknown>;
    const key = prefix + name;
    if ('default' in item) {
      settings.push({
        key,
        doc: String(item['doc']),
        default: item['default'],
        env: String(item['env']),
        ...(typeof item['arg'] === 'string' && { flag: `--${item['arg']}` }),
        ...(typeof item['format'] === 'string' && RANGED.test(item['format']) && { range: item['format'].replace(RANGED, '$2..$3') }),
      });
    } else {
      settings.push(...flattenSchema(item, `${key}.`));
    }
  }
  return settings;
}

export const SETTINGS: readonly SettingInfo[] = flattenSchema(schema);

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}

/** Adds where a setting comes from to each line of convict's errors ("interval: ..." → "interval (--interval, ENV): ..."). */
function explain(message: string): string {
  return message
    .split('\n')
    .map((line) => {
      const key = /^([\w.]+): /.exec(line)?.[1];
      if (key === undefined || !SETTINGS.some((setting) => setting.key === key)) {
        return line.replace(/^configuration param '([^']+)' not declared in the schema$/, 'unknown setting "$1"');
      }
      return settingError(key, line.slice(key.length + 2)).message;
    })
    .join('\n');
}

/**
 * An error about a setting, naming where it comes from: `key (--flag, ENV): problem`, and, when
 * it has a cause, the cause's reason too (kept as `cause`).
 */
export function settingError(key: string, problem: string, cause?: unknown): ConfigError {
  // One line: the reason of a cause may span several (a stack, an SDK message).
  const reason = cause === undefined ? '' : `: ${describeError(cause).replace(/\s*\n\s*/g, ' ')}`;
  return new ConfigError(`${nameSetting(key)}: ${problem}${reason}`, cause === undefined ? undefined : { cause });
}

/** A setting and where it comes from: `key (--flag, ENV)`. */
function nameSetting(key: string): string {
  const setting = SETTINGS.find((candidate) => candidate.key === key);
  return `${key} (${[setting?.flag, setting?.env].filter(Boolean).join(', ')})`;
}

/** The settings of a --config file: a JSON object; ConfigError naming the file otherwise. */
function readConfigFile(configFile: string): Record<string, unknown> {
  let content: unknown;
  try {
    content = JSON.parse(readFileSync(configFile, 'utf8'));
  } catch (error) {
    // V8 quotes the text around a JSON error, its line breaks included: written as \n, the error stays one line.
    const yamlHint = /\.ya?ml$/i.test(configFile) ? '; --config reads JSON, not YAML' : '';
    const reason = error instanceof SyntaxError ? `not valid JSON (${error.message.replace(/\r?\n/g, '\\n')})${yamlHint}` : (error as Error).message;
    throw new ConfigError(`--config "${configFile}": ${reason}`, { cause: error });
  }
  if (!isPlainObject(content)) {
    throw new ConfigError(`--config "${configFile}": expected a JSON object of settings`);
  }
  const problems = keyProblems(content);
  if (problems.length > 0) throw new ConfigError(problems.map((problem) => `--config "${configFile}": ${problem}`).join('\n'));
  return content;
}

/** The groups of settings (`http` for `http.port`). */
const GROUPS = new Set(SETTINGS.flatMap(({ key }) => key.split('.').slice(0, -1).map((_, index, parts) => parts.slice(0, index + 1).join('.'))));

/**
 * The keys of a --config file against the settings, before convict reads it: convict passes over
 * a dotted key ("http.port": it is not where http.port is) without a word, and answers a group
 * given a plain value ("marker": "X") with lines about each of its settings. One line per problem.
 */
function keyProblems(content: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(content).flatMap(([name, value]) => {
    const key = prefix + name;
    if (name.includes('.')) return [`unknown setting "${key}"${unknownKeyHint(key)}`];
    const setting = SETTINGS.find((candidate) => candidate.key === key);
    if (setting !== undefined) {
      // Convict would take the object's keys for settings under this one.
      return isPlainObject(value) && !isPlainObject(setting.default) ? [`${nameSetting(key)}: expected one value, not an object: value was ${JSON.stringify(value)}`] : [];
    }
    if (GROUPS.has(key)) {
      if (isPlainObject(value)) return keyProblems(value, `${key}.`);
      const inGroup = SETTINGS.filter((setting) => setting.key.startsWith(`${key}.`)).map((setting) => setting.key.slice(key.length + 1));
      return [`"${key}" is a group of settings (${inGroup.join(', ')}): expected an object of them: value was ${JSON.stringify(value)}`];
    }
    return [`unknown setting "${key}"${unknownKeyHint(key)}`];
  });
}

/** Where a key the settings do not have was probably meant to go. */
function unknownKeyHint(key: string): string {
  if (SETTINGS.some((setting) => setting.key === key) || GROUPS.has(key)) {
    // A dotted key: the file nests settings, where the names of --help and the README join them with dots.
    const [group, ...rest] = key.split('.');
    return ` (in a --config file, settings nest: {"${group ?? ''}": {"${rest.join('.')}": ...}})`;
  }
  const name = key.split('.').at(-1) ?? key;
  const candidates = SETTINGS.filter((setting) => setting.key.split('.').at(-1) === name).map((setting) => `"${setting.key}"`);
  return candidates.length > 0 ? ` (did you mean ${candidates.join(' or ')}?)` : '';
}

/** Two intervals writing one file would overwrite each other every round, silently. */
function checkFileNames(config: Config): void {
  const byName = new Map<string, string>();
  const files: [key: string, name: string][] = INTERVALS.map((interval) => [`files.${interval}`, config.files[interval]]);
  if (config.allTargetsFile !== '') files.push(['allTargetsFile', config.allTargetsFile]);
  for (const [key, name] of files) {
    const other = byName.get(name);
    if (other !== undefined) {
      throw new ConfigError(`${nameSetting(other)} and ${nameSetting(key)} are both "${name}": each needs a file of its own`);
    }
    byName.set(name, key);
  }
}

/** Listen addresses replace http.host and http.port: both given is a contradiction, said rather than guessed. */
function checkHttp(config: Config): void {
  const { http } = config;
  const defaultOf = (key: string) => SETTINGS.find((setting) => setting.key === key)?.default;
  if (http.listenAddresses.length > 0) {
    const given = (['http.host', 'http.port'] as const).filter((key) => settingValue(config, key) !== defaultOf(key));
    if (given.length > 0) {
      throw new ConfigError(
        `${nameSetting('http.listenAddresses')} and ${given.map(nameSetting).join(' and ')} are both set: give every address in http.listenAddresses (host:port, [::1]:8080 for IPv6), and leave ${given.join(' and ')} unset`,
      );
    }
  }
  const listeners = http.listenAddresses.map(parseListenAddress).filter((parsed): parsed is ListenAddress => !('error' in parsed));
  for (const [index, listener] of listeners.entries()) {
    const other = listeners.slice(index + 1).find((later) => listenersClash(listener, later));
    if (other !== undefined) {
      throw settingError('http.listenAddresses', `"${describeListenAddress(listener)}" and "${describeListenAddress(other)}" both take port ${listener.port}: give one of them`);
    }
  }
  if (http.headersTimeout > http.requestTimeout) {
    throw settingError('http.headersTimeout', `${http.headersTimeout} s is above http.requestTimeout (${http.requestTimeout} s): a request cannot take less time than its headers`);
  }
}

/** The labels every target has, which the label settings may not take. */
const OWN_LABELS = ['job', 'instance', 'metrics_path'];

/** Two label settings with one name would overwrite each other's value in every group. */
function checkLabelNames(config: Config): void {
  const keys = ['cluster', 'taskVersion', 'taskId', 'containerId', 'instanceId'] as const;
  const byName = new Map<string, string>();
  for (const key of keys) {
    const name = config.labels[key];
    if (OWN_LABELS.includes(name)) throw settingError(`labels.${key}`, `"${name}" is a label every target has already (${OWN_LABELS.join(', ')})`);
    const other = byName.get(name);
    if (other !== undefined) throw new ConfigError(`${nameSetting(`labels.${other}`)} and ${nameSetting(`labels.${key}`)} are both "${name}": each needs a label of its own`);
    byName.set(name, key);
  }
}

/** With events, full rounds are the safety net: more often than without events makes no sense, and is a typo. */
function checkEvents(config: Config): void {
  if (config.events.queueUrl === '' || config.events.resyncInterval >= config.interval) return;
  throw settingError('events.resyncInterval', `${config.events.resyncInterval} is less than interval (${config.interval}): expected at least that`);
}

/**
 * The variables Kubernetes gives every pod for a Service named ecs-discoverer share our prefix
 * (ECS_DISCOVERER_SERVICE_HOST, _SERVICE_PORT[_<port name>], _PORT, _PORT_<port>_<PROTOCOL>[_PORT,
 * _PROTO, _ADDR]). With its SERVICE_HOST there, they are the cluster's, not unknown settings.
 */
const KUBERNETES_SERVICE_VARIABLE = new RegExp(`^${ENV_PREFIX}(SERVICE_HOST|SERVICE_PORT(_[A-Z0-9_]+)?|PORT(_\\d+_(TCP|UDP|SCTP)(_(PORT|PROTO|ADDR))?)?)$`);

export interface LoadConfigInput {
  /** Settings given as flags, by setting key (`interval` → "20"). They win over everything. */
  flags?: Record<string, string>;
  /** A JSON file of settings, given with --config. */
  configFile?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * Loads settings with the precedence defaults < --config file < environment < flags, and
 * validates them strictly. Throws ConfigError with one line per problem.
 */
export function loadConfig({ flags = {}, configFile, env = process.env }: LoadConfigInput = {}): Config {
  const fromKubernetes = env[`${ENV_PREFIX}SERVICE_HOST`] !== undefined;
  const unknownVariables = Object.keys(env).filter(
    (name) => name.startsWith(ENV_PREFIX) && !SETTINGS.some((setting) => setting.env === name) && !(fromKubernetes && KUBERNETES_SERVICE_VARIABLE.test(name)),
  );
  if (unknownVariables.length > 0) {
    throw new ConfigError(unknownVariables.map((name) => `unknown environment variable ${name}`).join('\n'));
  }
  let sources: Sources = { flags, env };
  try {
    const config = convict(schema, { env, args: [] });
    const content = configFile === undefined ? undefined : readConfigFile(configFile);
    // A preset is the first layer above the defaults: the file, the environment and flags win over it.
    const preset = flags['preset'] ?? env[`${ENV_PREFIX}PRESET`] ?? (typeof content?.['preset'] === 'string' ? content['preset'] : undefined);
    if (preset !== undefined && preset !== '' && Object.hasOwn(PRESETS, preset)) {
      config.load(PRESETS[preset as PresetName]);
      sources = { ...sources, preset: { name: preset, settings: PRESETS[preset as PresetName] } };
    }
    if (content !== undefined && configFile !== undefined) {
      config.load(content);
      sources = { ...sources, file: { name: configFile, settings: content } };
    }
    for (const [key, value] of Object.entries(flags)) config.set(key as never, value as never);
    config.validate({ allowed: 'strict' });
    const properties = config.getProperties() as unknown as Config;
    checkFileNames(properties);
    checkLabelNames(properties);
    checkHttp(properties);
    checkEvents(properties);
    return deepFreeze(properties);
  } catch (error) {
    if (error instanceof ConfigError && error.message.startsWith('--config ')) throw error;
    const message = error instanceof ConfigError ? error.message : explain((error as Error).message);
    throw new ConfigError(withSources(message, sources), { cause: error instanceof ConfigError ? error.cause : error });
  }
}

/** What loadConfig read, highest precedence first: where each setting's value may have come from. */
interface Sources {
  flags: Record<string, string>;
  env: NodeJS.ProcessEnv;
  file?: { name: string; settings: Record<string, unknown> };
  preset?: { name: string; settings: object };
}

/**
 * Where a setting's value was set when the error's own words do not say it: the --config file or
 * a preset (a flag or a variable is named beside the setting, and wins over both).
 */
function sourceOf(key: string, { flags, env, file, preset }: Sources): string | undefined {
  const setting = SETTINGS.find((candidate) => candidate.key === key);
  if (flags[key] !== undefined || (setting?.env !== undefined && env[setting.env] !== undefined)) return undefined;
  if (file !== undefined && settingValue(file.settings, key) !== undefined) return `set in --config "${file.name}"`;
  if (preset !== undefined && settingValue(preset.settings, key) !== undefined) return `set by preset ${preset.name}`;
  return undefined;
}

/**
 * Each line of a settings error, with the --config file or preset that set the values it names:
 * `key (--flag, ENV)`, or another setting the check compared it with, `interval (15)`.
 */
function withSources(message: string, sources: Sources): string {
  return message
    .split('\n')
    .map((line) => {
      const keys = new Set([...line.matchAll(/([\w.]+) \(/g)].map((match) => match[1] as string).filter((key) => SETTINGS.some((setting) => setting.key === key)));
      const named = [...keys].flatMap((key) => {
        const source = sourceOf(key, sources);
        return source === undefined ? [] : [{ key, source }];
      });
      if (named.length === 0) return line;
      const oneSource = named.every(({ source }) => source === named[0]?.source) && named.length === keys.size;
      if (oneSource) return `${line} (${named[0]?.source})`;
      return `${line} (${named.map(({ key, source }) => `${key} ${source}`).join('; ')})`;
    })
    .join('\n');
}

/** The defaults, as settings.default.json holds them. */
export function defaultSettings(): unknown {
  return convict(schema, { env: {}, args: [] }).getProperties();
}

/** The value at a setting's key (`labels.cluster`): in settings, a --config file's content or a preset; undefined where none is. */
export function settingValue(settings: object, key: string): unknown {
  return key.split('.').reduce<unknown>((node, part) => (isPlainObject(node) ? node[part] : undefined), settings);
}

/** The keys of the settings whose values differ between two configs. */
function changedSettings(before: Config, after: Config): string[] {
  return SETTINGS.map((setting) => setting.key).filter(
    (key) => JSON.stringify(settingValue(before, key)) !== JSON.stringify(settingValue(after, key)),
  );
}

/**
 * What SIGHUP can change while the process runs: what each round reads afresh (the log level,
 * the marking, the labels, the default path and interval, the health filter, the cluster
 * selection). Task and cluster tags change what is asked of AWS, and need a restart as the rest
 * does. No cross-setting check mixes the two kinds, so any mix of them stays valid.
 */
const RELOADABLE = /^(log\.level$|marker\.|labels\.(?!taskTags$|clusterTags$)|metricsPath$|defaultInterval$|healthFilter$|clusters\.)/;

export interface Reload {
  /** The settings in force from now on: the reloadable ones as read again, the others as at start. */
  inForce: Config;
  /** The reloadable settings whose value changes now. */
  applied: string[];
  /** The settings read again with a value other than the one in force since the start: a restart applies them. */
  needRestart: string[];
}

/** The keys of the settings a preset sets (`marker.source`); none for no preset. */
function presetKeys(preset: string): string[] {
  if (!Object.hasOwn(PRESETS, preset)) return [];
  return SETTINGS.map(({ key }) => key).filter((key) => settingValue(PRESETS[preset as PresetName], key) !== undefined);
}

/**
 * The settings read again at a SIGHUP, against those at start and those in force. A setting
 * that needs a restart is never applied, and is named at every reload until the restart. A
 * preset counts as the settings it sets: its name is in force once all of them are, and waits
 * for the restart with any of them that does (the status page shows the preset in force).
 */
export function reloadSettings(start: Config, inForce: Config, next: Config): Reload {
  const changedSinceStart = changedSettings(start, next).filter((key) => key !== 'preset');
  const needRestart = changedSinceStart.filter((key) => !RELOADABLE.test(key));
  const reloaded = structuredClone(start) as unknown as Record<string, unknown>;
  for (const key of changedSinceStart.filter((changed) => RELOADABLE.test(changed))) {
    const path = key.split('.');
    const name = path.pop() as string;
    const parent = path.reduce((node, part) => node[part] as Record<string, unknown>, reloaded);
    parent[name] = structuredClone(settingValue(next, key));
  }
  if (next.preset !== start.preset) {
    // The settings the old and the new preset set: the name follows once none of them waits for a restart.
    const presetSettings = new Set([...presetKeys(start.preset), ...presetKeys(next.preset)]);
    if (needRestart.some((key) => presetSettings.has(key))) needRestart.push('preset');
    else reloaded.preset = next.preset;
  }
  const updated = deepFreeze(reloaded as unknown as Config);
  return { inForce: updated, applied: changedSettings(inForce, updated), needRestart };
}
