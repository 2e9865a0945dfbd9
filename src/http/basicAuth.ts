import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { LRUCache } from 'lru-cache';

/** Whether a password matches a bcrypt hash (bcryptjs' compare). */
export type VerifyPassword = (password: string, hash: string) => Promise<boolean>;

export type AuthOutcome =
  | { ok: true; user: string }
  /** `user` only for a user that exists: a name nobody has may be a password typed in the wrong field. */
  | { ok: false; reason: 'no credentials' | 'malformed credentials' | 'unknown user' | 'wrong password'; user?: string };

interface User {
  name: string;
  /** SHA-256 of the name: equal lengths, so that names compare in constant time. */
  digest: Buffer;
  hash: string;
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/** Results kept per configuration: a client sends the same credentials every few seconds, and bcrypt costs tens of ms each time. */
const CACHED_RESULTS = 256;

/**
 * HTTP basic authentication against bcrypt hashes, as exporter-toolkit does it: user names
 * compared in constant time, an unknown name costs one bcrypt comparison like a known one (no
 * user enumeration by timing), and results are cached. The cache is keyed by an HMAC with a key
 * that lives only in this process: no password, nor a plain hash of one, is ever kept.
 */
export class BasicAuth {
  readonly #users: User[];
  readonly #verify: VerifyPassword;
  readonly #cacheKey = randomBytes(32);
  readonly #results = new LRUCache<string, Promise<boolean>>({ max: CACHED_RESULTS });

  constructor(users: ReadonlyMap<string, string>, verify: VerifyPassword) {
    this.#users = [...users].map(([name, hash]) => ({ name, digest: sha256(name), hash }));
    this.#verify = verify;
  }

  /** Checks an `Authorization` header. */
  async check(authorization: string | undefined): Promise<AuthOutcome> {
    if (authorization === undefined || authorization === '') return { ok: false, reason: 'no credentials' };
    const credentials = parseBasic(authorization);
    if (credentials === undefined) return { ok: false, reason: 'malformed credentials' };
    const { user: name, password } = credentials;

    const digest = sha256(name);
    let user: User | undefined;
    // Every name is compared, none skipped after a match: the time does not tell which one matched.
    for (const candidate of this.#users) if (timingSafeEqual(candidate.digest, digest)) user = candidate;
    // An unknown name is checked against a real hash all the same, and refused whatever the answer.
    const hash = user?.hash ?? this.#users[0]?.hash;
    if (hash === undefined) return { ok: false, reason: 'unknown user' };

    const matches = await this.#compare(name, password, hash);
    if (user === undefined) return { ok: false, reason: 'unknown user' };
    return matches ? { ok: true, user: user.name } : { ok: false, reason: 'wrong password', user: user.name };
  }

  /** bcrypt, once per distinct credentials; concurrent requests with the same ones share the comparison. */
  #compare(name: string, password: string, hash: string): Promise<boolean> {
    const key = createHmac('sha256', this.#cacheKey).update(name).update('\u0000').update(password).update('\u0000').update(hash).digest('base64');
    let result = this.#results.get(key);
    if (result === undefined) {
      result = this.#verify(password, hash).catch((error: unknown) => {
        this.#results.delete(key);
        throw error;
      });
      this.#results.set(key, result);
    }
    return result;
  }
}

/** `Basic base64(user:password)`, the scheme in any case (RFC 7617); undefined when it is not that. */
function parseBasic(header: string): { user: string; password: string } | undefined {
  const match = /^basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(header);
  if (match === null) return undefined;
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
