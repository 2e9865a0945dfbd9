/**
 * The roles of the `aws.roles` setting: one per account, each assumed through STS and read in
 * every region of `aws.regions`. Pure: validation and parsing, no AWS call.
 */

/** A role to assume, as the config file lists it (the environment and flags give ARNs alone). */
export interface RoleSetting {
  /** `arn:aws:iam::<account>:role/<name>` */
  readonly arn: string;
  /** The external id the role's trust policy requires, if it requires one. */
  readonly externalId?: string;
  /** The session name AWS CloudTrail shows. @default 'prometheus-ecs-discoverer' */
  readonly sessionName?: string;
}

export const DEFAULT_SESSION_NAME = 'prometheus-ecs-discoverer';

/** An IAM role ARN in any partition: account (12 digits), optional path, name of 1 to 64 characters. */
const ROLE_ARN = /^arn:aws(?:-[a-z]+)*:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;
/** What STS accepts as an external id (2 to 1224 characters) and as a session name (2 to 64). */
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;

const ROLE_FIELDS = ['arn', 'externalId', 'sessionName'];

/** The account of an IAM role ARN; undefined when it is not one. */
export function accountOfRoleArn(arn: string): string | undefined {
  return ROLE_ARN.exec(arn)?.[1];
}

const show = (value: unknown) => JSON.stringify(value) ?? String(value);

/** What is wrong with one entry of the setting; undefined when it is a role. */
function entryProblem(entry: unknown): string | undefined {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return `${show(entry)} is not a role object ({"arn": ..., "externalId": ..., "sessionName": ...})`;
  const fields = entry as Record<string, unknown>;
  const unknown = Object.keys(fields).find((key) => !ROLE_FIELDS.includes(key));
  if (unknown !== undefined) return `role field "${unknown}" is unknown (expected arn, externalId, sessionName)`;
  const arn = fields['arn'];
  if (typeof arn !== 'string' || accountOfRoleArn(arn) === undefined) return `${show(arn)} is not an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)`;
  const { externalId, sessionName } = fields;
  if (externalId !== undefined && (typeof externalId !== 'string' || !EXTERNAL_ID.test(externalId))) {
    return `externalId ${show(externalId)} of ${arn} is not an external id (2 to 1224 of letters, digits and +=,.@:/-)`;
  }
  if (sessionName !== undefined && (typeof sessionName !== 'string' || !SESSION_NAME.test(sessionName))) {
    return `sessionName ${show(sessionName)} of ${arn} is not a session name (2 to 64 of letters, digits and +=,.@-)`;
  }
  return undefined;
}

/**
 * What is wrong with the whole setting; undefined when it is a list of roles, at most one per
 * account (two roles of one account would read the same clusters twice).
 */
export function rolesProblem(value: unknown): string | undefined {
  if (!Array.isArray(value)) return `${show(value)} is not a list of roles`;
  const byAccount = new Map<string, string>();
  for (const entry of value) {
    const problem = entryProblem(entry);
    if (problem !== undefined) return problem;
    const { arn } = entry as RoleSetting;
    const account = accountOfRoleArn(arn) as string;
    const other = byAccount.get(account);
    if (other !== undefined) return `${other === arn ? `${arn} is listed twice` : `${other} and ${arn} are both of account ${account}`}: one role per account`;
    byAccount.set(account, arn);
  }
  return undefined;
}

/** The environment variable's or flag's text: comma-separated role ARNs. */
export function toRoleSettings(text: string): RoleSetting[] {
  return text
    .split(',')
    .map((arn) => arn.trim())
    .filter((arn) => arn !== '')
    .map((arn) => ({ arn }));
}
