import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * iam-policy.json must grant exactly the AWS actions that the code calls in an account: each one
 * derived from the SDK commands (`XxxCommand`) and paginators (`paginateXxx`) that src/ imports.
 * With aws.roles, a central role assumes one role per account: its policy grants exactly the
 * STS action of the SDK credential providers src/ imports, and each account's role trusts it
 * (examples/iam-central-role-policy.json, examples/iam-account-role-trust-policy.json).
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SRC = join(ROOT, 'src');

/** The SDK packages the code may use, and the IAM service prefix of each. */
const IAM_PREFIX: Record<string, string> = {
  '@aws-sdk/client-ecs': 'ecs',
  '@aws-sdk/client-ec2': 'ec2',
  '@aws-sdk/client-ssm': 'ssm',
  '@aws-sdk/client-sts': 'sts',
  '@aws-sdk/client-sqs': 'sqs',
};

/** The SDK credential providers the code may use, and the action each calls. */
const PROVIDER_ACTIONS: Record<string, string> = { fromTemporaryCredentials: 'sts:AssumeRole' };

/** Actions that no policy can grant or deny: AWS answers them to any caller. */
const NO_PERMISSION_NEEDED = ['sts:GetCallerIdentity'];

/** Actions of the central role that assumes the accounts' roles, not of a role that reads an account. */
const CENTRAL_ACTIONS = ['sts:AssumeRole'];

/** API actions that IAM authorizes by another action's name: SQS's batch actions by the single one's. */
const IAM_ACTION_OF: Record<string, string> = { 'sqs:DeleteMessageBatch': 'sqs:DeleteMessage' };

/** The statement of event-driven discovery (events.queueUrl): the only one that is not read-only. */
const EVENTS_SID = 'PrometheusEcsDiscovererEvents';

interface Derived {
  /** IAM action → the files that call it. */
  actions: Map<string, Set<string>>;
  /** What the scan cannot map to actions by itself (a new package, a waiter, a namespace import). */
  problems: string[];
}

const MODULE_SPECIFIER = /['"](@aws-sdk\/client-[a-z0-9-]+)['"]/g;
/** Named imports of the SDK's credential providers. */
const PROVIDER_IMPORT = /\bimport\s*\{([^}]*)\}\s*from\s*['"]@aws-sdk\/credential-providers['"]/g;
const IMPORT_STATEMENT =
  /\b(?:import|export)\s+(type\s+)?(?:(\*\s+as\s+\w+)|(?:\w+\s*,\s*)?\{([^}]*)\})\s*from\s*['"](@aws-sdk\/client-[a-z0-9-]+)['"]/g;
/** A module loaded on demand, its names taken by destructuring: `const { A, B: C } = await import('...')`. */
const DYNAMIC_IMPORT = /\bconst\s*\{([^}]*)\}\s*=\s*await\s+import\(\s*['"](@aws-sdk\/client-[a-z0-9-]+)['"]\s*\)/g;

/** Adds the IAM actions that one source file's AWS SDK imports call. */
function scan(source: string, file: string, into: Derived): void {
  const statements = [
    ...source.matchAll(IMPORT_STATEMENT),
    ...[...source.matchAll(DYNAMIC_IMPORT)].map(([all, names, module]) => [all, undefined, undefined, names, module] as const),
  ];
  for (const [, names = ''] of source.matchAll(PROVIDER_IMPORT)) {
    for (const name of names.split(',').map((part) => part.trim().split(/\s+as\s+/)[0] ?? '').filter((part) => part !== '' && !part.startsWith('type '))) {
      const action = PROVIDER_ACTIONS[name];
      if (action === undefined) into.problems.push(`${file}: ${name} from @aws-sdk/credential-providers calls actions the scan cannot name; map it in PROVIDER_ACTIONS`);
      else into.actions.set(action, (into.actions.get(action) ?? new Set()).add(file));
    }
  }
  const mentions = [...source.matchAll(MODULE_SPECIFIER)].length;
  if (mentions !== statements.length) {
    into.problems.push(`${file}: ${mentions} mention(s) of @aws-sdk/client-* but ${statements.length} named import(s) parsed; extend the scan`);
  }
  for (const [, typeOnly, namespace, names = '', module = ''] of statements) {
    if (typeOnly) continue;
    const prefix = IAM_PREFIX[module];
    if (prefix === undefined) {
      into.problems.push(`${file}: imports ${module}, which has no IAM prefix here; add it to IAM_PREFIX`);
      continue;
    }
    if (namespace) {
      into.problems.push(`${file}: "import ${namespace.replace(/\s+/g, ' ')}" from ${module} hides which commands are used; import them by name`);
      continue;
    }
    for (const specifier of names.split(',').map((part) => part.trim())) {
      if (specifier === '' || specifier.startsWith('type ')) continue;
      const name = specifier.split(/\s+as\s+|\s*:\s*/)[0]?.trim() ?? '';
      const action = /^(\w+)Command$/.exec(name)?.[1] ?? /^paginate(\w+)$/.exec(name)?.[1];
      if (action !== undefined) {
        const key = IAM_ACTION_OF[`${prefix}:${action}`] ?? `${prefix}:${action}`;
        into.actions.set(key, (into.actions.get(key) ?? new Set()).add(file));
      } else if (/^waitUntil/.test(name) || name === 'ECS' || name === 'EC2') {
        into.problems.push(`${file}: ${name} from ${module} calls actions the scan cannot name; map it in this test`);
      }
    }
  }
}

function deriveFromSource(): Derived {
  const derived: Derived = { actions: new Map(), problems: [] };
  const files = readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts'));
  for (const file of files.sort()) scan(readFileSync(join(SRC, file), 'utf8'), `src/${file}`, derived);
  return derived;
}

interface Statement {
  Principal?: { AWS?: unknown };
  Condition?: unknown;
  Sid?: unknown;
  Effect?: unknown;
  Action?: unknown;
  NotAction?: unknown;
  Resource?: unknown;
}

interface PolicyDocument {
  Version?: unknown;
  Statement?: Statement[];
}
const readPolicy = (path: string) => JSON.parse(readFileSync(join(ROOT, path), 'utf8')) as PolicyDocument;
const actionsOf = (document: PolicyDocument) =>
  (document.Statement ?? []).flatMap((statement) => (Array.isArray(statement.Action) ? (statement.Action as string[]) : [statement.Action as string]));

const policy = readPolicy('iam-policy.json');
const statements = policy.Statement ?? [];
const policyActions = actionsOf(policy);
const centralPolicy = readPolicy('examples/iam-central-role-policy.json');
const trustPolicy = readPolicy('examples/iam-account-role-trust-policy.json');

describe('the source scan', () => {
  it('maps commands, paginators and aliases to actions, static or loaded on demand, and ignores types and clients', () => {
    const derived: Derived = { actions: new Map(), problems: [] };
    scan(
      `import { paginateDescribeInstances, type EC2Client } from '@aws-sdk/client-ec2';
       import {
         DescribeTasksCommand as Describe,
         paginateListTasks,
         ECSClient,
       } from "@aws-sdk/client-ecs";
       import type { ListClustersCommand } from '@aws-sdk/client-ecs';
       const { paginateDescribeInstanceInformation, SSMClient: Client } = await import('@aws-sdk/client-ssm');
       import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
       import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';`,
      'a.ts',
      derived,
    );

    expect(derived.problems).toEqual([]);
    expect([...derived.actions.keys()].sort()).toEqual([
      'ec2:DescribeInstances',
      'ecs:DescribeTasks',
      'ecs:ListTasks',
      'ssm:DescribeInstanceInformation',
      'sts:AssumeRole',
      'sts:GetCallerIdentity',
    ]);
  });

  it('names the IAM action of a batch action that IAM authorizes by another name', () => {
    const derived: Derived = { actions: new Map(), problems: [] };
    scan(`const { DeleteMessageBatchCommand, ReceiveMessageCommand } = await import('@aws-sdk/client-sqs');`, 'c.ts', derived);

    expect([...derived.actions.keys()].sort()).toEqual(['sqs:DeleteMessage', 'sqs:ReceiveMessage']);
  });

  it('reports what it cannot map instead of missing it', () => {
    const derived: Derived = { actions: new Map(), problems: [] };
    scan(
      `import * as ecs from '@aws-sdk/client-ecs';
       import { GetObjectCommand } from '@aws-sdk/client-s3';
       import { waitUntilTasksRunning } from '@aws-sdk/client-ecs';
       const lazy = await import('@aws-sdk/client-ec2');
       import { fromIni } from '@aws-sdk/credential-providers';`,
      'b.ts',
      derived,
    );

    expect(derived.problems).toHaveLength(5);
    expect(derived.actions.size).toBe(0);
  });
});

describe('iam-policy.json', () => {
  it('is a policy document whose statements allow actions on every resource', () => {
    expect(policy.Version).toBe('2012-10-17');
    expect(statements.length).toBeGreaterThan(0);
    for (const statement of statements) {
      expect(statement).toMatchObject({ Effect: 'Allow', Resource: '*' });
      expect(statement.NotAction, 'NotAction grants everything else').toBeUndefined();
    }
  });

  it('grants exactly the actions that src/ calls in an account through the AWS SDK', () => {
    const derived = deriveFromSource();
    const { problems } = derived;
    const actions = new Map([...derived.actions].filter(([action]) => !NO_PERMISSION_NEEDED.includes(action) && !CENTRAL_ACTIONS.includes(action)));

    expect(problems, problems.join('\n')).toEqual([]);
    expect(actions.size, 'no AWS SDK command found in src/: the scan is broken').toBeGreaterThan(0);
    const missing = [...actions.keys()].filter((action) => !policyActions.includes(action)).sort();
    const extra = policyActions.filter((action) => !actions.has(action)).sort();
    const message = [
      ...missing.map((action) => `missing from iam-policy.json: ${action} (called in ${[...(actions.get(action) ?? [])].join(', ')})`),
      ...extra.map((action) => `in iam-policy.json but called nowhere in src/: ${action}`),
    ].join('\n');

    expect({ missing, extra }, message).toEqual({ missing: [], extra: [] });
    expect(new Set(policyActions).size, 'an action is listed twice').toBe(policyActions.length);
  });

  it('grants read actions only, each named in full, but in the statement of events', () => {
    const readOnly = statements.filter((statement) => statement.Sid !== EVENTS_SID);
    const actions = readOnly.flatMap((statement) => (Array.isArray(statement.Action) ? (statement.Action as unknown[]) : [statement.Action]));
    const bad = actions.filter(
      (action) => typeof action !== 'string' || action.includes('*') || !/^[a-z0-9]+:(Describe|List|Get)[A-Za-z0-9]+$/.test(action),
    );

    expect(actions.length).toBeGreaterThan(0);
    expect(bad, `not a read action named in full (Describe*, List*, Get*; no wildcard): ${bad.join(', ')}`).toEqual([]);
  });

  it('grants in the statement of events exactly what listening to the queue takes, and SQS nowhere else', () => {
    const events = statements.filter((statement) => statement.Sid === EVENTS_SID);
    const sqsElsewhere = statements.filter((statement) => statement.Sid !== EVENTS_SID).flatMap((statement) => statement.Action as string[]).filter((action) => action.startsWith('sqs:'));

    expect(events).toHaveLength(1);
    expect([...(events[0]?.Action as string[])].sort()).toEqual(['sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage']);
    expect(sqsElsewhere).toEqual([]);
  });

  it('lists the same actions as the README', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    // The section up to its first subsection: the roles of several accounts have one of their own.
    const section = /## AWS permissions\n([\s\S]*?)\n##/.exec(readme)?.[1] ?? '';
    const listed = [...section.matchAll(/`([a-z0-9]+:[A-Za-z0-9]+)`/g)].map((match) => match[1] ?? '');
    const message = [
      ...policyActions.filter((action) => !listed.includes(action)).map((action) => `README "AWS permissions" lacks ${action}`),
      ...listed.filter((action) => !policyActions.includes(action)).map((action) => `README "AWS permissions" has ${action}, iam-policy.json not`),
    ].join('\n');

    expect(listed.sort(), message).toEqual([...policyActions].sort());
  });
});

describe('the policies of several accounts (aws.roles)', () => {
  it('let the central role assume the accounts\' roles, and nothing else, on role ARNs only', () => {
    const { actions } = deriveFromSource();
    const central = [...actions.keys()].filter((action) => CENTRAL_ACTIONS.includes(action));

    expect(central, 'src/ assumes roles through the SDK provider: the scan is broken').toEqual(['sts:AssumeRole']);
    expect(centralPolicy.Version).toBe('2012-10-17');
    expect(actionsOf(centralPolicy).sort()).toEqual(central);
    for (const statement of centralPolicy.Statement ?? []) {
      expect(statement.Effect).toBe('Allow');
      const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
      for (const resource of resources) expect(resource, 'an IAM role ARN (account may be *)').toMatch(/^arn:aws:iam::(\*|\d{12}):role\/[\w+=,.@/-]+$/);
    }
  });

  it('make each account\'s role trust the central role alone, with an external id', () => {
    const [statement, ...others] = trustPolicy.Statement ?? [];

    expect(trustPolicy.Version).toBe('2012-10-17');
    expect(others).toEqual([]);
    expect(statement).toMatchObject({ Effect: 'Allow', Action: 'sts:AssumeRole', Condition: { StringEquals: { 'sts:ExternalId': expect.any(String) as string } } });
    expect(statement?.Principal?.AWS).toMatch(/^arn:aws:iam::\d{12}:role\/[\w+=,.@-]+$/);
  });

  it('are named in the README\'s section on several accounts, with the actions of each', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = /### Several accounts\n([\s\S]*?)\n## /.exec(readme)?.[1] ?? '';

    for (const file of ['iam-policy.json', 'examples/iam-central-role-policy.json', 'examples/iam-account-role-trust-policy.json']) expect(section).toContain(file);
    for (const action of [...actionsOf(centralPolicy), ...NO_PERMISSION_NEEDED]) expect(section).toContain(`\`${action}\``);
  });
});
