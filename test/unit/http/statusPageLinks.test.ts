import { describe, expect, it } from 'vitest';
import { renderStatusPage } from '../../../src/http/statusPage.js';

const hrefs = (page: string) => [...page.matchAll(/<a [^>]*href="([^"]*)"/g)].map((match) => (match[1] as string).replace(/&amp;/g, '&'));
const baseOf = (page: string) => /<base href="([^"]*)">/.exec(page)?.[1];
const render = (base?: string) =>
  renderStatusPage({
    version: '1.2.3',
    readiness: { ready: true, reason: 'ready' },
    lastRound: undefined,
    snapshot: undefined,
    startedAt: 0,
    settings: [],
    progress: undefined,
    refreshSeconds: 15,
    shards: { count: 2, targets: [1, 1] },
    ...(base !== undefined && { base }),
  });

describe('the status page links', () => {
  it('are relative, with no base element at the root', () => {
    const page = render();

    expect(baseOf(page)).toBeUndefined();
    expect(hrefs(page).length).toBeGreaterThan(3);
    for (const href of hrefs(page)) expect(href, 'a relative link').not.toMatch(/^(\/|[a-z]+:)/i);
  });

  it('all resolve under the base the page is served at (a route prefix, or a proxy path), wherever the page is reached', () => {
    const page = render('/monitoring/ecs/');
    // The page reached without its trailing slash, as a proxy may pass it on.
    const resolved = hrefs(page).map((href) => new URL(href, new URL(baseOf(page) ?? '', 'https://proxy.example/monitoring/ecs')));

    expect(baseOf(page)).toBe('/monitoring/ecs/');
    for (const url of resolved) expect(url.pathname, 'every link').toMatch(/^\/monitoring\/ecs\//);
    expect(resolved.map((url) => url.pathname)).toEqual(expect.arrayContaining(['/monitoring/ecs/targets', '/monitoring/ecs/metrics', '/monitoring/ecs/-/ready', '/monitoring/ecs/-/healthy']));
  });

  it('escapes the base', () => {
    expect(render('/a"b/')).toContain('<base href="/a&quot;b/">');
  });
});
