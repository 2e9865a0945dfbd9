import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { SETTINGS } from './config.js';
import { ConfigError } from './errors.js';

export const NAME = 'prometheus-ecs-discoverer';

/** Exit codes: 0 done, 1 the round (--once) failed, 2 bad usage or settings. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

const COMMAND_OPTIONS = {
  once: { type: 'boolean', doc: 'Run one round, write the files, exit: 0 when it succeeded, 1 when it failed.' },
  config: { type: 'string', doc: 'JSON file of settings (defaults < this file < environment < flags).', value: 'FILE' },
  help: { type: 'boolean', short: 'h', doc: 'Show this help.' },
  version: { type: 'boolean', short: 'V', doc: 'Show the version.' },
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
    `Usage: ${NAME} [options]`,
    '',
    'Discovers the ECS containers marked for Prometheus and publishes them as file_sd files.',
    'AWS credentials, region and endpoints come from the AWS SDK\'s usual chain (AWS_PROFILE,',
    'AWS_REGION, AWS_ENDPOINT_URL_ECS, AWS_ENDPOINT_URL_EC2, ...).',
    '',
    'Options:',
  ];
  for (const [name, option] of Object.entries(COMMAND_OPTIONS)) {
    const short = 'short' in option ? `-${option.short}, ` : '';
    const value = 'value' in option ? ` ${option.value}` : '';
    lines.push(`  ${`${short}--${name}${value}`.padEnd(26)} ${option.doc}`);
  }
  lines.push('', 'Settings (key in a --config file; flag; environment variable; default):');
  for (const setting of SETTINGS) {
    const sources = [setting.flag && `${setting.flag} VALUE`, setting.env].filter(Boolean).join(', ');
    lines.push(`  ${setting.key}: ${sources}; default ${showDefault(setting.default)}`);
    lines.push(`      ${setting.doc}`);
  }
  lines.push('', 'Exit codes: 0 ok; 1 a --once round failed; 2 bad usage or settings.');
  return lines.join('\n');
}

export interface Invocation {
  flags: Record<string, string>;
  once: boolean;
  configFile: string | undefined;
  help: boolean;
  version: boolean;
}

/** Parses the command line; throws ConfigError naming the offending option. */
export function parseCommandLine(argv: string[]): Invocation {
  const settingFlags = SETTINGS.filter((setting) => setting.flag !== undefined);
  const options: ParseArgsConfig['options'] = {};
  for (const [name, option] of Object.entries(COMMAND_OPTIONS)) {
    options[name] = { type: option.type, ...('short' in option && { short: option.short }) };
  }
  for (const setting of settingFlags) options[(setting.flag as string).slice(2)] = { type: 'string' };

  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: false });
  } catch (error) {
    const message = (error as Error).message;
    const option = /'(-[^' ]+)/.exec(message)?.[1];
    const code = (error as { code?: string }).code;
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new ConfigError(`unknown option ${option} (see --help)`);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw new ConfigError(`option ${option} needs a value (see --help)`);
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') throw new ConfigError(`unexpected argument ${message.match(/'([^']+)'/)?.[1] ?? ''} (see --help)`);
    throw new ConfigError(message);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const flags: Record<string, string> = {};
  for (const setting of settingFlags) {
    const value = values[(setting.flag as string).slice(2)];
    if (typeof value === 'string') flags[setting.key] = value;
  }
  return {
    flags,
    once: values['once'] === true,
    configFile: typeof values['config'] === 'string' ? values['config'] : undefined,
    help: values['help'] === true,
    version: values['version'] === true,
  };
}

