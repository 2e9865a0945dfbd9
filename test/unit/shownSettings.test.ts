import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

  it('shows roles by ARN and session name, never their external id, and each named selection', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'shown-'));
    const configFile = join(directory, 'settings.json');
    await writeFile(
      configFile,
      JSON.stringify({
        aws: { roles: [{ arn: 'arn:aws:iam::111111111111:role/discoverer', externalId: 'shared-7f3a', sessionName: 'sd-hub' }, { arn: 'arn:aws:iam::222222222222:role/discoverer' }] },
        selections: { payments: 'team="payments"', batch: 'job=~"batch-.*"' },
      }),
    );
    const config = loadConfig({ env: {}, configFile });
    await rm(directory, { recursive: true });

    const shown = new Map(toShownSettings(config));

    expect(shown.get('aws.roles')).toBe('arn:aws:iam::111111111111:role/discoverer as sd-hub (external id not shown), arn:aws:iam::222222222222:role/discoverer');
    expect(shown.get('selections')).toBe('payments: team="payments"; batch: job=~"batch-.*"');
    expect(JSON.stringify([...shown])).not.toContain('shared-7f3a');
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
