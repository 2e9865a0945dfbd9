/**
 * Where a request goes: its target (the request line's URL) read strictly, under the route
 * prefix, as Prometheus serves its own endpoints behind a reverse proxy (--web.route-prefix,
 * --web.external-url). Pure: no I/O.
 */

/** The endpoints, as paths under the route prefix. */
export const ENDPOINTS = ['/targets', '/metrics', '/-/healthy', '/-/ready', '/'] as const;
export type Endpoint = (typeof ENDPOINTS)[number];

/** The targets API (targetsApi.ts): `<prefix>/api/v1/static/<name>`. */
const TARGETS_API = '/api/v1/static/';
/** A named selection: `<prefix>/targets/<name>`. */
const SELECTION = /^\/targets\/([^/]+)$/;

export type Routed =
  /** `selection`: the name of `/targets/<name>`, decoded. */
  | { kind: 'endpoint'; endpoint: Endpoint; query: URLSearchParams; selection?: string }
  /** The targets API, with the name after its path, decoded. */
  | { kind: 'targets-api'; name: string }
  /** The prefix without its trailing slash: the status page is at the prefix with one, where its relative links work. */
  | { kind: 'redirect'; location: string }
  | { kind: 'not-found'; path: string }
  | { kind: 'bad-request'; reason: string };

/** Where a request of any path starts, to read an origin-form target without taking `//x` for a host. */
const ORIGIN = 'http://discoverer.invalid';

/**
 * Reads the path and query of a request target. Origin-form (`/path?query`) is read as a path
 * of our own origin: `//targets` stays the path `//targets` (a URL parser given it alone would
 * read a host "targets"). Dot segments are resolved as URLs resolve them. Absolute-form
 * (`http://host/path`, what proxies may send) must parse as a URL. Anything else is a bad request.
 */
function readTarget(target: string): URL | undefined {
  try {
    if (target.startsWith('/')) return new URL(`${ORIGIN}${target}`);
    if (/^https?:\/\//i.test(target)) return new URL(target);
  } catch {
    return undefined;
  }
  return undefined;
}

/**
 * Routes a request target under `prefix` ("/" or "/a/b", no trailing slash). `linkBase` is where
 * the status page is (the prefix, or the external URL's path, with a trailing slash).
 */
export function routeRequest(target: string, prefix: string, linkBase: string): Routed {
  const url = readTarget(target);
  if (url === undefined) return { kind: 'bad-request', reason: 'the request target is not a path or an http(s) URL' };
  const path = url.pathname;
  let local: string;
  if (prefix === '/') local = path;
  else if (path === prefix) return { kind: 'redirect', location: linkBase };
  else if (path.startsWith(`${prefix}/`)) local = path.slice(prefix.length);
  else return { kind: 'not-found', path };
  if (local.startsWith(TARGETS_API)) {
    const name = decode(local.slice(TARGETS_API.length));
    return name === undefined ? MALFORMED_ESCAPE : { kind: 'targets-api', name };
  }
  const selection = SELECTION.exec(local);
  if (selection !== null) {
    const name = decode(selection[1] as string);
    return name === undefined ? MALFORMED_ESCAPE : { kind: 'endpoint', endpoint: '/targets', query: url.searchParams, selection: name };
  }
  const endpoint = ENDPOINTS.find((candidate) => candidate === local);
  return endpoint === undefined ? { kind: 'not-found', path } : { kind: 'endpoint', endpoint, query: url.searchParams };
}

const MALFORMED_ESCAPE: Routed = { kind: 'bad-request', reason: 'malformed %-escape in the path' };

/** A path segment decoded; undefined when its %-escapes are malformed. */
function decode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** A route prefix as Prometheus makes it: "/" + the path without slashes at either end. */
export const toRoutePrefix = (path: string): string => `/${path.replace(/^\/+|\/+$/g, '')}`;

export interface WebPaths {
  /** Every endpoint is under it: "/" or "/a/b". */
  prefix: string;
  /** The status page's URL path, ending in "/": the base of its links (the external URL's path when given, as Prometheus links). */
  linkBase: string;
}

/**
 * The route prefix (`routePrefix`, by default the external URL's path) and the base of links
 * (the external URL's path, by default the prefix): as Prometheus does, so that a proxy may
 * strip a path (external URL https://proxy/ecs/, no prefix) or pass it on (both /ecs).
 */
export function toWebPaths(routePrefix: string, externalUrl: string): WebPaths {
  const externalPath = externalUrl === '' ? undefined : new URL(externalUrl).pathname;
  const prefix = toRoutePrefix(routePrefix !== '' ? routePrefix : (externalPath ?? '/'));
  const base = externalPath === undefined ? prefix : toRoutePrefix(externalPath);
  return { prefix, linkBase: base === '/' ? '/' : `${base}/` };
}

/** Whether a text is a usable route prefix: a path of plain segments (no "//", ".", "..", "?" or "#"). */
export function isRoutePrefix(text: string): boolean {
  if (text === '') return true;
  if (!text.startsWith('/') || /[\s?#%\\]/.test(text)) return false;
  const segments = text.replace(/^\/+|\/+$/g, '').split('/');
  return text.replace(/\/+$/, '') === '' || segments.every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}

/** Whether a text is a usable external URL: http or https, absolute, without query or fragment. */
export function isExternalUrl(text: string): boolean {
  if (text === '') return true;
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.search === '' && url.hash === '' && isRoutePrefix(url.pathname);
  } catch {
    return false;
  }
}
