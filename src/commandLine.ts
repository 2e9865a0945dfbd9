import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { SETTINGS } from './config.js';
import { MAX_SHARDS } from './discovery/shards.js';
import { ConfigError } from './errors.js';
import { EXIT } from './exitCodes.js';

export const NAME = 'prometheus-ecs-discoverer';

/** What the process was asked to do. */
export type RunMode =
  /** Rounds forever, with the files and the HTTP server. */
  | { kind: 'serve' }
  /** One round, the files, exit: 0 when it succeeded. */
  | { kind: 'once' }
  /** One round, a report on stdout, no files. */
  | { kind: 'check'; json: boolean; failIfEmpty: boolean; strict: boolean; shards?: number }
  /** Serves a small fake fleet from an in-process fake of ECS: no AWS account needed. */
  | { kind: 'demo' };

/** Options that are not settings; `check` marks those of the check command. */
const COMMAND_OPTIONS = {
  once: { type: 'boolean', doc: 'Run one round, write the files, exit: 0 when it succeeded, 1 when it failed.' },
  config: { type: 'string', doc: 'JSON file of settings (defaults < this file < environment < flags).', value: 'FILE' },
  help: { type: 'boolean', short: 'h', doc: 'Show this help.' },
  version: { type: 'boolean', short: 'V', doc: 'Show the version.' },
  json: { type: 'boolean', check: true, doc: 'check: print the report as JSON.' },
  'fail-if-empty': { type: 'boolean', check: true, doc: 'check: also exit 1 when no target at all was found.' },
  strict: { type: 'boolean', check: true, doc: 'check: also exit 1 on any warning (bad label names, paths without "/", ...).' },
  shards: { type: 'string', check: true, value: 'N', doc: 'check: also count the targets that each of N shards takes (/targets?shard=i&of=N).' },
} as const;

export function version(): string {
  const packageJson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return packageJson.version;
}

const showDefault = (value: unknown): string =>
  Array.isArray(value) ? (value.length === 0 ? '(none)' : value.join(',')) : JSON.stringify(value);

/** The help text, made from the settings schema so that it cannot drift from it. */
export function helpText(): string {
  const lines = [
    `Usage: ${NAME} [options]          discover forever: files, HTTP SD, metrics`,
    `       ${NAME} --once [options]   one round, write the files, exit`,
    `       ${NAME} check [options]    one round, no files: report per cluster what was`,
    `       ${' '.repeat(NAME.length)}                    found and why marked containers were skipped`,
    `       ${NAME} demo [options]     serve a small fake fleet: no AWS account needed`,
    '',
    'Discovers the ECS containers marked for Prometheus and publishes them as file_sd files and',
    'over HTTP SD. AWS credentials, region and endpoints come from the AWS SDK\'s usual chain',
    '(AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL_ECS, AWS_ENDPOINT_URL_EC2, ...); with --roles, each',
    'account\'s role is assumed with them through STS (AWS_ENDPOINT_URL_STS).',
    '',
    'Options:',
  ];
  for (const [name, option] of Object.entries(COMMAND_OPTIONS)) {
    const short = 'short' in option ? `-${option.short}, ` : '';
    const value = 'value' in option ? ` ${option.value}` : '';
    lines.push(`  ${`${short}--${name}${value}`.padEnd(26)} ${option.doc}`);
  }
  lines.push('', 'Settings (key, nested at each dot in a --config file: {"http": {"port": 8080}}; flag; environment variable; default):');
  for (const setting of SETTINGS) {
    const sources = [setting.flag && `${setting.flag} VALUE`, setting.env].filter(Boolean).join(', ');
    lines.push(`  ${setting.key}: ${sources}; default ${showDefault(setting.default)}${setting.range ? `; ${setting.range}` : ''}`);
    lines.push(`      ${setting.doc}`);
  }
  lines.push(
    '',
    `Exit codes: ${EXIT.ok} ok; ${EXIT.failed} a --once round failed, or check found skipped marked containers, a cluster of`,
    `--clusters that does not exist or no marked container at all (or, with --fail-if-empty, no target; with --strict, a`,
    `warning); ${EXIT.usage} bad usage or settings; ${EXIT.unreadable} check could not read every cluster.`,
  );
  return lines.join('\n');
}

export interface Invocation {
  /** Settings given as flags, by setting key. */
  flags: Record<string, string>;
  mode: RunMode;
  configFile: string | undefined;
  help: boolean;
  version: boolean;
}

/**
 * parseArgs takes the "-5" of `--interval -5` for an option, and would say that --interval has no
 * value: a number is a value, given to the option as `--interval=-5`, so that its range is what
 * the error names.
 */
function withNegativeValues(argv: string[], options: ParseArgsConfig['options']): string[] {
  const args: string[] = [];
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index] as string;
    const next = argv[index + 1];
    const takesValue = arg.startsWith('--') && options?.[arg.slice(2)]?.type === 'string';
    if (takesValue && next !== undefined && /^-\d/.test(next)) {
      args.push(`${arg}=${next}`);
      index += 1;
    } else {
      args.push(arg);
    }
  }
  return args;
}

/** Parses the command line; throws ConfigError naming the offending option. */
export function parseCommandLine(argv: string[]): Invocation {
  const settingFlags = SETTINGS.filter((setting) => setting.flag !== undefined);
  const options: ParseArgsConfig['options'] = {};
  for (const [name, option] of Object.entries(COMMAND_OPTIONS)) {
    options[name] = { type: option.type, ...('short' in option && { short: option.short }) };
  }
  // A list setting's flag may be repeated (--web.listen-address a --web.listen-address b): the values are joined.
  const isList = (setting: (typeof settingFlags)[number]) => Array.isArray(setting.default);
  for (const setting of settingFlags) options[(setting.flag as string).slice(2)] = { type: 'string', ...(isList(setting) && { multiple: true }) };

  let parsed;
  try {
    parsed = parseArgs({ args: withNegativeValues(argv, options), strict: true, allowPositionals: true, options });
  } catch (error) {
    const message = (error as Error).message;
    const option = /'(-[^' ]+)/.exec(message)?.[1];
    const code = (error as { code?: string }).code;
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new ConfigError(`unknown option ${option} (see --help)`, { cause: error });
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw new ConfigError(`option ${option} needs a value (see --help)`, { cause: error });
    throw new ConfigError(message, { cause: error });
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const [command, ...extra] = parsed.positionals;
  if ((command !== undefined && command !== 'check' && command !== 'demo') || extra.length > 0) {
    throw new ConfigError(`unexpected argument ${extra[0] ?? command} (the commands are check and demo; see --help)`);
  }
  const checking = command === 'check';
  if (command === 'demo' && values['once'] === true) throw new ConfigError('option --once is not for demo: demo serves until Ctrl-C');
  for (const [name, option] of Object.entries(COMMAND_OPTIONS)) {
    if ('check' in option && values[name] !== undefined && !checking) throw new ConfigError(`option --${name} is for check only (see --help)`);
  }
  if (checking && values['once'] === true) throw new ConfigError('option --once is not for check: check always runs one round');

  const shards = values['shards'];
  if (typeof shards === 'string' && !(/^\d{1,4}$/.test(shards) && Number(shards) >= 1 && Number(shards) <= MAX_SHARDS)) {
    throw new ConfigError(`option --shards "${shards}": expected a number of shards from 1 to ${MAX_SHARDS}`);
  }

  const flags: Record<string, string> = {};
  for (const setting of settingFlags) {
    const value = (parsed.values as Record<string, string | string[] | boolean | undefined>)[(setting.flag as string).slice(2)];
    if (typeof value === 'string') flags[setting.key] = value;
    else if (Array.isArray(value)) flags[setting.key] = value.join(',');
  }
  if (command === 'demo') {
    // The demo reads its own fake fleet, in its own region, and removes its files when it stops.
    for (const key of ['outputDir', 'aws.regions']) {
      const flag = settingFlags.find((setting) => setting.key === key)?.flag;
      if (flags[key] !== undefined) throw new ConfigError(`option ${flag} is not for demo: demo writes to a directory of its own, removed when it stops, and reads its fake fleet's one region`);
    }
  }
  const mode: RunMode = checking
    ? {
        kind: 'check',
        json: values['json'] === true,
        failIfEmpty: values['fail-if-empty'] === true,
        strict: values['strict'] === true,
        ...(typeof shards === 'string' && { shards: Number(shards) }),
      }
    : command === 'demo'
      ? { kind: 'demo' }
      : { kind: values['once'] === true ? 'once' : 'serve' };
  return {
    flags,
    mode,
    configFile: typeof values['config'] === 'string' ? values['config'] : undefined,
    help: values['help'] === true,
    version: values['version'] === true,
  };
}
