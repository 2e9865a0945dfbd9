import type { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { BoundedHttpHandler, attachCallSignals } from './boundedHttpHandler.js';
import { attachRawAnswerChecks } from './rawAnswerChecks.js';

/** The SDK's retry strategies. */
export const RETRY_MODES = ['standard', 'adaptive'] as const;
export type RetryMode = (typeof RETRY_MODES)[number];

export interface ClientSettings {
  /** Undefined: the SDK's own chain (AWS_REGION, AWS_DEFAULT_REGION, the profile). */
  region: string | undefined;
  maxAttempts: number;
  retryMode: RetryMode;
  /** A request's whole answer, headers and body, must arrive within this many ms. */
  requestTimeoutMs: number;
  /** A role's credentials (aws.roles); undefined: the SDK's own chain, the process's credentials. */
  credentials?: AwsCredentialIdentityProvider;
}

/**
 * The ECS and EC2 clients of one region. Credentials, profiles and endpoint overrides
 * (AWS_ENDPOINT_URL_ECS, AWS_ENDPOINT_URL_EC2) come from the SDK's usual chains; retries of
 * throttling and 5xx are the SDK's retry strategy.
 */
export function createEcsClient(settings: ClientSettings): ECSClient {
  const client = new ECSClient(toClientConfig(settings));
  attachCallSignals(client);
  attachRawAnswerChecks(client);
  return client;
}

/** The EC2 client (hosts of bridge and host tasks), with the same settings; loaded on demand, as the SSM client. */
export async function createEc2Client(settings: ClientSettings): Promise<EC2Client> {
  const { EC2Client: Client } = await import('./ec2Client.js');
  const client = new Client(toClientConfig(settings));
  attachCallSignals(client);
  return client;
}

/**
 * The SSM client (ECS Anywhere hosts), with the same settings; AWS_ENDPOINT_URL_SSM as for the
 * others. Loaded on demand: most users have no managed instance and need not pay for it.
 */
export async function createSsmClient(settings: ClientSettings): Promise<SSMClient> {
  const { SSMClient: Client } = await import('./ssmClient.js');
  const client = new Client(toClientConfig(settings));
  attachCallSignals(client);
  return client;
}

/**
 * The SQS client of the event queue (events.queueUrl), with the same settings;
 * AWS_ENDPOINT_URL_SQS as for the others. Loaded on demand: without events, nobody pays for it.
 */
export async function createSqsClient(settings: ClientSettings): Promise<SQSClient> {
  const { SQSClient: Client } = await import('@aws-sdk/client-sqs');
  const client = new Client(toClientConfig(settings));
  attachCallSignals(client);
  return client;
}

/**
 * Each client gets a handler of its own: destroying a client destroys its handler's agent.
 * Calls carry their abort signal on their input (callOptions.ts), so that the SDK resolves a
 * client's middleware stack once per command rather than at every call (cacheMiddleware): every
 * middleware is attached when the client is made, before its first call.
 */
export function toClientConfig({ region, maxAttempts, retryMode, requestTimeoutMs, credentials }: ClientSettings) {
  return {
    ...(region !== undefined && { region }),
    ...(credentials !== undefined && { credentials }),
    maxAttempts,
    retryMode,
    cacheMiddleware: true,
    // The whole answer, body included, within requestTimeout, and no answer beyond 64 MB.
    requestHandler: new BoundedHttpHandler({ requestTimeoutMs, connectionTimeout: Math.min(requestTimeoutMs, 5000) }),
  };
}
