import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Certificates made for a test, in its own directory, with openssl (EC keys: fast): a CA, a
 * server certificate for 127.0.0.1, ::1 and localhost, a client certificate, and a second CA
 * with a client certificate of its own (one the server must not accept).
 */
export interface TestPki {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  strangerCert: string;
  strangerKey: string;
}

const openssl = (dir: string, args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });

function makeCa(dir: string, name: string): void {
  openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name}`]);
}

/** A key and a certificate signed by the CA `ca`, written as `<name>.key` and `<name>.crt`. */
export function issueCertificate(dir: string, ca: string, name: string, extensions: string): { cert: string; key: string } {
  const extFile = join(dir, `${name}.ext`);
  writeFileSync(extFile, `${extensions}\n`);
  openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-set_serial', String(Date.now() + Math.floor(Math.random() * 1e6)), '-days', '2', '-out', `${name}.crt`, '-extfile', extFile]);
  return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
}

export const SERVER_EXTENSIONS = 'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\nextendedKeyUsage=serverAuth';
const CLIENT_EXTENSIONS = 'extendedKeyUsage=clientAuth';

export function makeTestPki(dir: string): TestPki {
  makeCa(dir, 'ca');
  makeCa(dir, 'stranger-ca');
  const server = issueCertificate(dir, 'ca', 'server', SERVER_EXTENSIONS);
  const client = issueCertificate(dir, 'ca', 'prometheus', CLIENT_EXTENSIONS);
  const stranger = issueCertificate(dir, 'stranger-ca', 'stranger', CLIENT_EXTENSIONS);
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    serverCert: server.cert,
    serverKey: server.key,
    clientCert: client.cert,
    clientKey: client.key,
    strangerCert: stranger.cert,
    strangerKey: stranger.key,
  };
}
