import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebConfigError, loadWebSecurity } from '../../../src/http/webSecurity.js';
import { issueCertificate, makeTestPki, SERVER_EXTENSIONS, type TestPki } from '../../support/testPki.js';

/** bcryptjs' hash of "correct horse", cost 4. */
const ALICE_HASH = '$2y$04$9rgXdjNECdizwsB8LSdbreqwFWg/lil0hfaBYfBj8mUJCEx2VAkrS';

let pki: TestPki;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'web-security-'));
  pki = makeTestPki(dir);
}, 30_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function webConfig(text: string): Promise<string> {
  const file = join(dir, `web-${Math.random().toString(36).slice(2)}.yml`);
  await writeFile(file, text);
  return file;
}

describe('loadWebSecurity', () => {
  it('loads TLS with a client certificate policy, users and headers, and lists the files to watch', async () => {
    const file = await webConfig(`tls_server_config:
  cert_file: server.crt
  key_file: server.key
  client_ca_file: ${pki.caCert}
  client_auth_type: RequireAndVerifyClientCert
basic_auth_users:
  alice: ${ALICE_HASH}
http_server_config:
  headers:
    X-Content-Type-Options: nosniff
`);

    const security = await loadWebSecurity(file);

    expect(security.files).toEqual([file, pki.serverCert, pki.serverKey, pki.caCert]);
    expect(security.tls?.clientCerts).toEqual({ requestCert: true, rejectUnauthorized: true, closeWithoutCert: true, closeUnverified: true });
    expect(security.tls?.context).toMatchObject({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', honorCipherOrder: true });
    expect(String(security.tls?.context.cert)).toContain('BEGIN CERTIFICATE');
    expect(security.headers).toEqual({ 'X-Content-Type-Options': 'nosniff' });
    expect(await security.auth?.check(`Basic ${Buffer.from('alice:correct horse').toString('base64')}`)).toEqual({ ok: true, user: 'alice' });
  });

  it('loads a file without TLS or users as plain HTTP without authentication', async () => {
    const security = await loadWebSecurity(await webConfig('http_server_config:\n  headers:\n    X-Frame-Options: sameorigin\n'));

    expect(security.tls).toBeUndefined();
    expect(security.auth).toBeUndefined();
  });

  it('names the file and the key of every problem, in one line', async () => {
    const other = issueCertificate(dir, 'ca', 'other-server', SERVER_EXTENSIONS);
    const cases: [string, RegExp][] = [
      ['tls_server_config:\n  cert_file: missing.crt\n  key_file: server.key\n', /: tls_server_config\.cert_file: cannot read ".*\/missing\.crt": .*ENOENT/],
      [`tls_server_config:\n  cert_file: ${pki.serverKey}\n  key_file: server.key\n`, /: tls_server_config\.cert_file: not a PEM certificate/],
      [`tls_server_config:\n  cert_file: server.crt\n  key_file: ${pki.serverCert}\n`, /: tls_server_config\.key_file: not an unencrypted PEM private key/],
      [`tls_server_config:\n  cert_file: server.crt\n  key_file: ${other.key}\n`, /: tls_server_config\.key_file: is not the private key of the certificate of cert_file$/],
      [`tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ${pki.serverKey}\n`, /: tls_server_config\.client_ca_file: holds no PEM certificate/],
      ['tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  min_version: TLS11\n', /: tls_server_config\.min_version: TLS11 cannot be honoured/],
    ];
    for (const [text, message] of cases) {
      const file = await webConfig(text);
      const error = await loadWebSecurity(file).then(
        () => undefined,
        (thrown: unknown) => thrown,
      );

      expect(error, text).toBeInstanceOf(WebConfigError);
      expect((error as Error).message.startsWith(`${file}: `), text).toBe(true);
      expect((error as Error).message, text).toMatch(message);
      expect((error as Error).message, text).not.toContain('\n');
      expect((error as Error).message, text).not.toContain('PRIVATE KEY');
    }
  });

  it('names a file that cannot be read', async () => {
    await expect(loadWebSecurity(join(dir, 'nope.yml'))).rejects.toThrow(/nope\.yml: cannot be read: .*ENOENT/);
  });
});
