import { describe, expect, it } from 'vitest';
import { helpText, parseCommandLine } from '../../src/commandLine.js';
import { SETTINGS, loadConfig } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';

describe('parseCommandLine', () => {
  it('maps setting flags to their setting keys', () => {
    const invocation = parseCommandLine(['--interval', '30', '--output-dir=/var/sd', '--regions', 'eu-west-1', '--once']);

    expect(invocation).toEqual({
      flags: { interval: '30', outputDir: '/var/sd', 'aws.regions': 'eu-west-1' },
      mode: { kind: 'once' },
      configFile: undefined,
      help: false,
      version: false,
    });
  });

  it('runs forever without --once', () => {
    expect(parseCommandLine([]).mode).toEqual({ kind: 'serve' });
  });

  it('reads the check command and its options', () => {
    expect(parseCommandLine(['check', '--json', '--clusters', 'a,b']).mode).toEqual({ kind: 'check', json: true, failIfEmpty: false, strict: false });
    expect(parseCommandLine(['--fail-if-empty', 'check']).mode).toEqual({ kind: 'check', json: false, failIfEmpty: true, strict: false });
    expect(parseCommandLine(['check', '--strict']).mode).toEqual({ kind: 'check', json: false, failIfEmpty: false, strict: true });
    expect(parseCommandLine(['check', '--clusters', 'a,b']).flags).toEqual({ 'clusters.names': 'a,b' });
  });

  it('refuses, for demo, the flags it would not use: the output directory and the regions', () => {
    expect(() => parseCommandLine(['demo', '--output-dir', '/var/sd'])).toThrow(
      new ConfigError("option --output-dir is not for demo: demo writes to a directory of its own, removed when it stops, and reads its fake fleet's one region"),
    );
    expect(() => parseCommandLine(['--regions=eu-west-1', 'demo'])).toThrow(/^option --regions is not for demo: /);
    expect(parseCommandLine(['demo', '--interval', '5'])).toMatchObject({ mode: { kind: 'demo' }, flags: { interval: '5' } });
  });

  it('takes a negative number after a flag for its value, so that the range check names it', () => {
    expect(parseCommandLine(['--interval', '-5', '--http-port', '-1', '--once']).flags).toEqual({ interval: '-5', 'http.port': '-1' });
    expect(() => loadConfig({ env: {}, flags: parseCommandLine(['--interval', '-5']).flags })).toThrow(/^interval \(--interval, ECS_DISCOVERER_INTERVAL\): .*value was -5$/);
    // Not a number: still an option, and its flag still has no value.
    expect(() => parseCommandLine(['--interval', '--once'])).toThrow(new ConfigError('option --interval needs a value (see --help)'));
  });

  it('reads --config, --help and --version', () => {
    expect(parseCommandLine(['--config', 'a.json', '-h', '-V'])).toMatchObject({ configFile: 'a.json', help: true, version: true });
  });

  it.each([
    [['--bogus'], 'unknown option --bogus (see --help)'],
    [['--interval'], 'option --interval needs a value (see --help)'],
    [['stray'], 'unexpected argument stray (the commands are check and demo; see --help)'],
    [['check', 'more'], 'unexpected argument more (the commands are check and demo; see --help)'],
    [['--json'], 'option --json is for check only (see --help)'],
    [['check', '--once'], 'option --once is not for check: check always runs one round'],
  ])('rejects %j with one line', (argv, message) => {
    expect(() => parseCommandLine(argv)).toThrow(new ConfigError(message));
  });
});

describe('helpText', () => {
  it('lists every setting with its environment variable and default, and every flag', () => {
    const help = helpText();

    for (const setting of SETTINGS) {
      expect(help).toContain(setting.env);
      if (setting.flag) expect(help).toContain(`${setting.flag} VALUE`);
    }
    for (const option of ['--once', '--config FILE', '--help', '--version', '--json', '--fail-if-empty', ' check ']) {
      expect(help).toContain(option);
    }
  });
});

describe('parseCommandLine: repeated list flags', () => {
  it('joins a list flag given several times, as exporters take --web.listen-address', () => {
    const invocation = parseCommandLine(['--web.listen-address', '127.0.0.1:8080', '--web.listen-address=[::1]:8080', '--web.config.file', 'web.yml']);

    expect(invocation.flags).toEqual({ 'http.listenAddresses': '127.0.0.1:8080,[::1]:8080', 'http.webConfigFile': 'web.yml' });
  });
});
