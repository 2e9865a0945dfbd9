import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashSync } from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeAws } from '../../src/fake/fakeAws.js';
import { RunningDiscoverer, assertBuilt, fakeAwsEnv, freePort } from '../support/runningDiscoverer.js';
import { BIG_CLUSTER_TASKS, EXPECTED_PROD, bigClusterIp, edgeFleet } from '../support/edgeFleet.js';
import { makeTestPki } from '../support/testPki.js';

/**
 * A real Prometheus discovers every target of the edge fleet from the discoverer's HTTP SD
 * endpoint over HTTPS with basic auth (http_sd_configs with tls_config and basic_auth), the way
 * the README recommends running the central service. .ci/run installs Debian's prometheus
 * package; elsewhere the test is skipped, loudly.
 */
const PROMETHEUS = '/usr/bin/prometheus';
const installed = existsSync(PROMETHEUS);
if (!installed) {
  if (process.env['CI']) throw new Error(`${PROMETHEUS} is missing in CI: .ci/run should have installed Debian's prometheus package`);
  console.warn(`\n*** SKIPPING the Prometheus HTTPS end-to-end test: ${PROMETHEUS} is not installed (apt-get install prometheus) ***\n`);
}

const PASSWORD = 'e2e-secret-of-prometheus';

interface ActiveTarget {
  scrapePool: string;
  scrapeUrl: string;
  labels: Record<string, string>;
}

/** Every target of the edge fleet as a scrape URL with its job, written out from the README's rules (edgeFleet.ts). */
function expectedTargets(): string[] {
  const expected = Object.values(EXPECTED_PROD).flatMap((groups) => groups.map((group) => `http://${group.targets[0] ?? ''}${group.labels.__metrics_path__} job=${group.labels.job}`));
  for (let index = 0; index < BIG_CLUSTER_TASKS; index++) expected.push(`http://${bigClusterIp(index)}:8000/metrics job=worker`);
  return expected.sort();
}

let fake: FakeAws;
let discoverer: RunningDiscoverer;
let prometheus: ChildProcess;
let workDir: string;
let prometheusUrl: string;
let prometheusLog = '';

describe.skipIf(!installed)('a real Prometheus fed over HTTPS with basic auth', () => {
  beforeAll(async () => {
    assertBuilt();
    fake = new FakeAws(edgeFleet());
    await fake.start();
    workDir = await mkdtemp(join(tmpdir(), 'discoverer-e2e-https-'));
    const pki = makeTestPki(workDir);
    await writeFile(
      join(workDir, 'web.yml'),
      `tls_server_config:\n  cert_file: ${pki.serverCert}\n  key_file: ${pki.serverKey}\nbasic_auth_users:\n  prometheus: ${hashSync(PASSWORD, 4)}\n`,
    );
    await writeFile(join(workDir, 'password'), `${PASSWORD}\n`);
    const httpPort = await freePort();
    discoverer = new RunningDiscoverer(
      ['--interval', '2', '--output-dir', join(workDir, 'targets'), '--web.listen-address', `127.0.0.1:${httpPort}`, '--web.config.file', join(workDir, 'web.yml'), '--web.route-prefix', '/ecs'],
      fakeAwsEnv(fake.url),
    );
    await discoverer.waitForRounds(1);

    await writeFile(
      join(workDir, 'prometheus.yml'),
      `global:
  scrape_interval: 1m
scrape_configs:
  - job_name: ecs
    http_sd_configs:
      - url: 'https://127.0.0.1:${httpPort}/ecs/targets'
        refresh_interval: 5s
        basic_auth:
          username: prometheus
          password_file: ${join(workDir, 'password')}
        tls_config:
          ca_file: ${pki.caCert}
`,
    );
    const prometheusPort = await freePort();
    prometheusUrl = `http://127.0.0.1:${prometheusPort}`;
    prometheus = spawn(
      PROMETHEUS,
      [`--config.file=${join(workDir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(workDir, 'data')}`, `--web.listen-address=127.0.0.1:${prometheusPort}`, '--log.level=warn'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    prometheus.stderr?.on('data', (chunk: Buffer) => (prometheusLog += chunk.toString()));
  }, 60_000);

  afterAll(async () => {
    if (prometheus?.pid) process.kill(prometheus.pid, 'SIGTERM');
    await discoverer?.stop('SIGTERM');
    await fake?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('discovers every target, and the discoverer refused no credentials', async () => {
    const expected = expectedTargets();
    let seen: string[] = [];
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      try {
        const response = await fetch(`${prometheusUrl}/api/v1/targets?state=active`);
        const { data } = (await response.json()) as { data: { activeTargets: ActiveTarget[] } };
        seen = data.activeTargets.filter((target) => target.scrapePool === 'ecs').map((target) => `${target.scrapeUrl} job=${target.labels['job'] ?? ''}`).sort();
        if (seen.length >= expected.length) break;
      } catch {
        // Prometheus is still starting.
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }

    expect(seen, `Prometheus' log:\n${prometheusLog}`).toEqual(expected);
    expect(discoverer.lines.filter((line) => line['msg'] === 'HTTP request refused: wrong credentials')).toEqual([]);
    expect(discoverer.stderr).not.toContain(PASSWORD);
  });
});
