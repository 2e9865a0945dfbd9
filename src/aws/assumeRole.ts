import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { doesIdentityRequireRefresh, isIdentityExpired, memoizeIdentityProvider } from '@smithy/core';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { toClientConfig, type ClientSettings } from './clients.js';
import type { Instrumentation } from './instrumentation.js';
import { DEFAULT_SESSION_NAME, type RoleSetting } from './roles.js';

/**
 * The credentials of a role of `aws.roles`, from the SDK's own provider (fromTemporaryCredentials:
 * sts:AssumeRole with the process's own credentials). Loaded with import() only when roles are
 * set: a single-account process never loads it.
 *
 * One provider per role, shared by the clients of all its regions: the SDK's clients take a
 * provider marked `memoized` as it is, so the role is assumed once, not once per client, and
 * again shortly before the credentials expire (the SDK's rule: 5 minutes before). A failure is
 * not kept: the next call tries again.
 */
export function createRoleCredentials(role: RoleSetting, settings: ClientSettings, instrumentation?: Instrumentation): AwsCredentialIdentityProvider {
  const assume = fromTemporaryCredentials({
    params: {
      RoleArn: role.arn,
      RoleSessionName: role.sessionName ?? DEFAULT_SESSION_NAME,
      ...(role.externalId !== undefined && { ExternalId: role.externalId }),
    },
    // The STS client: the deadlines, answer cap and retries of the others, in the first region.
    clientConfig: toClientConfig(settings),
    // Applied at each assumption: attach() is idempotent.
    ...(instrumentation && { clientPlugins: [{ applyToStack: (stack) => instrumentation.attach({ middlewareStack: stack }) }] }),
  });
  const shared = memoizeIdentityProvider<AwsCredentialIdentity>(assume, isIdentityExpired, doesIdentityRequireRefresh) as AwsCredentialIdentityProvider & {
    memoized?: boolean;
  };
  shared.memoized = true;
  return shared;
}
