import { compare } from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import { BasicAuth, type VerifyPassword } from '../../../src/http/basicAuth.js';

/** bcryptjs' hash of "correct horse", cost 4. */
const ALICE_HASH = '$2y$04$9rgXdjNECdizwsB8LSdbreqwFWg/lil0hfaBYfBj8mUJCEx2VAkrS';
const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString('base64')}`;

/** bcryptjs' compare, recording what it was asked. */
function recordingVerify(): { verify: VerifyPassword; calls: { password: string; hash: string }[] } {
  const calls: { password: string; hash: string }[] = [];
  return {
    calls,
    verify: async (password, hash) => {
      calls.push({ password, hash });
      return compare(password, hash);
    },
  };
}

describe('BasicAuth', () => {
  it('lets in a user with the password of its bcrypt hash', async () => {
    const auth = new BasicAuth(new Map([['alice', ALICE_HASH]]), compare);

    expect(await auth.check(basic('alice:correct horse'))).toEqual({ ok: true, user: 'alice' });
    expect(await auth.check('bAsIc   ' + Buffer.from('alice:correct horse').toString('base64'))).toEqual({ ok: true, user: 'alice' });
  });

  it('refuses a wrong password, naming the user, and a missing or malformed header', async () => {
    const auth = new BasicAuth(new Map([['alice', ALICE_HASH]]), compare);

    expect(await auth.check(basic('alice:battery staple'))).toEqual({ ok: false, reason: 'wrong password', user: 'alice' });
    expect(await auth.check(undefined)).toEqual({ ok: false, reason: 'no credentials' });
    expect(await auth.check('Bearer abc')).toEqual({ ok: false, reason: 'malformed credentials' });
    expect(await auth.check(basic('no colon'))).toEqual({ ok: false, reason: 'malformed credentials' });
  });

  it('costs an unknown user one bcrypt comparison like a known one, and never names it', async () => {
    const { verify, calls } = recordingVerify();
    const auth = new BasicAuth(new Map([['alice', ALICE_HASH]]), verify);

    const outcome = await auth.check(basic('mallory:correct horse'));

    expect(outcome).toEqual({ ok: false, reason: 'unknown user' });
    expect(calls).toEqual([{ password: 'correct horse', hash: ALICE_HASH }]);
  });

  it('compares each distinct credentials once, sharing the comparison between concurrent requests', async () => {
    const { verify, calls } = recordingVerify();
    const auth = new BasicAuth(new Map([['alice', ALICE_HASH]]), verify);

    const outcomes = await Promise.all(Array.from({ length: 20 }, () => auth.check(basic('alice:correct horse'))));
    await auth.check(basic('alice:correct horse'));
    await auth.check(basic('alice:wrong'));
    await auth.check(basic('alice:wrong'));

    expect(outcomes.every((outcome) => outcome.ok)).toBe(true);
    expect(calls.map((call) => call.password)).toEqual(['correct horse', 'wrong']);
  });

  it('compares again after a comparison failed', async () => {
    let failures = 1;
    const auth = new BasicAuth(new Map([['alice', ALICE_HASH]]), async (password, hash) => {
      if (failures-- > 0) throw new Error('boom');
      return compare(password, hash);
    });

    await expect(auth.check(basic('alice:correct horse'))).rejects.toThrow('boom');
    expect(await auth.check(basic('alice:correct horse'))).toEqual({ ok: true, user: 'alice' });
  });
});
