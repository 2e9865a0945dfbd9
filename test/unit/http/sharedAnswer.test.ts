import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { SharedAnswer, acceptsGzip, matchesIfNoneMatch } from '../../../src/http/sharedAnswer.js';

describe('SharedAnswer', () => {
  it('holds one buffer and compresses it once, however many ask', async () => {
    const answer = new SharedAnswer(JSON.stringify(Array.from({ length: 500 }, (_, index) => ({ targets: [`127.0.0.${index % 250}:80`] }))), 'application/json');

    const [first, ...others] = await Promise.all(Array.from({ length: 10 }, () => answer.gzipped()));

    expect(others.every((other) => other === first)).toBe(true);
    expect(await answer.gzipped()).toBe(first);
    expect(gunzipSync(first as Buffer).equals(answer.body)).toBe(true);
    expect(answer.compressible).toBe(true);
  });

  it('has an ETag made from its body: equal bodies, equal tags; another body, another tag', () => {
    const a = new SharedAnswer('[{"targets":["127.0.0.1:80"]}]', 'application/json');
    const same = new SharedAnswer(Buffer.from('[{"targets":["127.0.0.1:80"]}]'), 'application/json');
    const other = new SharedAnswer('[]', 'application/json');

    expect(a.etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    expect(same.etag).toBe(a.etag);
    expect(other.etag).not.toBe(a.etag);
    expect(a.gzipEtag).toBe(a.etag.replace(/"$/, '-gzip"'));
    expect(other.compressible).toBe(false);
  });
});

describe('acceptsGzip', () => {
  it.each([
    [undefined, false],
    ['gzip', true],
    ['deflate, gzip;q=1.0, *;q=0.5', true],
    ['gzip;q=0', false],
    ['br, x-gzip', true],
    ['identity', false],
    ['*', true],
    ['*;q=0', false],
    ['GZIP', true],
  ])('%j: %s', (header, accepted) => expect(acceptsGzip(header)).toBe(accepted));
});

describe('matchesIfNoneMatch', () => {
  const answer = new SharedAnswer('[]', 'application/json');

  it('matches its tags, weak or strong, in a list, and *', () => {
    expect(matchesIfNoneMatch(answer.etag, answer)).toBe(true);
    expect(matchesIfNoneMatch(`"other", W/${answer.gzipEtag}`, answer)).toBe(true);
    expect(matchesIfNoneMatch('*', answer)).toBe(true);
    expect(matchesIfNoneMatch('"other"', answer)).toBe(false);
    expect(matchesIfNoneMatch(undefined, answer)).toBe(false);
  });
});
