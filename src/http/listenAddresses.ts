import { isIP, type AddressInfo } from 'node:net';

/** Where one listener listens. No host: every address of the machine, IPv6 and IPv4 (Node's listen(port)). */
export interface ListenAddress {
  host: string | undefined;
  port: number;
}

const HOST_NAME = /^(?=.{1,253}$)[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

/**
 * Reads a listen address as exporters write it (`--web.listen-address`): `host:port`,
 * `[2001:db8::1]:port` for IPv6, or `:port` for every address. A reason when it is not one.
 */
export function parseListenAddress(text: string): ListenAddress | { error: string } {
  const match = /^(?:\[([^\]]*)\]|([^[\]:]*)):(\d{1,5})$/.exec(text);
  if (match === null) {
    const hint = isIP(text) === 6 || (text.split(':').length > 2 && !text.startsWith('[')) ? ' (an IPv6 address goes in brackets: [::1]:8080)' : '';
    return { error: `"${text}" is not host:port${hint}` };
  }
  const [, bracketed, plain, portText] = match;
  const port = Number(portText);
  if (port < 1 || port > 65535) return { error: `"${text}": the port is not in 1..65535` };
  if (bracketed !== undefined) {
    if (isIP(bracketed) !== 6) return { error: `"${text}": only an IPv6 address goes in brackets` };
    return { host: bracketed, port };
  }
  if (plain === undefined || plain === '') return { host: undefined, port };
  if (isIP(plain) === 0 && !HOST_NAME.test(plain)) return { error: `"${text}": "${plain}" is not an IP address or a host name` };
  return { host: plain, port };
}

/** An address as logs and errors show it: `127.0.0.1:8080`, `[::1]:8080`. */
export const formatAddress = ({ address, family, port }: Pick<AddressInfo, 'address' | 'family' | 'port'>): string =>
  family === 'IPv6' ? `[${address}]:${port}` : `${address}:${port}`;

/** A listen address as given: `host:port`, `[v6]:port`, `:port`. */
export const describeListenAddress = ({ host, port }: ListenAddress): string =>
  host === undefined ? `:${port}` : isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;

/**
 * Whether two listeners would take the same port: the second would fail with EADDRINUSE, as if
 * another process held it. Every address (no host, or "::", which Node opens for IPv4 too) takes
 * the port from any other; "0.0.0.0" from any IPv4 address. A host name may resolve to either:
 * only every address is known to clash with it.
 */
export function listenersClash(a: ListenAddress, b: ListenAddress): boolean {
  if (a.port !== b.port) return false;
  const everyAddress = (address: ListenAddress) => address.host === undefined || address.host === '::';
  const everyIpv4 = (address: ListenAddress) => address.host === '0.0.0.0';
  const ipv4 = (address: ListenAddress) => address.host !== undefined && isIP(address.host) === 4;
  return everyAddress(a) || everyAddress(b) || (everyIpv4(a) && ipv4(b)) || (everyIpv4(b) && ipv4(a)) || a.host === b.host;
}
