import { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';

/** The SDK's retry strategies. */
export const RETRY_MODES = ['standard', 'adaptive'] as const;
export type RetryMode = (typeof RETRY_MODES)[number];

export interface ClientSettings {
  /** Undefined: the SDK's own chain (AWS_REGION, AWS_DEFAULT_REGION, the profile). */
  region: string | undefined;
  maxAttempts: number;
  retryMode: RetryMode;
  requestTimeoutMs: number;
}

/**
 * The ECS and EC2 clients of one region. Credentials, profiles and endpoint overrides
 * (AWS_ENDPOINT_URL_ECS, AWS_ENDPOINT_URL_EC2) come from the SDK's usual chains; retries of
 * throttling and 5xx are the SDK's retry strategy.
 */
export function createClients({ region, maxAttempts, retryMode, requestTimeoutMs }: ClientSettings) {
  const config = {
    ...(region !== undefined && { region }),
    maxAttempts,
    retryMode,
    requestHandler: {
      requestTimeout: requestTimeoutMs,
      connectionTimeout: Math.min(requestTimeoutMs, 5000),
      // Without it, a timed-out request only logs a warning and keeps waiting.
      throwOnRequestTimeout: true,
    },
  };
  return { ecs: new ECSClient(config), ec2: new EC2Client(config) };
}
