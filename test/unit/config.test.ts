import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { SETTINGS, defaultSettings, loadConfig, reloadSettings, settingError, type LoadConfigInput } from '../../src/config.js';

async function configFile(content: string): Promise<string> {
  const path = join(await mkdtemp(join(tmpdir(), 'config-')), 'settings.json');
  await writeFile(path, content);
  return path;
}

describe('loadConfig', () => {
  it('gives the documented defaults when nothing is set', () => {
    const config = loadConfig({ env: {} });

    expect(config.interval).toBe(15);
    expect(config.outputDir).toBe('targets');
    expect(config.marker).toEqual({ name: 'PROMETHEUS', value: '', source: 'environment' });
    expect(config.taskRefresh).toBe(300);
    expect(config.metricsPath).toBe('/metrics');
    expect(config.files).toEqual({
      generic: 'tasks.json',
      '15s': '15s-tasks.json',
      '30s': '30s-tasks.json',
      '1m': '1m-tasks.json',
      '5m': '5m-tasks.json',
    });
    expect(config.log).toEqual({ level: 'info', format: 'text', progressEvery: 5 });
    expect(config.aws.regions).toEqual([]);
  });

  it('reads taskRefresh, where 0 turns the refresh off, and the marker value', () => {
    const config = loadConfig({ env: { ECS_DISCOVERER_TASK_REFRESH: '0' }, flags: { 'marker.value': 'true' } });

    expect(config.taskRefresh).toBe(0);
    expect(config.marker.value).toBe('true');
    expect(() => loadConfig({ env: {}, flags: { taskRefresh: '-1' } })).toThrow(
      'taskRefresh (--task-refresh, ECS_DISCOVERER_TASK_REFRESH): expected a whole number of seconds from 0 to 604800 (0 turns it off): value was -1',
    );
  });

  it('reads the log level in any case, from the environment (ECS_DISCOVERER_LOG_LEVEL=DEBUG) as from a flag', () => {
    expect(loadConfig({ env: { ECS_DISCOVERER_LOG_LEVEL: 'DEBUG' } }).log.level).toBe('debug');
    expect(loadConfig({ env: { ECS_DISCOVERER_LOG_LEVEL: 'Warn' } }).log.level).toBe('warn');
    expect(loadConfig({ env: {}, flags: { 'log.level': 'INFO' } }).log.level).toBe('info');
    expect(() => loadConfig({ env: { ECS_DISCOVERER_LOG_LEVEL: 'VERBOSE' } })).toThrow(/^log\.level \(--log-level, ECS_DISCOVERER_LOG_LEVEL\): .*value was "verbose"$/);
  });

  it('reads aws.clusterTimeout from ECS_DISCOVERER_AWS_CLUSTER_TIMEOUT, 60 s by default', () => {
    expect(loadConfig({ env: {} }).aws.clusterTimeout).toBe(60);
    expect(loadConfig({ env: { ECS_DISCOVERER_AWS_CLUSTER_TIMEOUT: '20' } }).aws.clusterTimeout).toBe(20);
    expect(() => loadConfig({ env: { ECS_DISCOVERER_AWS_CLUSTER_TIMEOUT: '0' } })).toThrow(
      'aws.clusterTimeout (ECS_DISCOVERER_AWS_CLUSTER_TIMEOUT): expected a whole number of seconds from 1 to 3600: value was 0',
    );
  });

  it('refuses two file settings with the same name, naming both', () => {
    expect(() => loadConfig({ env: { ECS_DISCOVERER_FILE_GENERIC: '1m-tasks.json' } })).toThrow(
      'files.1m (ECS_DISCOVERER_FILE_1M) and files.generic (ECS_DISCOVERER_FILE_GENERIC) are both "1m-tasks.json": each needs a file of its own',
    );
  });

  it('matches settings.default.json, the documented defaults (npm run docs writes it)', async () => {
    const documented = JSON.parse(await readFile(new URL('../../settings.default.json', import.meta.url), 'utf8')) as unknown;

    expect(documented).toEqual(defaultSettings());
  });

  it('applies defaults < config file < environment < flags', async () => {
    const file = await configFile(JSON.stringify({ interval: 20, marker: { name: 'FROM_FILE' }, metricsPath: '/file' }));

    const config = loadConfig({
      configFile: file,
      env: { ECS_DISCOVERER_INTERVAL: '30', ECS_DISCOVERER_MARKER: 'FROM_ENV' },
      flags: { interval: '40' },
    });

    expect(config.interval).toBe(40);
    expect(config.marker.name).toBe('FROM_ENV');
    expect(config.metricsPath).toBe('/file');
  });

  it('returns a frozen object', () => {
    const config = loadConfig({ env: {} });

    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.labels)).toBe(true);
  });

  it('reads the cluster selection and task tags', () => {
    const config = loadConfig({
      env: { ECS_DISCOVERER_LABEL_TASK_TAGS: 'true' },
      flags: { 'clusters.names': 'prod,arn:aws:ecs:eu-west-1:123456789012:cluster/batch', 'clusters.exclude': '^test-' },
    });

    expect(config.clusters).toEqual({ names: ['prod', 'arn:aws:ecs:eu-west-1:123456789012:cluster/batch'], include: '', exclude: '^test-' });
    expect(config.labels.taskTags).toBe(true);
  });

  it('reads a comma-separated list of regions', () => {
    expect(loadConfig({ env: {}, flags: { 'aws.regions': 'eu-west-1, us-east-1' } }).aws.regions).toEqual([
      'eu-west-1',
      'us-east-1',
    ]);
  });

  it('reads roles as comma-separated ARNs from the environment and flags, and as role objects from the config file', async () => {
    const fromEnv = loadConfig({ env: { ECS_DISCOVERER_ROLES: 'arn:aws:iam::111111111111:role/discoverer, arn:aws-cn:iam::222222222222:role/ops/discoverer' } });
    const file = await configFile(
      JSON.stringify({ aws: { roles: [{ arn: 'arn:aws:iam::111111111111:role/discoverer', externalId: 'central-42', sessionName: 'ecs-sd' }] } }),
    );

    expect(fromEnv.aws.roles).toEqual([{ arn: 'arn:aws:iam::111111111111:role/discoverer' }, { arn: 'arn:aws-cn:iam::222222222222:role/ops/discoverer' }]);
    expect(loadConfig({ env: {}, configFile: file }).aws.roles).toEqual([{ arn: 'arn:aws:iam::111111111111:role/discoverer', externalId: 'central-42', sessionName: 'ecs-sd' }]);
    expect(loadConfig({ env: {} }).aws.roles).toEqual([]);
  });

  it.each([
    [{ aws: { roles: [{ arn: 'arn:aws:iam::1111:role/x' }] } }, '"arn:aws:iam::1111:role/x" is not an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)'],
    [{ aws: { roles: ['arn:aws:iam::111111111111:role/x'] } }, '"arn:aws:iam::111111111111:role/x" is not a role object'],
    [{ aws: { roles: [{ arn: 'arn:aws:iam::111111111111:role/x', externalID: 'a' }] } }, 'role field "externalID" is unknown (expected arn, externalId, sessionName)'],
    [{ aws: { roles: [{ arn: 'arn:aws:iam::111111111111:role/x', sessionName: 'has space' }] } }, 'sessionName "has space" of arn:aws:iam::111111111111:role/x is not a session name'],
    [
      { aws: { roles: [{ arn: 'arn:aws:iam::111111111111:role/a' }, { arn: 'arn:aws:iam::111111111111:role/b' }] } },
      'arn:aws:iam::111111111111:role/a and arn:aws:iam::111111111111:role/b are both of account 111111111111: one role per account',
    ],
  ])('rejects the roles of a config file %j, naming the setting and the entry', async (content, problem) => {
    const file = await configFile(JSON.stringify(content));

    expect(() => loadConfig({ env: {}, configFile: file })).toThrow(`aws.roles (--roles, ECS_DISCOVERER_ROLES): ${problem}`);
  });

  it('reads the health filter and cluster tags', () => {
    const config = loadConfig({ env: { ECS_DISCOVERER_LABEL_CLUSTER_TAGS: 'true' }, flags: { healthFilter: 'not-unhealthy' } });

    expect(config.healthFilter).toBe('not-unhealthy');
    expect(config.labels.clusterTags).toBe(true);
    expect(loadConfig({ env: {} })).toMatchObject({ healthFilter: 'any', labels: { clusterTags: false } });
  });

  it.each([
    [{ flags: { interval: 'soon' } }, 'interval (--interval, ECS_DISCOVERER_INTERVAL): expected a whole number of seconds from 1 to 86400: value was "soon"'],
    [{ flags: { interval: '0' } }, 'interval (--interval, ECS_DISCOVERER_INTERVAL): expected a whole number of seconds from 1 to 86400: value was 0'],
    [{ flags: { interval: '9x9' } }, 'interval (--interval, ECS_DISCOVERER_INTERVAL): expected a whole number of seconds from 1 to 86400: value was "9x9"'],
    [{ env: { ECS_DISCOVERER_LOG_FORMAT: 'xml' } }, 'log.format (--log-format, ECS_DISCOVERER_LOG_FORMAT): must be one of the possible values: ["text","json"]: value was "xml"'],
    [{ env: { ECS_DISCOVERER_LABEL_CLUSTER: '__cluster' } }, 'labels.cluster (ECS_DISCOVERER_LABEL_CLUSTER): expected a label name matching [a-zA-Z_][a-zA-Z0-9_]* without "__" prefix: value was "__cluster"'],
    [{ env: { ECS_DISCOVERER_FILE_1M: 'a/b.json' } }, 'files.1m (ECS_DISCOVERER_FILE_1M): expected a plain file name (no "/", not "." or ".."): value was "a/b.json"'],
    [{ flags: { interval: '99999999999' } }, 'interval (--interval, ECS_DISCOVERER_INTERVAL): expected a whole number of seconds from 1 to 86400: value was 99999999999'],
    [{ env: { ECS_DISCOVERER_ROUND_TIMEOUT: '2147484' } }, 'roundTimeout (ECS_DISCOVERER_ROUND_TIMEOUT): expected a whole number of seconds from 1 to 86400: value was 2147484'],
    [{ env: { ECS_DISCOVERER_AWS_MAX_ATTEMPTS: '1000' } }, 'aws.maxAttempts (ECS_DISCOVERER_AWS_MAX_ATTEMPTS): expected a whole number from 1 to 20: value was 1000'],
    [{ env: { ECS_DISCOVERER_FILE_5M: '..' } }, 'files.5m (ECS_DISCOVERER_FILE_5M): expected a plain file name (no "/", not "." or ".."): value was ".."'],
    [{ env: { ECS_DISCOVERER_LABEL_TASK_ID: 'job' } }, 'labels.taskId (ECS_DISCOVERER_LABEL_TASK_ID): "job" is a label every target has already (job, instance, metrics_path)'],
    [{ env: { ECS_DISCOVERER_LABEL_TASK_ID: 'cluster' } }, 'labels.cluster (ECS_DISCOVERER_LABEL_CLUSTER) and labels.taskId (ECS_DISCOVERER_LABEL_TASK_ID) are both "cluster": each needs a label of its own'],
    [{ flags: { 'http.host': 'not a host!' } }, 'http.host (--http-host, ECS_DISCOVERER_HTTP_HOST): expected an IP address (IPv4 or IPv6) or a host name: value was "not a host!"'],
    [{ env: { ECS_DISCOVERER_METRICS_PATH: 'metrics' } }, 'metricsPath (ECS_DISCOVERER_METRICS_PATH): expected a path starting with "/": value was "metrics"'],
    [{ env: { ECS_DISCOVERER_INTERVL: '5' } }, 'unknown environment variable ECS_DISCOVERER_INTERVL'],
    [{ flags: { 'clusters.include': '(' } }, 'clusters.include (--cluster-include, ECS_DISCOVERER_CLUSTER_INCLUDE): expected a regular expression in RE2 syntax (no lookaround or backreferences: matching stays linear in time), or empty for none: value was "("'],
    [{ env: { ECS_DISCOVERER_LABEL_TASK_TAGS: 'yes' } }, 'labels.taskTags (ECS_DISCOVERER_LABEL_TASK_TAGS): expected true or false: value was "yes"'],
    [{ flags: { 'aws.roles': 'arn:aws:iam::111111111111:user/alice' } }, 'aws.roles (--roles, ECS_DISCOVERER_ROLES): "arn:aws:iam::111111111111:user/alice" is not an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>): value was [{"arn":"arn:aws:iam::111111111111:user/alice"}]'],
    [{ env: { ECS_DISCOVERER_ROLES: 'discoverer' } }, 'aws.roles (--roles, ECS_DISCOVERER_ROLES): "discoverer" is not an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>): value was [{"arn":"discoverer"}]'],
    [{ flags: { 'labels.fromDockerLabels': 'com.example.team,a b' } }, 'labels.fromDockerLabels (ECS_DISCOVERER_LABEL_FROM_DOCKER_LABELS): expected docker label names, comma-separated, each a label name with "." and "-" as "_" ([a-zA-Z_][a-zA-Z0-9_]*, no "__" prefix), no two the same label: value was ["com.example.team","a b"]'],
    [{ flags: { 'labels.fromDockerLabels': 'a.b,a-b' } }, 'labels.fromDockerLabels (ECS_DISCOVERER_LABEL_FROM_DOCKER_LABELS): expected docker label names, comma-separated, each a label name with "." and "-" as "_" ([a-zA-Z_][a-zA-Z0-9_]*, no "__" prefix), no two the same label: value was ["a.b","a-b"]'],
    [{ flags: { 'labels.fromDockerLabels': '__meta_x' } }, 'labels.fromDockerLabels (ECS_DISCOVERER_LABEL_FROM_DOCKER_LABELS): expected docker label names, comma-separated, each a label name with "." and "-" as "_" ([a-zA-Z_][a-zA-Z0-9_]*, no "__" prefix), no two the same label: value was ["__meta_x"]'],
    [{ flags: { selections: '{bad' } }, 'selections (--selections, ECS_DISCOVERER_SELECTIONS): expected an object of names and label selectors, such as {"payments": "team=\\"payments\\""}: value was "{bad"'],
    [{ flags: { healthFilter: 'green' } }, 'healthFilter (--health-filter, ECS_DISCOVERER_HEALTH_FILTER): must be one of the possible values: ["any","healthy","not-unhealthy"]: value was "green"'],
    [{ flags: { 'marker.source': 'labels' } }, 'marker.source (--marker-source, ECS_DISCOVERER_MARKER_SOURCE): must be one of the possible values: ["environment","dockerLabels","prometheus-ecs-discoverer","teralytics","ecs-observer","sepich"]: value was "labels"'],
  ])('rejects %j with one line naming the setting, the value and what is expected', (input, message) => {
    expect(() => loadConfig({ env: {}, ...input })).toThrow(new ConfigError(message));
  });

  it('takes the regions of every partition of the SDK, and refuses other shapes', () => {
    const regions = ['eu-west-1', 'us-gov-west-1', 'cn-northwest-1', 'us-iso-east-1', 'us-isob-east-1', 'eu-isoe-west-1', 'us-isof-south-1', 'eusc-de-east-1'];

    expect(loadConfig({ env: {}, flags: { 'aws.regions': regions.join(',') } }).aws.regions).toEqual(regions);
    for (const bad of ['EU-WEST-1', 'mars-1', 'eu-west', 'eu west 1']) expect(() => loadConfig({ env: {}, flags: { 'aws.regions': bad } }), bad).toThrow(ConfigError);
  });

  it('leaves the variables of a Kubernetes Service named ecs-discoverer alone, and only those', () => {
    const kubernetes = {
      ECS_DISCOVERER_SERVICE_HOST: '10.96.0.12',
      ECS_DISCOVERER_SERVICE_PORT: '8080',
      ECS_DISCOVERER_SERVICE_PORT_HTTP: '8080',
      ECS_DISCOVERER_PORT: 'tcp://10.96.0.12:8080',
      ECS_DISCOVERER_PORT_8080_TCP: 'tcp://10.96.0.12:8080',
      ECS_DISCOVERER_PORT_8080_TCP_PROTO: 'tcp',
      ECS_DISCOVERER_PORT_8080_TCP_PORT: '8080',
      ECS_DISCOVERER_PORT_8080_TCP_ADDR: '10.96.0.12',
    };

    expect(loadConfig({ env: { ...kubernetes, ECS_DISCOVERER_INTERVAL: '20' } }).interval).toBe(20);
    expect(() => loadConfig({ env: { ...kubernetes, ECS_DISCOVERER_INTERVL: '5' } })).toThrow(new ConfigError('unknown environment variable ECS_DISCOVERER_INTERVL'));
    // Without the Service's host, a lone ECS_DISCOVERER_PORT is a guess at a setting: still refused.
    expect(() => loadConfig({ env: { ECS_DISCOVERER_PORT: '9090' } })).toThrow(new ConfigError('unknown environment variable ECS_DISCOVERER_PORT'));
  });

  it('rejects an unknown setting in the config file', async () => {
    const file = await configFile(JSON.stringify({ intervall: 5 }));

    expect(() => loadConfig({ env: {}, configFile: file })).toThrow(new ConfigError(`--config "${file}": unknown setting "intervall"`));
  });

  it.each([
    // Convict passed over these without a word: the settings stayed at their defaults.
    ['{"http.port": 9999, "log.level": "debug"}', ['unknown setting "http.port" (in a --config file, settings nest: {"http": {"port": ...}})', 'unknown setting "log.level" (in a --config file, settings nest: {"log": {"level": ...}})']],
    ['{"__proto__": {"interval": 5}}', ['unknown setting "__proto__"']],
    ['{"http": {"port.x": 1}}', ['unknown setting "http.port.x"']],
    // Convict answered these with a line per setting of the group, and a false "unknown setting".
    ['{"marker": "PROMETHEUS_TARGET"}', ['"marker" is a group of settings (name, value, source): expected an object of them: value was "PROMETHEUS_TARGET"']],
    ['{"clusters": ["prod"]}', ['"clusters" is a group of settings (names, include, exclude): expected an object of them: value was ["prod"]']],
    ['{"files": null}', ['"files" is a group of settings (15s, 30s, 1m, 5m, generic): expected an object of them: value was null']],
    ['{"interval": {"seconds": 5}}', ['interval (--interval, ECS_DISCOVERER_INTERVAL): expected one value, not an object: value was {"seconds":5}']],
    // Names as --help has them, or without their group.
    ['{"regions": ["eu-west-1"]}', ['unknown setting "regions" (did you mean "aws.regions"?)']],
    ['{"requestTimeout": 5}', ['unknown setting "requestTimeout" (did you mean "aws.requestTimeout" or "http.requestTimeout"?)']],
  ])('rejects the keys of %s in a config file, a line each, naming the file', async (content, problems) => {
    const file = await configFile(content);

    expect(() => loadConfig({ env: {}, configFile: file })).toThrow(new ConfigError(problems.map((problem) => `--config "${file}": ${problem}`).join('\n')));
  });

  it('reads settings nested in a config file, objects where a setting takes one', async () => {
    const file = await configFile(JSON.stringify({ http: { port: 9999 }, log: { level: 'debug' }, selections: { payments: 'team="payments"' } }));

    const config = loadConfig({ env: {}, configFile: file });

    expect(config.http.port).toBe(9999);
    expect(config.log.level).toBe('debug');
    expect(Object.keys(config.selections)).toEqual(['payments']);
  });

  it('rejects a config file that is not JSON, naming the file', async () => {
    const file = await configFile('interval = 5');

    expect(() => loadConfig({ env: {}, configFile: file })).toThrow(/^--config ".*settings.json": not valid JSON/);
  });

  it('rejects a YAML config file in one line, saying that --config reads JSON', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'config-'));
    const path = join(directory, 'settings.yaml');
    // Short enough that V8 quotes all of it, its line break included.
    await writeFile(path, 'a: 1\nb: 2');

    // V8's wording of a JSON error differs between versions; one line, and the hint, do not.
    expect(() => loadConfig({ env: {}, configFile: path })).toThrow(/^--config ".*settings\.yaml": not valid JSON \([^\n]*\); --config reads JSON, not YAML$/);
  });

  it('says which values of a bad setting came from the config file, and none that a flag or variable set', async () => {
    const file = await configFile(JSON.stringify({ interval: 'abc', http: { port: 99999 }, metricsPath: 'nope' }));

    expect(() => loadConfig({ env: { ECS_DISCOVERER_METRICS_PATH: 'metrics' }, configFile: file, flags: { 'http.port': '70000' } })).toThrow(
      new ConfigError(
        [
          `interval (--interval, ECS_DISCOVERER_INTERVAL): expected a whole number of seconds from 1 to 86400: value was "abc" (set in --config "${file}")`,
          'metricsPath (ECS_DISCOVERER_METRICS_PATH): expected a path starting with "/": value was "metrics"',
          'http.port (--http-port, ECS_DISCOVERER_HTTP_PORT): expected a TCP port 1..65535, or 0 for off: value was 70000',
        ].join('\n'),
      ),
    );
  });

  it('names the config file when the value it set is the other setting a check compares with', async () => {
    const file = await configFile(JSON.stringify({ http: { requestTimeout: 5 } }));

    expect(() => loadConfig({ env: {}, configFile: file })).toThrow(new RegExp(`^http\\.headersTimeout \\(.*\\(http\\.requestTimeout set in --config "${file}"\\)$`));
  });

  it('says which of two clashing settings came from the config file or a preset', async () => {
    const file = await configFile(JSON.stringify({ files: { generic: 'sd.json', '15s': 'sd.json' } }));

    expect(() => loadConfig({ env: {}, configFile: file })).toThrow(
      new ConfigError(`files.15s (ECS_DISCOVERER_FILE_15S) and files.generic (ECS_DISCOVERER_FILE_GENERIC) are both "sd.json": each needs a file of its own (set in --config "${file}")`),
    );
    expect(() => loadConfig({ env: { ECS_DISCOVERER_FILE_GENERIC: 'ecs_file_sd.yml' }, flags: { preset: 'teralytics' } })).toThrow(
      new ConfigError(
        'files.generic (ECS_DISCOVERER_FILE_GENERIC) and allTargetsFile (ECS_DISCOVERER_ALL_TARGETS_FILE) are both "ecs_file_sd.yml": each needs a file of its own (allTargetsFile set by preset teralytics)',
      ),
    );
  });

  it('rejects a config file that does not exist', () => {
    expect(() => loadConfig({ env: {}, configFile: '/nonexistent/settings.json' })).toThrow(
      /^--config "\/nonexistent\/settings.json": ENOENT/,
    );
  });

  it('gives every setting an environment variable with our prefix and a doc line', () => {
    for (const setting of SETTINGS) {
      expect(setting.env).toMatch(/^ECS_DISCOVERER_[A-Z0-9_]+$/);
      expect(setting.doc.length).toBeGreaterThan(10);
    }
    expect(new Set(SETTINGS.map((setting) => setting.env)).size).toBe(SETTINGS.length);
  });
});

describe('loadConfig: HTTP listeners, prefix and limits', () => {
  it('reads listen addresses, an IPv6 host in brackets or not, the prefix and the external URL', () => {
    const config = loadConfig({ env: { ECS_DISCOVERER_HTTP_LISTEN_ADDRESSES: '127.0.0.1:8080, [::1]:8080' }, flags: { 'http.routePrefix': '/ecs', 'http.externalUrl': 'https://proxy.example/ecs/' } });

    expect(config.http.listenAddresses).toEqual(['127.0.0.1:8080', '[::1]:8080']);
    // Every IPv4 address beside an IPv6 one on the same port: each takes its own.
    expect(loadConfig({ env: {}, flags: { 'http.listenAddresses': '0.0.0.0:8080,[::1]:8080,127.0.0.1:9090' } }).http.listenAddresses).toHaveLength(3);
    expect(config.http.routePrefix).toBe('/ecs');
    expect(loadConfig({ env: {}, flags: { 'http.host': '[::1]' } }).http.host).toBe('::1');
    expect(loadConfig({ env: {}, flags: { 'http.host': '::1' } }).http.host).toBe('::1');
  });

  it('has bounded defaults for slow clients', () => {
    expect(loadConfig({ env: {} }).http).toMatchObject({ headersTimeout: 10, requestTimeout: 30, keepAliveTimeout: 65, writeTimeout: 30, maxConnections: 4096, openHealthEndpoints: false, webConfigFile: '' });
  });

  it.each<[LoadConfigInput, string]>([
    [
      { flags: { 'http.listenAddresses': '127.0.0.1:8080', 'http.port': '9090' } },
      'http.listenAddresses (--web.listen-address, ECS_DISCOVERER_HTTP_LISTEN_ADDRESSES) and http.port (--http-port, ECS_DISCOVERER_HTTP_PORT) are both set: give every address in http.listenAddresses (host:port, [::1]:8080 for IPv6), and leave http.port unset',
    ],
    [
      { flags: { 'http.listenAddresses': '::1:8080' } },
      'http.listenAddresses (--web.listen-address, ECS_DISCOVERER_HTTP_LISTEN_ADDRESSES): expected host:port addresses, comma-separated ([::1]:8080 for IPv6, :8080 for every address): value was ["::1:8080"]',
    ],
    // Two listeners taking one port: the second would fail as if another process held it.
    ...[
      ['127.0.0.1:8080', '127.0.0.1:8080'],
      [':8080', '127.0.0.1:8080'],
      ['127.0.0.1:9090', '[::]:9090'],
      ['0.0.0.0:8080', '127.0.0.1:8080'],
      ['app.example:8080', ':8080'],
    ].map(([first = '', second = '']): [LoadConfigInput, string] => [
      { flags: { 'http.listenAddresses': `${first},${second}` } },
      `http.listenAddresses (--web.listen-address, ECS_DISCOVERER_HTTP_LISTEN_ADDRESSES): "${first}" and "${second}" both take port ${first.split(':').at(-1)}: give one of them`,
    ]),
    [
      { env: { ECS_DISCOVERER_HTTP_HEADERS_TIMEOUT: '60', ECS_DISCOVERER_HTTP_REQUEST_TIMEOUT: '30' } },
      'http.headersTimeout (ECS_DISCOVERER_HTTP_HEADERS_TIMEOUT): 60 s is above http.requestTimeout (30 s): a request cannot take less time than its headers',
    ],
    [
      { flags: { 'http.routePrefix': 'ecs' } },
      'http.routePrefix (--web.route-prefix, ECS_DISCOVERER_HTTP_ROUTE_PREFIX): expected a path such as /ecs (plain segments: no "//", ".", "..", "?", "#" or "%"), or empty: value was "ecs"',
    ],
    [
      { flags: { 'http.externalUrl': 'proxy.example/ecs' } },
      'http.externalUrl (--web.external-url, ECS_DISCOVERER_HTTP_EXTERNAL_URL): expected an absolute http or https URL without query or fragment, such as https://proxy.example/ecs/, or empty: value was "proxy.example/ecs"',
    ],
  ])('rejects %j with one line', (input, message) => {
    expect(() => loadConfig({ env: {}, ...input })).toThrow(new ConfigError(message));
  });
});

describe('settingError', () => {
  it('names the setting and its sources, keeps the underlying error as cause and says its reason in the same line', () => {
    const cause = Object.assign(new Error('listen EADDRINUSE: address already in use 127.0.0.1:8080'), { code: 'EADDRINUSE' });

    const error = settingError('http.port', 'cannot listen on 127.0.0.1:8080', cause);

    expect(error).toBeInstanceOf(ConfigError);
    expect(error.cause).toBe(cause);
    expect(error.message).toBe('http.port (--http-port, ECS_DISCOVERER_HTTP_PORT): cannot listen on 127.0.0.1:8080: listen EADDRINUSE: address already in use 127.0.0.1:8080');
  });

  it('names the kind of error a cause is, when it is not a plain Error', () => {
    const cause = Object.assign(new Error('region="eu west 1" is not a valid hostname component.'), { name: 'RegionError' });

    const error = settingError('aws.regions', 'region "eu west 1" cannot be used', cause);

    expect(error.message).toBe('aws.regions (--regions, ECS_DISCOVERER_REGIONS): region "eu west 1" cannot be used: RegionError: region="eu west 1" is not a valid hostname component.');
    expect(error.cause).toBe(cause);
  });

  it('keeps to one line when the cause says its reason over several', () => {
    const cause = new Error('EACCES: permission denied\n    at open (node:fs)');

    const error = settingError('outputDir', '"/srv/sd" is not a writable directory', cause);

    expect(error.message).toBe('outputDir (--output-dir, ECS_DISCOVERER_OUTPUT_DIR): "/srv/sd" is not a writable directory: EACCES: permission denied at open (node:fs)');
  });

  it('has no cause, and nothing after the problem, when there is no underlying error', () => {
    const error = settingError('interval', 'must be at least 1');

    expect(error.message).toBe('interval (--interval, ECS_DISCOVERER_INTERVAL): must be at least 1');
    expect(error.cause).toBeUndefined();
  });
});

describe('events settings', () => {
  it('have no queue and a resync every 300 s by default', () => {
    expect(loadConfig({ env: {} }).events).toEqual({ queueUrl: '', resyncInterval: 300 });
  });

  it('read the queue URL from the flag or ECS_DISCOVERER_EVENTS_QUEUE_URL, and the resync interval', () => {
    const fromEnv = loadConfig({ env: { ECS_DISCOVERER_EVENTS_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/ecs-events' } });
    const fromFlags = loadConfig({ env: {}, flags: { 'events.queueUrl': 'http://127.0.0.1:4566/123456789012/events.fifo', 'events.resyncInterval': '60' } });

    expect(fromEnv.events.queueUrl).toBe('https://sqs.eu-west-1.amazonaws.com/123456789012/ecs-events');
    expect(fromFlags.events).toEqual({ queueUrl: 'http://127.0.0.1:4566/123456789012/events.fifo', resyncInterval: 60 });
  });

  it.each([
    'sqs.eu-west-1.amazonaws.com/123456789012/ecs-events',
    'https://sqs.eu-west-1.amazonaws.com/ecs-events',
    'https://sqs.eu-west-1.amazonaws.com/123456789012/ecs events',
    'https://sqs.eu-west-1.amazonaws.com/123456789012/ecs-events?x=1',
    'ftp://sqs.eu-west-1.amazonaws.com/123456789012/ecs-events',
    `https://sqs.eu-west-1.amazonaws.com/123456789012/${'q'.repeat(81)}`,
    'arn:aws:sqs:eu-west-1:123456789012:ecs-events',
  ])('refuse %s as a queue URL, in one line naming the setting and what is expected', (url) => {
    expect(() => loadConfig({ env: {}, flags: { 'events.queueUrl': url } })).toThrow(
      new ConfigError(
        `events.queueUrl (--events-queue-url, ECS_DISCOVERER_EVENTS_QUEUE_URL): expected an SQS queue URL, https://sqs.<region>.amazonaws.com/<account id>/<queue name>, or empty for none: value was ${JSON.stringify(url)}`,
      ),
    );
  });

  it('refuse a resync interval shorter than the interval when events are on', () => {
    const flags = { 'events.queueUrl': 'https://sqs.eu-west-1.amazonaws.com/123456789012/ecs-events', 'events.resyncInterval': '10', interval: '15' };

    expect(() => loadConfig({ env: {}, flags })).toThrow(
      new ConfigError('events.resyncInterval (--events-resync-interval, ECS_DISCOVERER_EVENTS_RESYNC_INTERVAL): 10 is less than interval (15): expected at least that'),
    );
    expect(loadConfig({ env: {}, flags: { 'events.resyncInterval': '10' } }).events.resyncInterval).toBe(10);
  });
});

describe('reloadSettings (SIGHUP)', () => {
  const start = loadConfig({ env: {}, flags: { interval: '30', 'marker.name': 'PROMETHEUS' } });

  it('applies every label setting the rounds read, and the default interval; tags and the rest wait for a restart', () => {
    const next = loadConfig({
      env: {},
      flags: { interval: '45', 'marker.name': 'SCRAPE', 'labels.fargateIds': 'compatibility', 'labels.fromDockerLabels': 'team', 'labels.noLabelsValue': 'true', defaultInterval: '1m', 'labels.taskTags': 'true' },
    });

    const reload = reloadSettings(start, start, next);

    expect(reload.applied.sort()).toEqual(['defaultInterval', 'labels.fargateIds', 'labels.fromDockerLabels', 'labels.noLabelsValue', 'marker.name']);
    expect(reload.needRestart.sort()).toEqual(['interval', 'labels.taskTags']);
    expect(reload.inForce).toMatchObject({ interval: 30, defaultInterval: '1m', marker: { name: 'SCRAPE' }, labels: { taskTags: false, fargateIds: 'compatibility', fromDockerLabels: ['team'] } });
  });

  it('never applies a setting that needs a restart at a later reload, and names it at each reload until then', () => {
    const first = reloadSettings(start, start, loadConfig({ env: {}, flags: { interval: '45', 'marker.name': 'PROMETHEUS' } }));
    const second = reloadSettings(start, first.inForce, loadConfig({ env: {}, flags: { interval: '45', 'marker.name': 'SCRAPE' } }));

    expect(first).toMatchObject({ applied: [], needRestart: ['interval'] });
    expect(second).toMatchObject({ applied: ['marker.name'], needRestart: ['interval'] });
    expect(second.inForce.interval).toBe(30);
  });

  it('counts a preset as the settings it sets, and names it as waiting for a restart while one of them does', () => {
    const reload = reloadSettings(start, start, loadConfig({ env: {}, flags: { interval: '30', 'marker.name': 'PROMETHEUS', preset: 'teralytics' } }));

    expect(reload.applied).toEqual(['marker.source']);
    expect(reload.needRestart).toEqual(['allTargetsFile', 'preset']);
    expect(reload.inForce.preset).toBe(start.preset);
  });

  it('puts a preset in force beside a change that waits for a restart, when that change is not one of the preset\'s settings', () => {
    const preset = { 'marker.name': 'PROMETHEUS', preset: 'ecs-observer' };
    const first = reloadSettings(start, start, loadConfig({ env: {}, flags: { interval: '30', ...preset } }));
    const second = reloadSettings(start, first.inForce, loadConfig({ env: {}, flags: { interval: '45', ...preset } }));
    const fromPreset = loadConfig({ env: {}, flags: { interval: '30', ...preset } });
    const dropped = reloadSettings(fromPreset, fromPreset, loadConfig({ env: {}, flags: { interval: '45', 'marker.name': 'PROMETHEUS' } }));

    expect(first.inForce.preset).toBe('ecs-observer');
    expect(second).toMatchObject({ applied: [], needRestart: ['interval'], inForce: { preset: 'ecs-observer', marker: { source: 'ecs-observer' } } });
    expect(dropped).toMatchObject({ applied: ['marker.source', 'preset'], needRestart: ['interval'], inForce: { preset: '', marker: { source: 'environment' } } });
  });

  it('puts a preset in force, as the status page shows it, once every setting it sets is', () => {
    const reload = reloadSettings(start, start, loadConfig({ env: {}, flags: { interval: '30', 'marker.name': 'PROMETHEUS', preset: 'ecs-observer' } }));

    expect(reload.needRestart).toEqual([]);
    expect(reload.applied).toContain('preset');
    expect(reload.inForce).toMatchObject({ preset: 'ecs-observer', marker: { source: 'ecs-observer' } });
  });
});
