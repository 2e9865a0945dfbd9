import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { sdkEnvFor } from '../../src/fake/fakeAws.js';

/** The built CLI, run as `npx prometheus-ecs-discoverer` runs it: through its shebang. */
export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export function assertBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first (npm test does)`);
}

/** Environment for the real SDK to reach the fake at `url`, with throwaway credentials. */
export function fakeAwsEnv(url: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  // Only what the discoverer needs: none of the developer's own AWS settings may leak in.
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'NODE_OPTIONS']) if (process.env[name]) env[name] = process.env[name];
  return { ...env, ...sdkEnvFor(url), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to its end (for --once, --help, bad settings). */
export function runCli(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(CLI, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`CLI did not end within ${timeoutMs} ms; stderr:\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Integration files run two at a time: two discoverers on the default port 8080 would collide,
 * and the second would end at once (EADDRINUSE). So HTTP is off unless the test says where to
 * listen, by a flag, the environment or its --config file.
 */
function withHttpOffByDefault(args: string[], env: NodeJS.ProcessEnv): string[] {
  const saysWhere =
    args.some((arg) => ['--http-port', '--web.listen-address', '--config'].includes(arg.split('=')[0] ?? '')) ||
    env['ECS_DISCOVERER_HTTP_PORT'] !== undefined ||
    env['ECS_DISCOVERER_HTTP_LISTEN_ADDRESSES'] !== undefined;
  return saysWhere ? args : [...args, '--http-port', '0'];
}

/** A long-running discoverer with JSON logs, whose log lines tests can wait for. */
export class RunningDiscoverer {
  readonly lines: Record<string, unknown>[] = [];
  readonly #child: ChildProcess;
  readonly #exited: Promise<number | null>;
  #waiters: (() => void)[] = [];
  #stderr = '';
  #stdout = '';

  constructor(args: string[], env: NodeJS.ProcessEnv) {
    this.#child = spawn(CLI, ['--log-format', 'json', ...withHttpOffByDefault(args, env)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child.stdout?.on('data', (chunk: Buffer) => {
      this.#stdout += chunk.toString();
      this.#waiters.forEach((wake) => wake());
    });
    let buffered = '';
    this.#child.stderr?.on('data', (chunk: Buffer) => {
      this.#stderr += chunk.toString();
      buffered += chunk.toString();
      const complete = buffered.split('\n');
      buffered = complete.pop() ?? '';
      for (const line of complete) {
        try {
          this.lines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          this.lines.push({ msg: line, level: 'raw' });
        }
      }
      this.#waiters.forEach((wake) => wake());
    });
    this.#exited = new Promise((resolve) => this.#child.on('close', (code) => resolve(code)));
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Round log lines so far. */
  rounds(): Record<string, unknown>[] {
    return this.lines.filter((line) => line['msg'] === 'round');
  }

  /** Waits until `count` rounds have been logged; returns the last one. */
  async waitForRounds(count: number, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    await this.waitFor(() => this.rounds().length >= count, `${count} rounds`, timeoutMs);
    return this.rounds()[count - 1] as Record<string, unknown>;
  }

  /**
   * Waits for a state of the process's output. Fails at once, with the end of its log, when the
   * process has ended: a process that died must not read as a slow one.
   */
  async waitFor(isDone: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!isDone()) {
      const { exitCode, signalCode } = this.#child;
      if (exitCode !== null || signalCode !== null) throw new Error(`the discoverer ended (${exitCode ?? signalCode}) before ${what}; its log ends:\n${this.#logTail()}`);
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}; its log ends:\n${this.#logTail()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      this.#waiters = [];
    }
  }

  #logTail(): string {
    return this.#stderr.split('\n').slice(-60).join('\n');
  }

  /** Resolves with the exit code once the process has ended by itself. */
  get exited(): Promise<number | null> {
    return this.#exited;
  }

  /** Sends a signal and waits for the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.#child.exitCode === null) this.#child.kill(signal);
    return this.#exited;
  }

  get stderr(): string {
    return this.#stderr;
  }

  get stdout(): string {
    return this.#stdout;
  }
}

/** Ports freePort has handed out in this process: two asked for at once must differ. */
const portsGiven = new Set<number>();

/** The first port of the kernel's ephemeral range, read once per process. */
let ephemeralRangeStart: Promise<number> | undefined;

/**
 * A TCP port free on `host` for the discoverer to listen on (port 0 means "off" to it). Chosen
 * at random below the kernel's ephemeral range, not by listening on port 0: a port the kernel
 * handed out and we closed again goes back to that range, where any socket of the machine (a
 * fake's listener, an outgoing connection, another test run) may take it before the discoverer
 * binds it, and it then exits with EADDRINUSE.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  ephemeralRangeStart ??= readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').then(
    (text) => Number(text.trim().split(/\s+/)[0]),
    () => 32_768,
  );
  const ephemeralFrom = await ephemeralRangeStart;
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 10_000 + Math.floor(Math.random() * (ephemeralFrom - 10_000));
    if (portsGiven.has(port) || !(await canListen(port, host))) continue;
    portsGiven.add(port);
    return port;
  }
  throw new Error(`no free port found on ${host} between 10000 and ${ephemeralFrom}`);
}

async function canListen(port: number, host: string): Promise<boolean> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}
