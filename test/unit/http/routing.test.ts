import { describe, expect, it } from 'vitest';
import { isExternalUrl, isRoutePrefix, routeRequest, toWebPaths } from '../../../src/http/routing.js';

const endpoint = (target: string, prefix = '/', base = '/') => {
  const routed = routeRequest(target, prefix, base);
  return routed.kind === 'endpoint' ? `${routed.endpoint}?${routed.query.toString()}` : routed.kind;
};

describe('routeRequest', () => {
  it('routes the endpoints with their query', () => {
    expect(endpoint('/targets?cluster=prod&interval=15s')).toBe('/targets?cluster=prod&interval=15s');
    expect(endpoint('/metrics')).toBe('/metrics?');
    expect(endpoint('/-/healthy')).toBe('/-/healthy?');
    expect(endpoint('/')).toBe('/?');
  });

  it('does not read //targets as a URL with the host "targets": it is a path that does not exist', () => {
    expect(routeRequest('//targets', '/', '/')).toEqual({ kind: 'not-found', path: '//targets' });
    expect(routeRequest('//evil.example/', '/', '/')).toEqual({ kind: 'not-found', path: '//evil.example/' });
    expect(endpoint('/targets/')).toBe('not-found');
  });

  it('resolves dot segments before routing', () => {
    expect(endpoint('/a/../targets')).toBe('/targets?');
    expect(endpoint('/ecs/./targets', '/ecs')).toBe('/targets?');
  });

  it('reads absolute-form targets, and answers 400 for one that does not parse or is not a path', () => {
    expect(endpoint('http://discoverer:8080/targets?interval=1m')).toBe('/targets?interval=1m');
    expect(routeRequest('http://[bad/targets', '/', '/')).toEqual({ kind: 'bad-request', reason: 'the request target is not a path or an http(s) URL' });
    expect(routeRequest('*', '/', '/').kind).toBe('bad-request');
    expect(routeRequest('targets', '/', '/').kind).toBe('bad-request');
  });

  it('serves every endpoint under the prefix only, and sends the prefix without its slash to the page', () => {
    expect(endpoint('/ecs/targets', '/ecs', '/ecs/')).toBe('/targets?');
    expect(endpoint('/ecs/', '/ecs', '/ecs/')).toBe('/?');
    expect(routeRequest('/ecs', '/ecs', '/proxy/ecs/')).toEqual({ kind: 'redirect', location: '/proxy/ecs/' });
    expect(endpoint('/targets', '/ecs', '/ecs/')).toBe('not-found');
    expect(endpoint('/ecsx/targets', '/ecs', '/ecs/')).toBe('not-found');
    expect(endpoint('/', '/ecs', '/ecs/')).toBe('not-found');
  });
});

describe('toWebPaths', () => {
  it('takes the prefix from the external URL by default, and links under the external URL, as Prometheus does', () => {
    expect(toWebPaths('', '')).toEqual({ prefix: '/', linkBase: '/' });
    expect(toWebPaths('/ecs/', '')).toEqual({ prefix: '/ecs', linkBase: '/ecs/' });
    expect(toWebPaths('', 'https://proxy.example/monitoring/ecs/')).toEqual({ prefix: '/monitoring/ecs', linkBase: '/monitoring/ecs/' });
    // A proxy that strips the path: the discoverer serves at /, its links go through the proxy's path.
    expect(toWebPaths('/', 'https://proxy.example/ecs')).toEqual({ prefix: '/', linkBase: '/ecs/' });
  });
});

describe('setting formats', () => {
  it.each([['', true], ['/', true], ['/ecs', true], ['/a/b/', true], ['ecs', false], ['/a//b', false], ['/a/../b', false], ['/a?b', false], ['/a b', false]])(
    'isRoutePrefix(%j) is %s',
    (text, valid) => expect(isRoutePrefix(text)).toBe(valid),
  );

  it.each([['', true], ['https://proxy.example/ecs/', true], ['http://10.0.0.1:8080', true], ['ftp://x/', false], ['/ecs', false], ['https://x/?a=1', false], ['"https://x/"', false]])(
    'isExternalUrl(%j) is %s',
    (text, valid) => expect(isExternalUrl(text)).toBe(valid),
  );
});
