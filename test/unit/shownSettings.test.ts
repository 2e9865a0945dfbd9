import { describe, expect, it } from 'vitest';
import { SETTINGS, loadConfig, type Config, type SettingInfo } from '../../src/config.js';
import { toShownSettings } from '../../src/shownSettings.js';

const setting = (key: string): SettingInfo => ({ key, doc: '', default: '', env: '' });

describe('the settings shown on the status page', () => {
  it('shows every setting in force, with its value', () => {
    const config = loadConfig({ env: { ECS_DISCOVERER_INTERVAL: '20' }, flags: { 'clusters.names': 'prod,batch' } });

    const shown = new Map(toShownSettings(config));

    expect([...shown.keys()]).toEqual(SETTINGS.map((candidate) => candidate.key));
    expect(shown.get('interval')).toBe('20');
    expect(shown.get('clusters.names')).toBe('prod, batch');
    expect(shown.get('aws.regions')).toBe('(none)');
    expect(shown.get('marker.value')).toBe('(empty)');
  });

  it('leaves out every setting whose name may carry a secret, and hides a URL with a user in it', () => {
    const config = {
      http: { auth: { password: 'hunter2' }, tls: { keyFile: '/etc/key.pem' }, basicAuthUsers: 'admin:$2b$...' },
      aws: { sessionToken: 'abc', secretAccessKey: 'def' },
      outputDir: 'https://admin:hunter2@example.com/targets',
      interval: 15,
    } as unknown as Config;
    const settings = ['http.auth.password', 'http.tls.keyFile', 'http.basicAuthUsers', 'aws.sessionToken', 'aws.secretAccessKey', 'outputDir', 'interval'].map(setting);

    const shown = toShownSettings(config, settings);

    expect(shown).toEqual([
      ['outputDir', '(hidden: holds a URL with a user name)'],
      ['interval', '15'],
    ]);
    expect(JSON.stringify(shown)).not.toMatch(/hunter2|key\.pem|\$2b|abc|def/);
  });
});
