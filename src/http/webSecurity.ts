import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createSecureContext, getCiphers, type SecureContextOptions } from 'node:tls';
import { describeError } from '../errors.js';
import { loadYaml } from '../yamlPackage.js';
import { BasicAuth } from './basicAuth.js';
import { toClientCertHandling, type ClientAuthType, type ClientCertHandling } from './tlsNames.js';
import { WebConfigProblem, filesOf, parseWebConfig, type PemSource, type TlsServerConfig } from './webConfig.js';

/** What TLS a listener serves: Node's secure context options and its client certificate policy. */
export interface TlsSettings {
  context: SecureContextOptions;
  clientAuth: ClientAuthType;
  clientCerts: ClientCertHandling;
}

/** A web configuration file, loaded: everything the HTTP server applies to each connection and request. */
export interface WebSecurity {
  file: string;
  /** Undefined: plain HTTP. */
  tls: TlsSettings | undefined;
  headers: Readonly<Record<string, string>>;
  /** Undefined: no authentication. */
  auth: BasicAuth | undefined;
  /** The web config file, then the certificate files it names: a change of any of them reloads it. */
  files: readonly string[];
}

/** A web configuration that cannot be used; the message is one line: `file: key: problem`. */
export class WebConfigError extends Error {
  override name = 'WebConfigError';
}

/** The key a PEM came from, as the file names it. */
const keyOf = (source: PemSource, inlineKey: string, fileKey: string) => `tls_server_config.${'file' in source ? fileKey : inlineKey}`;

async function readPem(source: PemSource, key: string): Promise<string> {
  if ('inline' in source) return source.inline;
  try {
    return await readFile(source.file, 'utf8');
  } catch (error) {
    throw new WebConfigProblem(`${key}: cannot read "${source.file}": ${describeError(error)}`);
  }
}

/** Reads and checks the certificates and key, so that a bad one is named before Node's own, vaguer, error. */
async function toTlsSettings(tls: TlsServerConfig): Promise<TlsSettings> {
  const certKey = keyOf(tls.cert, 'cert', 'cert_file');
  const keyKey = keyOf(tls.key, 'key', 'key_file');
  const cert = await readPem(tls.cert, certKey);
  const key = await readPem(tls.key, keyKey);
  try {
    new X509Certificate(cert);
  } catch (error) {
    throw new WebConfigProblem(`${certKey}: not a PEM certificate (${describeError(error)})`);
  }
  try {
    createPrivateKey(key);
  } catch (error) {
    // Never the key itself in a message.
    throw new WebConfigProblem(`${keyKey}: not an unencrypted PEM private key (${describeError(error)})`);
  }
  let ca: string | undefined;
  if (tls.clientCa !== undefined) {
    const caKey = keyOf(tls.clientCa, 'client_ca', 'client_ca_file');
    ca = await readPem(tls.clientCa, caKey);
    try {
      new X509Certificate(ca);
    } catch (error) {
      throw new WebConfigProblem(`${caKey}: holds no PEM certificate (${describeError(error)})`);
    }
  }
  const available = new Set(getCiphers());
  const missing = tls.ciphers.find((cipher) => !available.has(cipher.toLowerCase()));
  if (missing !== undefined) throw new WebConfigProblem(`tls_server_config.cipher_suites: ${missing} is not offered by this Node.js build's OpenSSL`);
  const context: SecureContextOptions = {
    cert,
    key,
    ...(ca !== undefined && { ca }),
    minVersion: tls.minVersion,
    maxVersion: tls.maxVersion,
    ...(tls.ciphers.length > 0 && { ciphers: tls.ciphers.join(':') }),
    honorCipherOrder: tls.honorCipherOrder,
    ...(tls.curves.length > 0 && { ecdhCurve: tls.curves.join(':') }),
  };
  try {
    createSecureContext(context);
  } catch (error) {
    const reason = describeError(error);
    if (/key values mismatch/i.test(reason)) throw new WebConfigProblem(`${keyKey}: is not the private key of the certificate of ${certKey.replace('tls_server_config.', '')}`);
    throw new WebConfigProblem(`tls_server_config: Node.js cannot use these settings (${reason})`);
  }
  return { context, clientAuth: tls.clientAuth, clientCerts: toClientCertHandling(tls.clientAuth) };
}

/**
 * Reads a web configuration file and what it names (certificates, keys, CA): every problem is
 * a WebConfigError naming the file and the key. bcryptjs is loaded only when there are users.
 */
export async function loadWebSecurity(file: string): Promise<WebSecurity> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new WebConfigError(`${file}: cannot be read: ${describeError(error)}`, { cause: error });
  }
  try {
    const config = parseWebConfig(text, file, await loadYaml());
    const tls = config.tls === undefined ? undefined : await toTlsSettings(config.tls);
    let auth: BasicAuth | undefined;
    if (config.users.size > 0) {
      const { compare } = await import('bcryptjs');
      auth = new BasicAuth(config.users, (password, hash) => compare(password, hash));
    }
    return { file, tls, headers: config.headers, auth, files: [file, ...filesOf(config)] };
  } catch (error) {
    if (error instanceof WebConfigProblem) throw new WebConfigError(`${file}: ${error.message}`, { cause: error });
    throw error;
  }
}
