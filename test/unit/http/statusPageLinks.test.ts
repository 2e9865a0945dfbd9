import { describe, expect, it } from 'vitest';
import { renderStatusPage } from '../../../src/http/statusPage.js';

const hrefs = (page: string) => [...page.matchAll(/href="([^"]*)"/g)].map((match) => match[1]);
const render = (base?: string) =>
  renderStatusPage({ version: '1.2.3', readiness: { ready: true, reason: 'ready' }, lastRound: undefined, snapshot: undefined, ...(base !== undefined && { base }) });

describe('the status page links', () => {
  it('are under the root by default', () => {
    const links = hrefs(render());

    expect(links.length).toBeGreaterThan(0);
    expect(links).toEqual(expect.arrayContaining(['/targets', '/metrics', '/-/ready']));
  });

  it('are all under the base the page is served at (a route prefix, or a proxy path)', () => {
    const links = hrefs(render('/monitoring/ecs/'));

    expect(links.length).toBeGreaterThan(0);
    for (const link of links) expect(link, 'every link').toMatch(/^\/monitoring\/ecs\/[^/]/);
    expect(links).toEqual(expect.arrayContaining(['/monitoring/ecs/targets', '/monitoring/ecs/metrics', '/monitoring/ecs/-/ready']));
  });

  it('escapes the base', () => {
    expect(render('/a"b/')).toContain('href="/a&quot;b/targets"');
  });
});
