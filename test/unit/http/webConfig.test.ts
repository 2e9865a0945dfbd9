import * as yaml from 'yaml';
import { describe, expect, it } from 'vitest';
import { WebConfigProblem, filesOf, parseWebConfig } from '../../../src/http/webConfig.js';

/** bcryptjs' hash of "correct horse", cost 4. */
const HASH = '$2y$04$9rgXdjNECdizwsB8LSdbreqwFWg/lil0hfaBYfBj8mUJCEx2VAkrS';
const FILE = '/etc/discoverer/web.yml';
const parse = (text: string) => parseWebConfig(text, FILE, yaml);

describe('parseWebConfig', () => {
  it('reads an empty file as plain HTTP without authentication', () => {
    expect(parse('')).toEqual({ tls: undefined, headers: {}, users: new Map() });
    expect(parse('tls_server_config:\nbasic_auth_users:\n')).toEqual({ tls: undefined, headers: {}, users: new Map() });
  });

  it('reads TLS with the defaults of exporter-toolkit, paths relative to the file', () => {
    const config = parse('tls_server_config:\n  cert_file: server.crt\n  key_file: /keys/server.key\n');

    expect(config.tls).toEqual({
      cert: { file: '/etc/discoverer/server.crt' },
      key: { file: '/keys/server.key' },
      clientCa: undefined,
      clientAuth: 'NoClientCert',
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.3',
      ciphers: [],
      honorCipherOrder: true,
      curves: [],
    });
    expect(filesOf(config)).toEqual(['/etc/discoverer/server.crt', '/keys/server.key']);
  });

  it('maps Go names onto OpenSSL names: versions, cipher suites (TLS 1.3 ones accepted and left to TLS 1.3), curves, client auth', () => {
    const config = parse(`tls_server_config:
  cert: "-----BEGIN CERTIFICATE-----"
  key: "-----BEGIN PRIVATE KEY-----"
  client_ca_file: ca.pem
  client_auth_type: RequireClientCert
  min_version: TLS13
  max_version: TLS13
  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256]
  prefer_server_cipher_suites: false
  curve_preferences: [X25519, CurveP256]
`);

    expect(config.tls).toMatchObject({
      cert: { inline: '-----BEGIN CERTIFICATE-----' },
      clientCa: { file: '/etc/discoverer/ca.pem' },
      clientAuth: 'RequireAnyClientCert',
      minVersion: 'TLSv1.3',
      ciphers: ['ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-CHACHA20-POLY1305'],
      honorCipherOrder: false,
      curves: ['X25519', 'P-256'],
    });
  });

  it('reads users with bcrypt hashes and the headers that may be set', () => {
    const config = parse(`basic_auth_users:
  alice: ${HASH}
  123: ${HASH.replace('$2y$', '$2b$')}
http_server_config:
  http2: false
  headers:
    X-Frame-Options: deny
    Content-Security-Policy: "default-src 'self'"
    Strict-Transport-Security: ""
`);

    expect([...config.users.keys()]).toEqual(['123', 'alice']);
    expect(config.headers).toEqual({ 'X-Frame-Options': 'deny', 'Content-Security-Policy': "default-src 'self'" });
  });

  it.each([
    ['tls_server_configs:\n  cert_file: a', 'tls_server_configs: unknown key (expected one of tls_server_config, http_server_config, basic_auth_users)'],
    ['tls_server_config:\n  cert_file: a\n  key_file: b\n  client_ca_path: c', 'tls_server_config.client_ca_path: unknown key'],
    ['http_server_config:\n  header: {}', 'http_server_config.header: unknown key (expected one of http2, headers)'],
    ['rate_limit:\n  burst: 1', 'rate_limit: rate limiting is not supported'],
    ['tls_server_config:\n  cert_file: a\n  key_file: b\n  client_allowed_sans: [x]', 'tls_server_config.client_allowed_sans: matching client certificate SANs is not supported'],
    ['a: 1\na: 2', 'not valid YAML: Map keys must be unique at line 2, column 1'],
    ['- just\n- a list', '(the file): expected a map of keys and values'],
    ['tls_server_config:\n  key_file: b', 'tls_server_config.cert_file: missing (or cert): TLS needs a certificate'],
    ['tls_server_config:\n  cert_file: a', 'tls_server_config.key_file: missing (or key)'],
    ['tls_server_config:\n  cert_file: a\n  cert: b\n  key_file: c', 'tls_server_config.cert and tls_server_config.cert_file are both set: give one of them'],
    ['tls_server_config:\n  min_version: TLS13', 'tls_server_config.min_version: is set, but TLS is not: add cert_file and key_file'],
    ['tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS10', 'tls_server_config.min_version: TLS10 cannot be honoured: Node.js (OpenSSL 3) does not negotiate TLS below 1.2; use TLS12 or TLS13'],
    ['tls_server_config:\n  cert_file: a\n  key_file: b\n  max_version: TLS14', 'tls_server_config.max_version: unknown TLS version "TLS14" (expected TLS12 or TLS13)'],
    ['tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS13\n  max_version: TLS12', 'tls_server_config.min_version: TLSv1.3 is above max_version TLSv1.2'],
    ['tls_server_config:\n  cert_file: a\n  key_file: b\n  cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]', 'tls_server_config.cipher_suites: unknown or insecure cipher suite "TLS_RSA_WITH_RC4_128_SHA"'],
    ['tls_server_config:\n  cert_file: a\n  key_file: b\n  curve_preferences: [CurveP224]', 'tls_server_config.curve_preferences: unknown curve "CurveP224" (expected CurveP256, CurveP384, CurveP521, X25519)'],
    ['tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: Always', 'tls_server_config.client_auth_type: unknown policy "Always"'],
    ['tls_server_config:\n  cert_file: a\n  key_file: b\n  client_ca_file: c', 'tls_server_config.client_ca_file: is set, but client_auth_type is NoClientCert'],
    ['tls_server_config:\n  cert_file: a\n  key_file: b\n  prefer_server_cipher_suites: yes', 'tls_server_config.prefer_server_cipher_suites: expected true or false, got "yes"'],
    ['http_server_config:\n  headers:\n    X-Powered-By: me', 'http_server_config.headers.X-Powered-By: this header cannot be set'],
    ['http_server_config:\n  headers:\n    X-Frame-Options: allow', 'http_server_config.headers.X-Frame-Options: "allow" is not one of deny, sameorigin'],
    ['http_server_config:\n  headers:\n    X-Content-Type-Options: sniff', 'http_server_config.headers.X-Content-Type-Options: "sniff" is not one of nosniff'],
    ['basic_auth_users:\n  alice: hunter2', 'basic_auth_users.alice: not a bcrypt hash'],
    [`basic_auth_users:\n  alice: "${HASH.replace('$04$', '$03$')}"`, 'basic_auth_users.alice: not a bcrypt hash'],
  ])('refuses %j, naming the key', (text, message) => {
    expect(() => parse(text)).toThrow(WebConfigProblem);
    expect(() => parse(text)).toThrow(message);
  });

  it('never repeats a value that may be a password in its message', () => {
    let message = '';
    try {
      parse('basic_auth_users:\n  alice: hunter2');
    } catch (error) {
      message = (error as Error).message;
    }

    expect(message).toContain('basic_auth_users.alice');
    expect(message).not.toContain('hunter2');
  });
});
