import type { RoleSetting } from './aws/roles.js';
import { SETTINGS, settingValue, type Config, type SettingInfo } from './config.js';

/**
 * Names of settings that may carry a credential, a password, a key, a certificate or a token.
 * Such a setting is left out of the status page whole, whatever its value: the page may be open
 * to more people than the host is.
 */
const SECRET_NAME = /pass|secret|token|credential|auth|key|cert|tls|user/i;

/** A URL with a user name or password in it (`https://user:pass@host`). */
const URL_WITH_USER = /[a-z][a-z0-9+.-]*:\/\/[^/\s@]*@/i;

function toText(value: unknown): string {
  if (Array.isArray(value)) return value.length === 0 ? '(none)' : value.map(toText).join(', ');
  if (value === '') return '(empty)';
  if (typeof value === 'object' && value !== null) {
    // A role (aws.roles): its ARN and session name; an external id is left out, as a secret would be.
    if ('arn' in value) {
      const { arn, sessionName, externalId } = value as RoleSetting;
      return `${arn}${sessionName === undefined ? '' : ` as ${sessionName}`}${externalId === undefined ? '' : ' (external id not shown)'}`;
    }
    // Named values (selections): each name and its value.
    const entries = Object.entries(value);
    return entries.length === 0 ? '(none)' : entries.map(([name, item]) => `${name}: ${toText(item)}`).join('; ');
  }
  return String(value);
}

/**
 * The settings in force, as (key, value text) pairs for the status page, secrets left out:
 * every setting whose name may carry one, and any value that holds a URL with a user in it.
 */
export function toShownSettings(config: Config, settings: readonly SettingInfo[] = SETTINGS): [key: string, value: string][] {
  return settings
    .filter((setting) => !SECRET_NAME.test(setting.key))
    .map((setting): [string, string] => {
      const value = settingValue(config, setting.key);
      const text = toText(value);
      return [setting.key, URL_WITH_USER.test(text) ? '(hidden: holds a URL with a user name)' : text];
    });
}
