import { createEc2Client, createEcsClient, createSsmClient, type ClientSettings } from './aws/clients.js';
import { EcsReader } from './aws/ecsReader.js';
import { createInstrumentation, type Instrumentation } from './aws/instrumentation.js';
import { accountOfRoleArn, type RoleSetting } from './aws/roles.js';
import { settingError, type Config } from './config.js';
import { isAbort } from './abort.js';
import { describeError } from './errors.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';
import type { TaskVersions } from './discovery/taskEvents.js';

/** The readers of a process, and the AWS requests they made. */
export interface ReaderSet {
  /** One per account (a role of aws.roles, or the process's own credentials) and region. */
  readers: EcsReader[];
  /** AWS requests made so far, retries and STS included. */
  countRequests: () => number;
  /** Of those, the ones AWS throttled. */
  countThrottled: () => number;
  /** Resolves once no AWS request is in flight. */
  callsSettled: () => Promise<void>;
}

/** What makes clients: the SDK's own, or (in tests) others. */
export interface ReaderFactories {
  /** The credentials of a role, shared by the clients of its regions. */
  roleCredentials(role: RoleSetting, settings: ClientSettings, instrumentation: Instrumentation): Promise<NonNullable<ClientSettings['credentials']>>;
  /** The account of the process's own credentials. */
  callerAccount(settings: ClientSettings, instrumentation: Instrumentation): Promise<string>;
}

/** The SDK's providers, each loaded with import() only when needed: a single-account process never loads the role one. */
const SDK_FACTORIES: ReaderFactories = {
  async roleCredentials(role, settings, instrumentation) {
    const { createRoleCredentials } = await import('./aws/assumeRole.js');
    return createRoleCredentials(role, settings, instrumentation);
  },
  async callerAccount(settings, instrumentation) {
    const { fetchCallerAccount } = await import('./aws/callerAccount.js');
    return fetchCallerAccount(settings, instrumentation);
  },
};

/**
 * One reader per account and region, each with its own clients, caches and pacers: ECS rate
 * limits are per account and region, so one account's burst never slows another's. With
 * aws.roles, each role is an account, read in every region through the role's credentials;
 * without, the process's own credentials are one account, whose id sts:GetCallerIdentity gives
 * once (never waited for: until it answers, or if it fails, the first cluster ARN listed says it).
 */
export async function createReaders(
  config: Config,
  metrics: Metrics,
  signal: AbortSignal,
  logger: Logger,
  {
    factories = SDK_FACTORIES,
    events,
  }: {
    factories?: ReaderFactories;
    /** With event-driven discovery: the task versions events have seen, and the time between full rounds, which changes. */
    events?: { versions: TaskVersions; roundIntervalMs: () => number };
  } = {},
): Promise<ReaderSet> {
  const regions = config.aws.regions.length > 0 ? config.aws.regions : [undefined];
  const base = { maxAttempts: config.aws.maxAttempts, retryMode: config.aws.retryMode, requestTimeoutMs: config.aws.requestTimeout * 1000 };
  const instrumentations: Instrumentation[] = [];
  const roles: readonly (RoleSetting | undefined)[] = config.aws.roles.length > 0 ? config.aws.roles : [undefined];
  const readers: EcsReader[] = [];
  let callerAccount: Promise<string | undefined> | undefined;

  for (const role of roles) {
    const roleInstrumentation = createInstrumentation(metrics, signal, logger);
    // Assumed through STS in the first region; its answers are counted with the role's first region.
    const credentials = role && (await factories.roleCredentials(role, { ...base, region: regions[0] }, roleInstrumentation));
    for (const [index, region] of regions.entries()) {
      const instrumentation = index === 0 ? roleInstrumentation : createInstrumentation(metrics, signal, logger);
      instrumentations.push(instrumentation);
      const settings: ClientSettings = { ...base, region, ...(credentials && { credentials }) };
      const ecs = createEcsClient(settings);
      instrumentation.attach(ecs);
      let resolvedRegion: string;
      try {
        resolvedRegion = await ecs.config.region();
      } catch (error) {
        // The SDK's region comes from AWS_REGION or a profile: none at all, or one it refuses (its reason follows).
        const missing = /region is missing/i.test(describeError(error));
        const problem =
          region !== undefined ? `region "${region}" cannot be used` : missing ? 'no AWS region: set AWS_REGION (or a profile region), or --regions' : 'the region of AWS_REGION or of the profile cannot be used';
        throw settingError('aws.regions', problem, error);
      }
      // Loaded when first needed, in the region the ECS client resolved, with the same credentials.
      const onDemand = <C extends Parameters<Instrumentation['attach']>[0]>(create: (given: ClientSettings) => Promise<C>) => async () => {
        const client = await create({ ...settings, region: resolvedRegion });
        instrumentation.attach(client);
        return client;
      };
      if (role === undefined && callerAccount === undefined) {
        callerAccount = factories.callerAccount({ ...base, region: resolvedRegion }, instrumentation).catch((error: unknown) => {
          // Stopped with the process (or after the one round of --once): nothing to tell.
          if (isAbort(error)) return undefined;
          logger.warn('the account of the process\'s own credentials is not known: sts:GetCallerIdentity failed; it is taken from the cluster ARNs listed', {
            error: describeError(error),
          });
          return undefined;
        });
      }
      readers.push(
        new EcsReader({
          ecs,
          ec2: onDemand(createEc2Client),
          ssm: onDemand(createSsmClient),
          region: resolvedRegion,
          ...(role !== undefined && { role: role.arn, account: accountOfRoleArn(role.arn) }),
          ...(credentials !== undefined && { assumeRole: () => credentials() }),
          ...(callerAccount !== undefined && { callerAccount }),
          metrics,
          includeTags: config.labels.taskTags,
          clusterTags: config.labels.clusterTags,
          taskRefreshMs: config.taskRefresh * 1000,
          intervalMs: events === undefined ? config.interval * 1000 : () => events.roundIntervalMs(),
          ...(events && { taskVersions: events.versions }),
        }),
      );
    }
  }
  return {
    readers,
    countRequests: () => instrumentations.reduce((sum, instrumentation) => sum + instrumentation.requests, 0),
    countThrottled: () => instrumentations.reduce((sum, instrumentation) => sum + instrumentation.throttled, 0),
    callsSettled: async () => void (await Promise.all(instrumentations.map((instrumentation) => instrumentation.settled()))),
  };
}
