import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { toClientConfig, type ClientSettings } from './clients.js';
import type { Instrumentation } from './instrumentation.js';

/**
 * The account of the process's own credentials (sts:GetCallerIdentity, which needs no
 * permission), asked once. Loaded with import() only then: with roles, the account is in each
 * role's ARN, and this module is never loaded.
 */
export async function fetchCallerAccount(settings: ClientSettings, instrumentation?: Instrumentation): Promise<string> {
  const sts = new STSClient(toClientConfig(settings));
  instrumentation?.attach(sts);
  try {
    const { Account } = await sts.send(new GetCallerIdentityCommand({}));
    if (Account === undefined || !/^\d{12}$/.test(Account)) throw new Error(`GetCallerIdentity answered the account ${JSON.stringify(Account)} (expected 12 digits)`);
    return Account;
  } finally {
    sts.destroy();
  }
}
