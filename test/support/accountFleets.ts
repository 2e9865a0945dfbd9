import type { FakeAws, FakeFleet } from '../../src/fake/fakeAws.js';
import { ACCOUNT, REGION, addDefinition, addHost, addTask, clusterOf, emptyFleet, makeTaskDefinition } from '../../src/fake/fleet.js';

/**
 * Fleets of two accounts in two regions, for the fake: in each, a cluster named `prod` (the same
 * name everywhere) with a Fargate task and a bridge task on an EC2 host, and the metadata that
 * the answers already hold (platform, capacity provider, starter, host address and tags, cluster
 * tags). Every address is a loopback address, and tells where it comes from:
 * 127.<account 1|2>.<region 1|2>.<n>.
 */

export const ACCOUNTS = ['111111111111', '222222222222'] as const;
export const REGIONS = ['eu-west-1', 'us-east-1'] as const;
export const roleOf = (account: string) => `arn:aws:iam::${account}:role/discoverer`;

/** The address of a task: `fargate` (port 9090) or `bridge` (host port 32768). */
export function addressOf(account: string, region: string, task: 'fargate' | 'bridge'): string {
  const prefix = `127.${ACCOUNTS.indexOf(account as (typeof ACCOUNTS)[number]) + 1}.${REGIONS.indexOf(region as (typeof REGIONS)[number]) + 1}`;
  return task === 'fargate' ? `${prefix}.10:9090` : `${prefix}.20:32768`;
}

/** The fleet of one account and region, its ARNs naming them. */
function accountFleet(account: string, region: string): FakeFleet {
  const fleet = emptyFleet();
  const [fargateIp] = addressOf(account, region, 'fargate').split(':') as [string];
  const [hostIp] = addressOf(account, region, 'bridge').split(':') as [string];
  const api = addDefinition(fleet, makeTaskDefinition('api', 3, 'awsvpc', [{ name: 'api', environment: { PROMETHEUS: 'true' }, portMappings: [{ containerPort: 9090 }] }]));
  const web = addDefinition(
    fleet,
    makeTaskDefinition('web', 7, 'bridge', [{ name: 'web', environment: { PROMETHEUS: 'true' }, portMappings: [{ containerPort: 8080, hostPort: 0 }] }]),
  );
  const host = addHost(fleet, 'prod', 'i-0aaaaaaaaaaaaaaa1', hostIp, 'm5.large');
  Object.assign(fleet.instances.get('i-0aaaaaaaaaaaaaaa1') ?? {}, {
    publicIp: hostIp.replace(/\.20$/, '.21'),
    subnetId: 'subnet-0host',
    tags: { Name: `ecs-${account}`, 'aws:autoscaling:groupName': 'prod-asg' },
  });
  const fargate = addTask(fleet, { cluster: 'prod', id: 'fargate1', definition: api, launchType: 'FARGATE', eniIp: fargateIp, containers: [{ name: 'api' }] });
  Object.assign(fargate, { platformFamily: 'Linux', platformVersion: '1.4.0', capacityProviderName: 'FARGATE_SPOT', startedBy: 'ecs-svc/1234567890' });
  addTask(fleet, {
    cluster: 'prod',
    id: 'bridge1',
    definition: web,
    containerInstanceArn: host,
    containers: [{ name: 'web', bindings: [{ containerPort: 8080, hostPort: 32768 }] }],
  });
  clusterOf(fleet, 'prod').tags = { team: `team-${account}`, 'cost-center': '42' };
  // The builders name the default account and region in their ARNs: this fleet's instead.
  const relocated = JSON.parse(JSON.stringify({ ...fleet, taskDefinitions: [...fleet.taskDefinitions], instances: [...fleet.instances] }).replaceAll(`:${REGION}:${ACCOUNT}:`, `:${region}:${account}:`).replaceAll(`"${REGION}a"`, `"${region}a"`)) as Omit<FakeFleet, 'taskDefinitions' | 'instances'> & {
    taskDefinitions: [string, never][];
    instances: [string, never][];
  };
  return { ...relocated, accountId: account, region, taskDefinitions: new Map(relocated.taskDefinitions), instances: new Map(relocated.instances) };
}

/** Adds the fleets of both accounts in both regions to the fake. */
export function addAccountFleets(fake: FakeAws): void {
  for (const account of ACCOUNTS) for (const region of REGIONS) fake.addFleet(accountFleet(account, region));
}
