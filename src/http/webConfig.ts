import { dirname, isAbsolute, join } from 'node:path';
import type * as Yaml from 'yaml';
import { firstLine } from '../discovery/text.js';
import {
  CLIENT_AUTH_ALIASES,
  CLIENT_AUTH_TYPES,
  CURVES,
  TLS12_CIPHER_SUITES,
  TLS13_CIPHER_SUITES,
  TLS_VERSIONS,
  UNSUPPORTED_TLS_VERSIONS,
  type ClientAuthType,
  type TlsVersionName,
} from './tlsNames.js';

/**
 * The web configuration file of Prometheus exporters (exporter-toolkit's format: TLS, basic
 * auth, response headers), read into what the HTTP server needs. Parsing only: no file is read
 * here; the certificates it names are read by webSecurity.ts.
 */

/** PEM text given in the file itself, or a file to read it from (absolute, or relative to the web config file). */
export type PemSource = { file: string } | { inline: string };

export interface TlsServerConfig {
  cert: PemSource;
  key: PemSource;
  clientCa: PemSource | undefined;
  clientAuth: ClientAuthType;
  /** Node's names: TLSv1.2, TLSv1.3. */
  minVersion: (typeof TLS_VERSIONS)[TlsVersionName];
  maxVersion: (typeof TLS_VERSIONS)[TlsVersionName];
  /** OpenSSL names of the TLS 1.2 suites to offer; empty: Node's defaults. */
  ciphers: readonly string[];
  /** The server's order of `ciphers` wins over the client's. */
  honorCipherOrder: boolean;
  /** OpenSSL names of the curves, in order of preference; empty: Node's defaults. */
  curves: readonly string[];
}

export interface WebConfig {
  /** Undefined: plain HTTP. */
  tls: TlsServerConfig | undefined;
  /** Headers added to every answer. */
  headers: Readonly<Record<string, string>>;
  /** User name → bcrypt hash; empty: no authentication. */
  users: ReadonlyMap<string, string>;
}

/** A problem in the file: `key: what is wrong`, the key in dotted form (`tls_server_config.min_version`). */
export class WebConfigProblem extends Error {
  override name = 'WebConfigProblem';
}

/** exporter-toolkit's keys that this discoverer knows but does not implement: refused by name, with why. */
const UNSUPPORTED: Readonly<Record<string, string>> = {
  rate_limit: 'rate limiting is not supported by prometheus-ecs-discoverer (answers come from a snapshot; http.maxConnections bounds the load)',
  'tls_server_config.client_allowed_sans': 'matching client certificate SANs is not supported by prometheus-ecs-discoverer; use a client CA of its own for the clients that may connect',
};

/** The headers exporter-toolkit lets a configuration set, and the values allowed where it restricts them. */
const HEADERS: Readonly<Record<string, readonly string[] | undefined>> = {
  'Strict-Transport-Security': undefined,
  'X-Content-Type-Options': ['nosniff'],
  'X-Frame-Options': ['deny', 'sameorigin'],
  'X-XSS-Protection': undefined,
  'Content-Security-Policy': undefined,
};

/** A bcrypt hash as Go's bcrypt (and bcryptjs) reads it: `$2a$`, `$2b$`, `$2y$` or `$2$`, a cost of 4 to 31, 53 characters of salt and hash. */
const BCRYPT_HASH = /^\$2[aby]?\$(\d\d)\$[./A-Za-z0-9]{53}$/;

type Node = Record<string, unknown>;

const isMap = (value: unknown): value is Node => typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);

/** A map at `key`: null (an empty YAML value) is an empty map, as Go reads it. */
function mapAt(value: unknown, key: string): Node {
  if (value === null || value === undefined) return {};
  if (!isMap(value)) throw new WebConfigProblem(`${key}: expected a map of keys and values`);
  return value;
}

function checkKeys(node: Node, path: string, known: readonly string[]): void {
  for (const key of Object.keys(node)) {
    const dotted = path === '' ? key : `${path}.${key}`;
    const unsupported = UNSUPPORTED[dotted];
    if (unsupported !== undefined) throw new WebConfigProblem(`${dotted}: ${unsupported}`);
    if (!known.includes(key)) throw new WebConfigProblem(`${dotted}: unknown key (expected one of ${known.join(', ')})`);
  }
}

function textAt(node: Node, key: string, path: string): string | undefined {
  const value = node[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new WebConfigProblem(`${path}.${key}: expected a text, got ${JSON.stringify(value)}`);
  return value;
}

function booleanAt(node: Node, key: string, path: string, fallback: boolean): boolean {
  const value = node[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') throw new WebConfigProblem(`${path}.${key}: expected true or false, got ${JSON.stringify(value)}`);
  return value;
}

function listAt(node: Node, key: string, path: string): string[] {
  const value = node[key];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((item): item is string => typeof item === 'string')) {
    throw new WebConfigProblem(`${path}.${key}: expected a list of names`);
  }
  return value;
}

/** As exporter-toolkit does: a relative path is relative to the web config file's directory. */
const resolveFrom = (directory: string, file: string) => (isAbsolute(file) ? file : join(directory, file));

function pemSource(node: Node, inlineKey: string, fileKey: string, directory: string): PemSource | undefined {
  const path = 'tls_server_config';
  const inline = textAt(node, inlineKey, path);
  const file = textAt(node, fileKey, path);
  if (inline !== undefined && file !== undefined) {
    throw new WebConfigProblem(`${path}.${inlineKey} and ${path}.${fileKey} are both set: give one of them`);
  }
  if (file !== undefined) return { file: resolveFrom(directory, file) };
  return inline === undefined ? undefined : { inline };
}

function tlsVersion(node: Node, key: 'min_version' | 'max_version', fallback: TlsVersionName): (typeof TLS_VERSIONS)[TlsVersionName] {
  const name = textAt(node, key, 'tls_server_config') ?? fallback;
  if ((UNSUPPORTED_TLS_VERSIONS as readonly string[]).includes(name)) {
    throw new WebConfigProblem(
      `tls_server_config.${key}: ${name} cannot be honoured: Node.js (OpenSSL 3) does not negotiate TLS below 1.2; use TLS12 or TLS13`,
    );
  }
  if (!Object.hasOwn(TLS_VERSIONS, name)) throw new WebConfigProblem(`tls_server_config.${key}: unknown TLS version "${name}" (expected TLS12 or TLS13)`);
  return TLS_VERSIONS[name as TlsVersionName];
}

function cipherSuites(node: Node): string[] {
  const names = listAt(node, 'cipher_suites', 'tls_server_config');
  const ciphers: string[] = [];
  for (const name of names) {
    const openSsl = TLS12_CIPHER_SUITES[name];
    if (openSsl !== undefined) ciphers.push(openSsl);
    else if (!(TLS13_CIPHER_SUITES as readonly string[]).includes(name)) {
      throw new WebConfigProblem(
        `tls_server_config.cipher_suites: unknown or insecure cipher suite "${name}" (expected Go's names, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)`,
      );
    }
  }
  return ciphers;
}

function curvePreferences(node: Node): string[] {
  return listAt(node, 'curve_preferences', 'tls_server_config').map((name) => {
    const curve = CURVES[name];
    if (curve === undefined) throw new WebConfigProblem(`tls_server_config.curve_preferences: unknown curve "${name}" (expected ${Object.keys(CURVES).join(', ')})`);
    return curve;
  });
}

function clientAuthType(node: Node): ClientAuthType {
  const name = textAt(node, 'client_auth_type', 'tls_server_config') ?? 'NoClientCert';
  const type = CLIENT_AUTH_ALIASES[name] ?? name;
  if (!(CLIENT_AUTH_TYPES as readonly string[]).includes(type)) {
    throw new WebConfigProblem(`tls_server_config.client_auth_type: unknown policy "${name}" (expected one of ${CLIENT_AUTH_TYPES.join(', ')})`);
  }
  return type as ClientAuthType;
}

/** The keys that turn TLS on, as exporter-toolkit decides it. */
const TLS_SWITCHES = ['cert', 'key', 'client_ca', 'cert_file', 'key_file', 'client_ca_file', 'client_auth_type'];

function tlsServerConfig(value: unknown, directory: string): TlsServerConfig | undefined {
  const node = mapAt(value, 'tls_server_config');
  checkKeys(node, 'tls_server_config', [
    ...TLS_SWITCHES,
    'min_version',
    'max_version',
    'cipher_suites',
    'prefer_server_cipher_suites',
    'curve_preferences',
  ]);
  const enabled = TLS_SWITCHES.some((key) => textAt(node, key, 'tls_server_config') !== undefined);
  if (!enabled) {
    // Go would serve plain HTTP and ignore these; a version or suite given without a certificate is a mistake worth naming.
    const stray = Object.keys(node).find((key) => node[key] !== null && node[key] !== undefined);
    if (stray !== undefined) throw new WebConfigProblem(`tls_server_config.${stray}: is set, but TLS is not: add cert_file and key_file`);
    return undefined;
  }
  const cert = pemSource(node, 'cert', 'cert_file', directory);
  if (cert === undefined) throw new WebConfigProblem('tls_server_config.cert_file: missing (or cert): TLS needs a certificate');
  const key = pemSource(node, 'key', 'key_file', directory);
  if (key === undefined) throw new WebConfigProblem('tls_server_config.key_file: missing (or key): TLS needs the certificate\'s private key');
  const clientCa = pemSource(node, 'client_ca', 'client_ca_file', directory);
  const clientAuth = clientAuthType(node);
  if (clientCa !== undefined && clientAuth === 'NoClientCert') {
    throw new WebConfigProblem('tls_server_config.client_ca_file: is set, but client_auth_type is NoClientCert: set client_auth_type (RequireAndVerifyClientCert to require certificates)');
  }
  const minVersion = tlsVersion(node, 'min_version', 'TLS12');
  const maxVersion = tlsVersion(node, 'max_version', 'TLS13');
  if (minVersion > maxVersion) throw new WebConfigProblem(`tls_server_config.min_version: ${minVersion} is above max_version ${maxVersion}`);
  return {
    cert,
    key,
    clientCa,
    clientAuth,
    minVersion,
    maxVersion,
    ciphers: cipherSuites(node),
    honorCipherOrder: booleanAt(node, 'prefer_server_cipher_suites', 'tls_server_config', true),
    curves: curvePreferences(node),
  };
}

function headers(value: unknown): Record<string, string> {
  const node = mapAt(value, 'http_server_config.headers');
  const result: Record<string, string> = {};
  for (const [name, text] of Object.entries(node)) {
    const key = `http_server_config.headers.${name}`;
    if (!Object.hasOwn(HEADERS, name)) throw new WebConfigProblem(`${key}: this header cannot be set (expected one of ${Object.keys(HEADERS).join(', ')})`);
    if (text === null || text === '') continue;
    if (typeof text !== 'string') throw new WebConfigProblem(`${key}: expected a text, got ${JSON.stringify(text)}`);
    const allowed = HEADERS[name];
    if (allowed !== undefined && !allowed.includes(text)) throw new WebConfigProblem(`${key}: "${text}" is not one of ${allowed.join(', ')}`);
    result[name] = text;
  }
  return result;
}

function httpServerConfig(value: unknown): Record<string, string> {
  const node = mapAt(value, 'http_server_config');
  checkKeys(node, 'http_server_config', ['http2', 'headers']);
  // Accepted for compatibility: HTTP/2 is never offered (README, "HTTP endpoints").
  booleanAt(node, 'http2', 'http_server_config', true);
  return headers(node['headers']);
}

function users(value: unknown): Map<string, string> {
  const node = mapAt(value, 'basic_auth_users');
  const result = new Map<string, string>();
  for (const [user, hash] of Object.entries(node)) {
    const key = `basic_auth_users.${user}`;
    const match = typeof hash === 'string' ? BCRYPT_HASH.exec(hash) : null;
    const cost = Number(match?.[1]);
    // Never the value in the message: it may be a password written where its hash belongs.
    if (match === null || cost < 4 || cost > 31) {
      throw new WebConfigProblem(`${key}: not a bcrypt hash (expected $2y$10$ and 53 more characters, as htpasswd -nBC 10 "" | tr -d ':\\n' prints)`);
    }
    result.set(user, hash as string);
  }
  return result;
}

/**
 * Reads the text of a web configuration file (`file` names it, for relative paths) with the
 * `yaml` package, which the caller loads (only a process with a web configuration needs it).
 * Throws WebConfigProblem naming the key and what is wrong: unknown keys, bad values, TLS
 * without a certificate, a client CA without a client auth policy, anything Node cannot honour.
 */
export function parseWebConfig(text: string, file: string, yaml: typeof Yaml): WebConfig {
  const document = yaml.parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  const error = document.errors[0];
  if (error !== undefined) throw new WebConfigProblem(`not valid YAML: ${firstLine(error)}`);
  const root = mapAt(document.toJS(), '(the file)');
  checkKeys(root, '', ['tls_server_config', 'http_server_config', 'basic_auth_users']);
  return {
    tls: tlsServerConfig(root['tls_server_config'], dirname(file)),
    headers: httpServerConfig(root['http_server_config']),
    users: users(root['basic_auth_users']),
  };
}

/** The files a configuration reads, to watch for changes. */
export function filesOf(config: WebConfig): string[] {
  const sources = [config.tls?.cert, config.tls?.key, config.tls?.clientCa];
  return sources.flatMap((source) => (source !== undefined && 'file' in source ? [source.file] : []));
}
