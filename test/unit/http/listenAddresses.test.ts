import { describe, expect, it } from 'vitest';
import { describeListenAddress, formatAddress, parseListenAddress } from '../../../src/http/listenAddresses.js';

describe('parseListenAddress', () => {
  it.each([
    ['127.0.0.1:8080', { host: '127.0.0.1', port: 8080 }],
    ['[::1]:9090', { host: '::1', port: 9090 }],
    ['[2001:db8::7]:443', { host: '2001:db8::7', port: 443 }],
    [':8080', { host: undefined, port: 8080 }],
    ['discoverer.internal:8080', { host: 'discoverer.internal', port: 8080 }],
  ])('reads %s', (text, address) => {
    expect(parseListenAddress(text)).toEqual(address);
  });

  it.each([
    ['::1:8080', '"::1:8080" is not host:port (an IPv6 address goes in brackets: [::1]:8080)'],
    ['127.0.0.1', '"127.0.0.1" is not host:port'],
    ['127.0.0.1:0', '"127.0.0.1:0": the port is not in 1..65535'],
    ['127.0.0.1:70000', '"127.0.0.1:70000": the port is not in 1..65535'],
    ['[127.0.0.1]:80', '"[127.0.0.1]:80": only an IPv6 address goes in brackets'],
    ['bad_host!:80', '"bad_host!:80": "bad_host!" is not an IP address or a host name'],
  ])('refuses %s with a reason', (text, error) => {
    expect(parseListenAddress(text)).toEqual({ error });
  });

  it('shows addresses as they are written', () => {
    expect(formatAddress({ address: '::1', family: 'IPv6', port: 80 })).toBe('[::1]:80');
    expect(formatAddress({ address: '127.0.0.1', family: 'IPv4', port: 80 })).toBe('127.0.0.1:80');
    expect(describeListenAddress({ host: undefined, port: 80 })).toBe(':80');
    expect(describeListenAddress({ host: '::1', port: 80 })).toBe('[::1]:80');
  });
});
