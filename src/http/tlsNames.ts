/**
 * The names a Prometheus web configuration uses for TLS (those of Go's crypto/tls) and what
 * Node.js (OpenSSL) calls the same thing. Only what Node can honour is mapped: a name outside
 * these tables is refused with a reason, never silently dropped.
 */

/** `min_version`/`max_version` values Node can negotiate, as Node names them. */
export const TLS_VERSIONS = { TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' } as const;
export type TlsVersionName = keyof typeof TLS_VERSIONS;

/**
 * Go knows TLS10 and TLS11 too; Node's OpenSSL 3 refuses them at its default security level
 * (the handshake fails), so a configuration that asks for them cannot be honoured.
 */
export const UNSUPPORTED_TLS_VERSIONS = ['TLS10', 'TLS11'] as const;

/**
 * The TLS 1.0–1.2 suites of Go's `tls.CipherSuites()` (the ones exporter-toolkit accepts), by
 * their OpenSSL names. Node offers every one of them unless its OpenSSL was built without it.
 */
export const TLS12_CIPHER_SUITES: Readonly<Record<string, string>> = {
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
};

/**
 * TLS 1.3 suites, which Go accepts in `cipher_suites` and then ignores (TLS 1.3 always offers
 * its own): accepted here too, with the same (lack of) effect.
 */
export const TLS13_CIPHER_SUITES = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'] as const;

/** `curve_preferences` values (Go's names) and OpenSSL's names for `ecdhCurve`. */
export const CURVES: Readonly<Record<string, string>> = {
  CurveP256: 'P-256',
  CurveP384: 'P-384',
  CurveP521: 'P-521',
  X25519: 'X25519',
};

/**
 * `client_auth_type` values. Go's `RequireClientCert` is an old name of `RequireAnyClientCert`
 * that exporter-toolkit still accepts.
 */
export const CLIENT_AUTH_TYPES = [
  'NoClientCert',
  'RequestClientCert',
  'RequireAnyClientCert',
  'VerifyClientCertIfGiven',
  'RequireAndVerifyClientCert',
] as const;
export type ClientAuthType = (typeof CLIENT_AUTH_TYPES)[number];
export const CLIENT_AUTH_ALIASES: Readonly<Record<string, ClientAuthType>> = { RequireClientCert: 'RequireAnyClientCert' };

/** How Node's TLS server handles a client certificate policy, as close to Go's as it can. */
export interface ClientCertHandling {
  /** Ask the client for a certificate. */
  requestCert: boolean;
  /** Fail the handshake when the client's certificate is missing or not signed by the CA. */
  rejectUnauthorized: boolean;
  /** Close a connection that completed its handshake without a certificate (Node cannot refuse it in the handshake). */
  closeWithoutCert: boolean;
  /** Close a connection whose certificate did not verify (Node cannot refuse it in the handshake). */
  closeUnverified: boolean;
}

export function toClientCertHandling(type: ClientAuthType): ClientCertHandling {
  switch (type) {
    case 'NoClientCert':
      return { requestCert: false, rejectUnauthorized: false, closeWithoutCert: false, closeUnverified: false };
    case 'RequestClientCert':
      return { requestCert: true, rejectUnauthorized: false, closeWithoutCert: false, closeUnverified: false };
    case 'RequireAnyClientCert':
      return { requestCert: true, rejectUnauthorized: false, closeWithoutCert: true, closeUnverified: false };
    case 'VerifyClientCertIfGiven':
      return { requestCert: true, rejectUnauthorized: false, closeWithoutCert: false, closeUnverified: true };
    case 'RequireAndVerifyClientCert':
      return { requestCert: true, rejectUnauthorized: true, closeWithoutCert: true, closeUnverified: true };
  }
}
