import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeAws } from '../../src/fake/fakeAws.js';
import { edgeFleet } from '../support/edgeFleet.js';
import { makeTestPki, type TestPki } from '../support/testPki.js';
import { assertBuilt, fakeAwsEnv, runCli } from '../support/runningDiscoverer.js';

/** AWS answers over HTTPS; so does the fake here, with a certificate of a CA made for the test. */
let workDir: string;
let pki: TestPki;
let overTls: FakeAws;
let plain: FakeAws;

beforeAll(async () => {
  assertBuilt();
  workDir = await mkdtemp(join(tmpdir(), 'discoverer-aws-tls-'));
  pki = makeTestPki(workDir);
  overTls = new FakeAws(edgeFleet());
  await overTls.start({ tls: { cert: await readFile(pki.serverCert, 'utf8'), key: await readFile(pki.serverKey, 'utf8') } });
  plain = new FakeAws(edgeFleet());
  await plain.start();
});
afterAll(async () => {
  await overTls.stop();
  await plain.stop();
  await rm(workDir, { recursive: true, force: true });
});

/** Every file of a directory, by name. */
async function filesOf(directory: string): Promise<Record<string, string>> {
  const names = (await readdir(directory)).sort();
  return Object.fromEntries(await Promise.all(names.map(async (name) => [name, await readFile(join(directory, name), 'utf8')] as const)));
}

describe('ECS over HTTPS', () => {
  it('publishes the targets of plain HTTP when the CA is trusted (NODE_EXTRA_CA_CERTS), and fails the round in one line naming the certificate when not', async () => {
    expect(overTls.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const [trustedDir, plainDir, untrustedDir] = ['trusted', 'plain', 'untrusted'].map((name) => join(workDir, name)) as [string, string, string];

    const trusted = await runCli(['--once', '--output-dir', trustedDir], { ...fakeAwsEnv(overTls.url), NODE_EXTRA_CA_CERTS: pki.caCert });
    const overHttp = await runCli(['--once', '--output-dir', plainDir], fakeAwsEnv(plain.url));
    const untrusted = await runCli(['--once', '--output-dir', untrustedDir], fakeAwsEnv(overTls.url));

    expect(trusted.code, trusted.stderr).toBe(0);
    expect(overHttp.code, overHttp.stderr).toBe(0);
    const published = await filesOf(trustedDir);
    expect(Object.keys(published)).toHaveLength(5);
    expect(published).toEqual(await filesOf(plainDir));
    expect(untrusted.code).toBe(1);
    const roundLine = untrusted.stderr.split('\n').find((line) => line.includes(' round outcome='));
    expect(roundLine).toMatch(/outcome=failed .*ListClusters failed: unable to verify the first certificate/);
    expect(untrusted.stderr).not.toMatch(/^\s+at /m);
    expect(await readdir(untrustedDir)).toEqual([]);
  });
});
