import { describe, expect, it } from 'vitest';
import { parseEndpoints } from '../../../src/discovery/endpoints.js';

describe('parseEndpoints', () => {
  it('gives the default path in the generic group when PROMETHEUS_ENDPOINT is unset', () => {
    // Act
    const parsed = parseEndpoints(undefined, '/metrics');

    // Assess
    expect(parsed).toEqual({ endpoints: [{ interval: 'generic', path: '/metrics' }], warnings: [] });
  });

  it('gives the default path when PROMETHEUS_ENDPOINT is empty', () => {
    // Act
    const parsed = parseEndpoints('', '/metrics');

    // Assess
    expect(parsed).toEqual({ endpoints: [{ interval: 'generic', path: '/metrics' }], warnings: [] });
  });

  it('gives the default path of the setting when PROMETHEUS_ENDPOINT is unset', () => {
    // Act
    const parsed = parseEndpoints(undefined, '/prometheus');

    // Assess
    expect(parsed.endpoints).toEqual([{ interval: 'generic', path: '/prometheus' }]);
  });

  it('puts a path without interval in the generic group', () => {
    // Act
    const parsed = parseEndpoints('/admin/metrics', '/metrics');

    // Assess
    expect(parsed).toEqual({ endpoints: [{ interval: 'generic', path: '/admin/metrics' }], warnings: [] });
  });

  it('puts each path of a known interval in the group of that interval', () => {
    // Act
    const parsed = parseEndpoints('15s:/a,30s:/b,1m:/c,5m:/d', '/metrics');

    // Assess
    expect(parsed).toEqual({
      endpoints: [
        { interval: '15s', path: '/a' },
        { interval: '30s', path: '/b' },
        { interval: '1m', path: '/c' },
        { interval: '5m', path: '/d' },
      ],
      warnings: [],
    });
  });

  it('puts a path of an unknown interval in the generic group with a warning', () => {
    // Act
    const parsed = parseEndpoints('2m:/metrics', '/metrics');

    // Assess
    expect(parsed.endpoints).toEqual([{ interval: 'generic', path: '/metrics' }]);
    expect(parsed.warnings).toEqual([expect.stringContaining('2m')]);
  });

  it('puts "/" in front of a path that lacks it, with a warning', () => {
    // Act
    const parsed = parseEndpoints('metrics', '/default');

    // Assess
    expect(parsed.endpoints).toEqual([{ interval: 'generic', path: '/metrics' }]);
    expect(parsed.warnings).toEqual([expect.stringContaining('metrics')]);
  });

  it('puts "/" in front of a path that lacks it when the entry has an interval', () => {
    // Act
    const parsed = parseEndpoints('15s:stats', '/metrics');

    // Assess
    expect(parsed.endpoints).toEqual([{ interval: '15s', path: '/stats' }]);
    expect(parsed.warnings).toHaveLength(1);
  });

  it('ignores whitespace around entries and around their parts', () => {
    // Act
    const parsed = parseEndpoints('  15s : /a  ,\t/b ,  5m:/c', '/metrics');

    // Assess
    expect(parsed).toEqual({
      endpoints: [
        { interval: '15s', path: '/a' },
        { interval: 'generic', path: '/b' },
        { interval: '5m', path: '/c' },
      ],
      warnings: [],
    });
  });

  it('skips empty entries', () => {
    // Act
    const parsed = parseEndpoints(',/a,, ,30s:/b,', '/metrics');

    // Assess
    expect(parsed.endpoints).toEqual([
      { interval: 'generic', path: '/a' },
      { interval: '30s', path: '/b' },
    ]);
  });

  it('skips an entry whose path is empty', () => {
    // Act
    const parsed = parseEndpoints('15s:,1m: ,/b', '/metrics');

    // Assess
    expect(parsed.endpoints).toEqual([{ interval: 'generic', path: '/b' }]);
  });

  it('gives the default path when every entry is empty', () => {
    // Act
    const parsed = parseEndpoints(' , ,', '/metrics');

    // Assess
    expect(parsed.endpoints).toEqual([{ interval: 'generic', path: '/metrics' }]);
  });

  it('keeps the last entry when the same path appears twice with intervals', () => {
    // Act
    const parsed = parseEndpoints('15s:/metrics,1m:/metrics', '/metrics');

    // Assess
    expect(parsed.endpoints).toEqual([{ interval: '1m', path: '/metrics' }]);
  });

  it('keeps the last entry when a path first appears with an interval and then without', () => {
    // Act
    const parsed = parseEndpoints('15s:/metrics, /metrics', '/default');

    // Assess
    expect(parsed.endpoints).toEqual([{ interval: 'generic', path: '/metrics' }]);
  });

  it('keeps the last entry when a path first appears without an interval and then with one', () => {
    // Act
    const parsed = parseEndpoints('/metrics,5m:/metrics', '/default');

    // Assess
    expect(parsed.endpoints).toEqual([{ interval: '5m', path: '/metrics' }]);
  });

  it('treats a path that gets its "/" added as the same path as one written with it', () => {
    // Act
    const parsed = parseEndpoints('30s:/metrics,metrics', '/default');

    // Assess
    expect(parsed.endpoints).toEqual([{ interval: 'generic', path: '/metrics' }]);
  });

  it('keeps other paths when one path is repeated', () => {
    // Act
    const parsed = parseEndpoints('15s:/a,/b,30s:/a', '/metrics');

    // Assess
    expect(parsed.endpoints).toHaveLength(2);
    expect(parsed.endpoints).toEqual(
      expect.arrayContaining([
        { interval: 'generic', path: '/b' },
        { interval: '30s', path: '/a' },
      ]),
    );
  });
});
