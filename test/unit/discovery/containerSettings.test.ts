import { describe, expect, it } from 'vitest';
import { parseScrapes, readContainerSettings, type SettingsOptions } from '../../../src/discovery/containerSettings.js';
import type { ContainerDefinitionRecord } from '../../../src/discovery/model.js';

const options: SettingsOptions = { markerName: 'PROMETHEUS', markerSource: 'environment', labelPrefix: 'PROMETHEUS_LABEL_', defaultMetricsPath: '/metrics' };
const container = (environment: Record<string, string>, dockerLabels: Record<string, string> = {}): ContainerDefinitionRecord => ({
  name: 'app',
  environment,
  dockerLabels,
  portMappings: [],
});
const scrape = (port: number, path: string, interval = 'generic', setting = 'PROMETHEUS_SCRAPES') => ({
  port: { kind: 'container', port, setting },
  endpoints: [{ interval, path }],
});

describe('readContainerSettings', () => {
  it('reads the environment by default', () => {
    const settings = readContainerSettings(
      container({ PROMETHEUS: 'true', PROMETHEUS_PORT: '9100', PROMETHEUS_ENDPOINT: '1m:/m', PROMETHEUS_LABEL_team: 'a', PROMETHEUS_SCHEME: 'HTTPS' }),
      options,
    );

    expect(settings).toEqual({
      scrapes: [{ port: { kind: 'rules', explicitPort: '9100' }, endpoints: [{ interval: '1m', path: '/m' }] }],
      customLabels: { team: 'a' },
      noLabels: false,
      scheme: 'https',
      labelStyle: 'ours',
      pathGiven: true,
      warnings: [],
      badEntries: [],
    });
  });

  it('reads the same names from docker labels with the dockerLabels source, and ignores the environment', () => {
    const both = container({ PROMETHEUS: 'true' }, { PROMETHEUS: 'true', PROMETHEUS_PORT: '9200' });

    expect(readContainerSettings(both, { ...options, markerSource: 'dockerLabels' })?.scrapes[0]?.port).toEqual({ kind: 'rules', explicitPort: '9200' });
    expect(readContainerSettings(container({ PROMETHEUS: 'true' }), { ...options, markerSource: 'dockerLabels' })).toBeUndefined();
  });

  it('warns of a scheme that is neither http nor https, and leaves it out', () => {
    const settings = readContainerSettings(container({ PROMETHEUS: '1', PROMETHEUS_SCHEME: 'ftp' }), options);

    expect(settings?.scheme).toBeUndefined();
    expect(settings?.warnings).toEqual(['PROMETHEUS_SCHEME "ftp" is not http or https; ignored']);
  });

  it('puts paths without an interval into the default interval group when one is set', () => {
    const settings = readContainerSettings(container({ PROMETHEUS: '1', PROMETHEUS_ENDPOINT: '/a,15s:/b' }), { ...options, defaultInterval: '1m' });

    expect(settings?.scrapes[0]?.endpoints).toEqual([
      { interval: '1m', path: '/a' },
      { interval: '15s', path: '/b' },
    ]);
  });

  it('turns PROMETHEUS_NOLABELS on only with the one value the setting names, when it names one', () => {
    const only = { ...options, noLabelsValue: 'true' };

    expect(readContainerSettings(container({ PROMETHEUS: '1', PROMETHEUS_NOLABELS: 'TRUE' }), only)?.noLabels).toBe(true);
    expect(readContainerSettings(container({ PROMETHEUS: '1', PROMETHEUS_NOLABELS: 'yes' }), only)?.noLabels).toBe(false);
    expect(readContainerSettings(container({ PROMETHEUS: '1', PROMETHEUS_NOLABELS: 'yes' }), options)?.noLabels).toBe(true);
  });

  describe('PROMETHEUS_SCRAPES', () => {
    it('reads [interval:]port[/path] entries, one scrape each, and marks the container by itself', () => {
      const settings = readContainerSettings(container({ PROMETHEUS_SCRAPES: '8080/internal/metrics, 30s:9106 ,9100' }), options);

      expect(settings?.scrapes).toEqual([scrape(8080, '/internal/metrics'), scrape(9106, '/metrics', '30s'), scrape(9100, '/metrics')]);
      expect(settings?.badEntries).toEqual([]);
    });

    it('skips a bad entry alone, and warns of an interval it does not know', () => {
      const parsed = parseScrapes('abc,70000,2m:9100,,9200/', '/metrics');

      expect(parsed.scrapes).toEqual([scrape(9100, '/metrics'), scrape(9200, '/')]);
      expect(parsed.badEntries).toEqual([
        'PROMETHEUS_SCRAPES entry "abc" is not [interval:]port[/path] with a port in 1..65535',
        'PROMETHEUS_SCRAPES entry "70000" is not [interval:]port[/path] with a port in 1..65535',
      ]);
      expect(parsed.warnings).toEqual(['PROMETHEUS_SCRAPES entry "2m:9100": interval "2m" is not one of 15s, 30s, 1m, 5m; using the generic group']);
    });

    it('ignores PROMETHEUS_PORT, PROMETHEUS_CONTAINER_PORT and PROMETHEUS_ENDPOINT, with a warning', () => {
      const settings = readContainerSettings(
        container({ PROMETHEUS: 'true', PROMETHEUS_SCRAPES: '9100', PROMETHEUS_PORT: '1', PROMETHEUS_ENDPOINT: '/x' }),
        options,
      );

      expect(settings?.scrapes).toEqual([scrape(9100, '/metrics')]);
      expect(settings?.warnings).toEqual(['PROMETHEUS_SCRAPES is set: PROMETHEUS_PORT, PROMETHEUS_ENDPOINT ignored']);
    });

    it.each(['dockerLabels', 'teralytics', 'ecs-observer'] as const)('is read from docker labels with the %s source', (markerSource) => {
      const settings = readContainerSettings(container({}, { PROMETHEUS_SCRAPES: '9100,9101' }), { ...options, markerSource });

      expect(settings?.scrapes.map((entry) => entry.port)).toEqual([
        { kind: 'container', port: 9100, setting: 'PROMETHEUS_SCRAPES' },
        { kind: 'container', port: 9101, setting: 'PROMETHEUS_SCRAPES' },
      ]);
    });
  });

  describe('prometheus-ecs-discoverer compatibility', () => {
    const promed: SettingsOptions = {
      ...options,
      markerName: 'PROMETHEUS_TARGET',
      markerValue: 'true',
      customLabelsDockerLabel: 'promed.custom_labels',
      fromDockerLabels: ['com.company.team', 'cost-center'],
    };

    it('adds custom labels from promed.custom_labels and the docker labels it names, over the environment ones', () => {
      const settings = readContainerSettings(
        container(
          { PROMETHEUS_TARGET: 'true', PROMETHEUS_LABEL_Foo: 'from-env', PROMETHEUS_LABEL_keep: 'env' },
          { 'promed.custom_labels': 'foo=bar, High = fi ,bad,9x=1', 'com.company.team': 'payments', 'cost-center': '42', unlisted: 'x' },
        ),
        promed,
      );

      expect(settings?.customLabels).toEqual({ foo: 'bar', High: 'fi', keep: 'env', com_company_team: 'payments', cost_center: '42' });
      expect(settings?.warnings).toEqual([
        'docker label promed.custom_labels: "bad" is not name=value; skipped',
        'docker label promed.custom_labels: "9x" is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*, no "__" prefix); skipped',
      ]);
    });

    it('with its dockerLabels marker mode reads the marker from docker labels and everything else from the environment', () => {
      const source: SettingsOptions = { ...promed, markerSource: 'prometheus-ecs-discoverer' };

      const marked = readContainerSettings(container({ PROMETHEUS_PORT: '9100', PROMETHEUS_TARGET: 'false' }, { PROMETHEUS_TARGET: 'true', PROMETHEUS_PORT: '1' }), source);
      const unmarked = readContainerSettings(container({ PROMETHEUS_TARGET: 'true' }), source);

      expect(marked?.scrapes[0]?.port).toEqual({ kind: 'rules', explicitPort: '9100' });
      expect(unmarked).toBeUndefined();
    });
  });

  describe('teralytics compatibility', () => {
    const teralytics: SettingsOptions = { ...options, markerSource: 'teralytics' };
    const labels = {
      PROMETHEUS_EXPORTER_PORT: '9113',
      PROMETHEUS_EXPORTER_PATH: '/prometheus',
      PROMETHEUS_EXPORTER_SCHEME: 'https',
      PROMETHEUS_EXPORTER_JOB_NAME: 'nginx',
      PROMETHEUS_EXPORTER_SERVER_NAME: 'exporter.example.internal/',
    };

    it('scrapes the exporter container port, with its path, scheme, job and server name, in its label set', () => {
      expect(readContainerSettings(container({}, labels), teralytics)).toEqual({
        scrapes: [scrape(9113, '/prometheus', 'generic', 'PROMETHEUS_EXPORTER_PORT')],
        customLabels: {},
        noLabels: false,
        scheme: 'https',
        job: 'nginx',
        serverName: 'exporter.example.internal',
        labelStyle: 'teralytics',
        pathGiven: true,
        warnings: [],
        badEntries: [],
      });
    });

    it('gives no job and says the path was not given when the optional labels are missing', () => {
      const settings = readContainerSettings(container({}, { PROMETHEUS_EXPORTER_PORT: '8080' }), teralytics);

      expect(settings).toMatchObject({ scrapes: [scrape(8080, '/metrics', 'generic', 'PROMETHEUS_EXPORTER_PORT')], pathGiven: false });
      expect(settings).not.toHaveProperty('job');
      expect(settings).not.toHaveProperty('serverName');
    });

    it('marks only containers with PROMETHEUS_EXPORTER_PORT, whatever the environment says', () => {
      expect(readContainerSettings(container({ PROMETHEUS: 'true' }, { PROMETHEUS_EXPORTER_PATH: '/m' }), teralytics)).toBeUndefined();
    });

    it('skips a port that is not a number with a reason (teralytics skips it silently)', () => {
      expect(readContainerSettings(container({}, { PROMETHEUS_EXPORTER_PORT: '9x9' }), teralytics)).toMatchObject({
        scrapes: [],
        badEntries: ['PROMETHEUS_EXPORTER_PORT "9x9" is not a port in 1..65535'],
      });
    });

    it('puts a "/" in front of a path without one, with a warning', () => {
      const settings = readContainerSettings(container({}, { PROMETHEUS_EXPORTER_PORT: '1', PROMETHEUS_EXPORTER_PATH: 'metrics' }), teralytics);

      expect(settings?.scrapes[0]?.endpoints).toEqual([{ interval: 'generic', path: '/metrics' }]);
      expect(settings?.warnings).toEqual(['PROMETHEUS_EXPORTER_PATH "metrics" does not start with "/"; using "/metrics"']);
    });
  });

  describe('CloudWatch agent and OTel ecs_observer compatibility', () => {
    const observer: SettingsOptions = { ...options, markerSource: 'ecs-observer' };

    it('scrapes ECS_PROMETHEUS_EXPORTER_PORT, a port that must be a port mapping, with its path and job', () => {
      const settings = readContainerSettings(
        container({}, { ECS_PROMETHEUS_EXPORTER_PORT: '9404', ECS_PROMETHEUS_METRICS_PATH: '/stats', ECS_PROMETHEUS_JOB_NAME: 'jmx' }),
        observer,
      );

      expect(settings).toMatchObject({
        scrapes: [{ port: { kind: 'container', port: 9404, setting: 'ECS_PROMETHEUS_EXPORTER_PORT', mapped: true }, endpoints: [{ interval: 'generic', path: '/stats' }] }],
        job: 'jmx',
        labelStyle: 'ecs-observer',
      });
    });

    it('marks only containers with ECS_PROMETHEUS_EXPORTER_PORT', () => {
      expect(readContainerSettings(container({ PROMETHEUS: 'true' }, { PROMETHEUS_EXPORTER_PORT: '1' }), observer)).toBeUndefined();
    });
  });
});
