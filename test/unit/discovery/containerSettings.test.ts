import { describe, expect, it } from 'vitest';
import { readContainerSettings, type SettingsOptions } from '../../../src/discovery/containerSettings.js';
import type { ContainerDefinitionRecord } from '../../../src/discovery/model.js';

const options: SettingsOptions = { markerName: 'PROMETHEUS', markerSource: 'environment', labelPrefix: 'PROMETHEUS_LABEL_', defaultMetricsPath: '/metrics' };
const container = (environment: Record<string, string>, dockerLabels: Record<string, string> = {}): ContainerDefinitionRecord => ({
  name: 'app',
  environment,
  dockerLabels,
  portMappings: [],
});

describe('readContainerSettings', () => {
  it('reads the environment by default', () => {
    const settings = readContainerSettings(
      container({ PROMETHEUS: 'true', PROMETHEUS_PORT: '9100', PROMETHEUS_ENDPOINT: '1m:/m', PROMETHEUS_LABEL_team: 'a', PROMETHEUS_SCHEME: 'HTTPS' }),
      'awsvpc',
      options,
    );

    expect(settings).toEqual({
      port: '9100',
      containerPort: undefined,
      endpoints: [{ interval: '1m', path: '/m' }],
      customLabels: { team: 'a' },
      noLabels: false,
      scheme: 'https',
      warnings: [],
    });
  });

  it('reads the same names from docker labels with the dockerLabels source, and ignores the environment', () => {
    const both = container({ PROMETHEUS: 'true' }, { PROMETHEUS: 'true', PROMETHEUS_PORT: '9200' });

    expect(readContainerSettings(both, 'awsvpc', { ...options, markerSource: 'dockerLabels' })?.port).toBe('9200');
    expect(readContainerSettings(container({ PROMETHEUS: 'true' }), 'awsvpc', { ...options, markerSource: 'dockerLabels' })).toBeUndefined();
  });

  it('warns of a scheme that is neither http nor https, and leaves it out', () => {
    const settings = readContainerSettings(container({ PROMETHEUS: '1', PROMETHEUS_SCHEME: 'ftp' }), 'awsvpc', options);

    expect(settings?.scheme).toBeUndefined();
    expect(settings?.warnings).toEqual(['PROMETHEUS_SCHEME "ftp" is not http or https; ignored']);
  });

  describe('teralytics compatibility', () => {
    const teralytics: SettingsOptions = { ...options, markerSource: 'teralytics' };
    const labels = {
      PROMETHEUS_EXPORTER_PORT: '9113',
      PROMETHEUS_EXPORTER_PATH: '/prometheus',
      PROMETHEUS_EXPORTER_SCHEME: 'https',
      PROMETHEUS_EXPORTER_JOB_NAME: 'nginx',
    };

    it('in bridge mode scrapes the host port bound to the exporter container port', () => {
      expect(readContainerSettings(container({}, labels), 'bridge', teralytics)).toEqual({
        containerPort: '9113',
        endpoints: [{ interval: 'generic', path: '/prometheus' }],
        customLabels: {},
        noLabels: false,
        scheme: 'https',
        job: 'nginx',
        warnings: [],
      });
    });

    it('in awsvpc and host mode scrapes the exporter port itself', () => {
      expect(readContainerSettings(container({}, labels), 'awsvpc', teralytics)).toMatchObject({ port: '9113' });
      expect(readContainerSettings(container({}, labels), 'host', teralytics)).toMatchObject({ port: '9113' });
    });

    it('uses the default path and the family as job when the optional labels are missing', () => {
      const settings = readContainerSettings(container({}, { PROMETHEUS_EXPORTER_PORT: '8080' }), 'awsvpc', teralytics);

      expect(settings).toMatchObject({ endpoints: [{ interval: 'generic', path: '/metrics' }], job: undefined, scheme: undefined });
    });

    it('marks only containers with PROMETHEUS_EXPORTER_PORT, whatever the environment says', () => {
      expect(readContainerSettings(container({ PROMETHEUS: 'true' }, { PROMETHEUS_EXPORTER_PATH: '/m' }), 'awsvpc', teralytics)).toBeUndefined();
    });

    it('puts a "/" in front of a path without one, with a warning', () => {
      const settings = readContainerSettings(container({}, { PROMETHEUS_EXPORTER_PORT: '1', PROMETHEUS_EXPORTER_PATH: 'metrics' }), 'awsvpc', teralytics);

      expect(settings?.endpoints).toEqual([{ interval: 'generic', path: '/metrics' }]);
      expect(settings?.warnings).toEqual(['PROMETHEUS_EXPORTER_PATH "metrics" does not start with "/"; using "/metrics"']);
    });
  });
});
