/** The bin's work once src/cli.ts has set V8's settings: the command line, signals, and the exit code. */
import { EventEmitter } from 'node:events';
import { NAME, helpText, parseCommandLine, version } from './commandLine.js';
import { EXIT } from './exitCodes.js';
import { loadConfig } from './config.js';
import { ConfigError, describeError } from './errors.js';
import { run } from './main.js';

// The SDK's own notice spans nine lines of every log; main() logs one line instead.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

// From the start: Node's defaults would end the process on SIGHUP and SIGUSR2, and open the
// inspector on SIGUSR1. run() says what it does with each (see the README's "Signals").
const signals = new EventEmitter();
process.on('SIGHUP', () => signals.emit('reload'));
for (const name of ['SIGUSR1', 'SIGUSR2'] as const) process.on(name, () => signals.emit('ignored', name));

async function main(argv: string[]): Promise<number> {
  const invocation = parseCommandLine(argv);
  if (invocation.help) {
    process.stdout.write(`${helpText()}\n`);
    return EXIT.ok;
  }
  if (invocation.version) {
    process.stdout.write(`${version()}\n`);
    return EXIT.ok;
  }
  const loadSettings = () => loadConfig({ flags: invocation.flags, configFile: invocation.configFile });
  const config = loadSettings();
  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (stop.signal.aborted) process.exit(EXIT.failed); // A second signal: the operator insists.
    stop.abort(new Error(signal));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return run({ config, mode: invocation.mode, signal: stop.signal, signals, reloadConfig: loadSettings });
}

/**
 * Exits once what was written to stdout and stderr has gone out: a pipe takes a large `check
 * --json` report in several writes, and process.exit() would cut it short.
 */
function exitAfterOutput(code: number): void {
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

// Exit explicitly: idle keep-alive sockets of the AWS clients must not hold the process.
main(process.argv.slice(2)).then(exitAfterOutput, (error: unknown) => {
  process.stderr.write(`${NAME}: ${error instanceof ConfigError ? error.message : describeError(error)}\n`);
  exitAfterOutput(error instanceof ConfigError ? EXIT.usage : EXIT.failed);
});
