import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Logger } from '../../../src/log.js';
import { WebConfigWatcher } from '../../../src/http/webConfigWatcher.js';
import type { WebSecurity } from '../../../src/http/webSecurity.js';

let dir: string;
let watcher: WebConfigWatcher | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'watcher-'));
});
afterEach(async () => {
  watcher?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Replaces a file in one step, as rotation tools do. */
async function replace(path: string, content: string): Promise<void> {
  await writeFile(`${path}.new`, content);
  await rename(`${path}.new`, path);
}

/** A logger whose lines a test can wait for. */
function waitingLogger() {
  const lines: { level: string; message: string; fields: Record<string, unknown> }[] = [];
  let wake = () => {};
  const record = (level: string) => (message: string, fields: Record<string, unknown> = {}) => {
    lines.push({ level, message, fields });
    wake();
  };
  const logger: Logger = { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') };
  const until = async (done: () => boolean) => {
    while (!done()) await new Promise<void>((resolve) => (wake = resolve));
  };
  return { logger, lines, until };
}

const security = (file: string, files: string[], tls = false): WebSecurity => ({
  file,
  files,
  headers: {},
  auth: undefined,
  tls: tls ? { context: {}, clientAuth: 'NoClientCert', clientCerts: { requestCert: false, rejectUnauthorized: false, closeWithoutCert: false, closeUnverified: false } } : undefined,
});

describe('WebConfigWatcher', () => {
  it('loads and applies the file again when a file it names is replaced', async () => {
    const file = join(dir, 'web.yml');
    const cert = join(dir, 'server.crt');
    await writeFile(file, 'a');
    await writeFile(cert, 'one');
    const { logger, lines, until } = waitingLogger();
    const applied: WebSecurity[] = [];
    const next = security(file, [file, cert]);
    watcher = new WebConfigWatcher({ current: security(file, [file, cert]), load: async () => next, apply: (loaded) => void applied.push(loaded), logger, recheckMs: 60_000, settleMs: 0 });
    await watcher.start();

    await replace(cert, 'two');
    await until(() => lines.some((line) => line.message === 'web config reloaded'));

    expect(applied).toEqual([next]);
  });

  it('keeps the configuration in force, saying why, when the new one does not load or cannot be applied', async () => {
    const file = join(dir, 'web.yml');
    await writeFile(file, 'a');
    const { logger, lines, until } = waitingLogger();
    let attempt = 0;
    const applied: WebSecurity[] = [];
    watcher = new WebConfigWatcher({
      current: security(file, [file]),
      load: async () => {
        attempt += 1;
        if (attempt === 1) throw new Error(`${file}: tls_server_config.cert_file: not a PEM certificate`);
        return security(file, [file], true);
      },
      apply: (loaded) => (loaded.tls === undefined ? void applied.push(loaded) : 'TLS cannot be turned on or off while running: restart to apply it'),
      logger,
      recheckMs: 60_000,
      settleMs: 0,
    });
    await watcher.start();
    const refusals = () => lines.filter((line) => line.message === 'web config not reloaded; the one in force is kept');

    await replace(file, 'bad');
    await until(() => refusals().length >= 1);
    await replace(file, 'tls now');
    await until(() => refusals().length >= 2);

    expect(refusals().map((line) => line.fields['error'])).toEqual([
      `${file}: tls_server_config.cert_file: not a PEM certificate`,
      `${file}: TLS cannot be turned on or off while running: restart to apply it`,
    ]);
    expect(refusals().every((line) => line.level === 'error')).toBe(true);
    expect(applied).toEqual([]);
  });
});
