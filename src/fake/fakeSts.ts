import type { IncomingMessage } from 'node:http';

/**
 * STS for the wire-level fake (fakeAws.ts): AssumeRole and GetCallerIdentity in the query
 * protocol, with XML answers and errors shaped as the STS API reference shows them, for the real
 * SDK to reach through AWS_ENDPOINT_URL_STS.
 *
 * Accounts: the access key ids AssumeRole hands out name the role's account (`ASIA` + 12 digits
 * + a counter), so that the fake tells from the SigV4 Authorization header of any later request
 * whose account it is, and answers with that account's fleet. Any other key is the default
 * account's: the process's own credentials.
 */

const XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/';
/** What IAM accepts as a role ARN: 12-digit account, path, name. */
const ROLE_ARN = /^arn:aws(?:-[a-z]+)*:iam::(\d{12}):role\/((?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64}))$/;
const ASSUMED_KEY = /^ASIA(\d{12})\d{4}$/;

/** An STS error, answered in the query protocol's `ErrorResponse`. */
export class StsFault extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The body of an STS error answer. */
export function stsErrorXml(code: string, message: string): string {
  const type = code === 'InternalFailure' || code.startsWith('Service') ? 'Receiver' : 'Sender';
  return `<?xml version="1.0" encoding="UTF-8"?><ErrorResponse xmlns="${XMLNS}"><Error><Type>${type}</Type><Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>fake</RequestId></ErrorResponse>`;
}

/** The access key id and the service of a request's SigV4 credential scope (`Credential=AKID/date/region/service/aws4_request`). */
function credentialOf(request: IncomingMessage): { accessKeyId: string; service: string } | undefined {
  const match = /Credential=([^/]+)\/\d+\/[^/]+\/([^/]+)\//.exec(request.headers.authorization ?? '');
  return match === null ? undefined : { accessKeyId: match[1] as string, service: match[2] as string };
}

/** Whether a request is for STS, by the service its signature is scoped to. */
export const isStsRequest = (request: IncomingMessage): boolean => credentialOf(request)?.service === 'sts';

/** What the fake's STS was asked to assume, for tests. */
export interface Assumption {
  roleArn: string;
  sessionName: string;
  externalId: string | undefined;
}

export class FakeSts {
  /** Roles whose AssumeRole is refused with AccessDenied, as when the role's trust policy does not name the caller. */
  readonly deniedRoles = new Set<string>();
  /** Roles whose trust policy requires an external id, and which one. */
  readonly externalIds = new Map<string, string>();
  /** Every AssumeRole that was answered with credentials. */
  readonly assumptions: Assumption[] = [];
  /** The default account: the process's own credentials. */
  readonly #defaultAccount: () => string;
  #issued = 0;

  constructor(defaultAccount: () => string) {
    this.#defaultAccount = defaultAccount;
  }

  /** The account whose credentials signed a request: an assumed role's, or the default one. */
  accountOf(request: IncomingMessage): string {
    const accessKeyId = credentialOf(request)?.accessKeyId ?? '';
    return ASSUMED_KEY.exec(accessKeyId)?.[1] ?? this.#defaultAccount();
  }

  /** The XML answer of an STS action; throws StsFault as STS would answer. */
  answer(action: string, form: URLSearchParams, request: IncomingMessage): string {
    switch (action) {
      case 'AssumeRole':
        return this.#assumeRole(form);
      case 'GetCallerIdentity':
        return this.#callerIdentity(request);
      default:
        throw new StsFault(400, 'InvalidAction', `fake STS does not know ${action}`);
    }
  }

  #assumeRole(form: URLSearchParams): string {
    const roleArn = form.get('RoleArn') ?? '';
    const sessionName = form.get('RoleSessionName') ?? '';
    const externalId = form.get('ExternalId') ?? undefined;
    const role = ROLE_ARN.exec(roleArn);
    if (role === null) throw new StsFault(400, 'ValidationError', `${roleArn} is invalid`);
    if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) {
      throw new StsFault(400, 'ValidationError', "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint");
    }
    const required = this.externalIds.get(roleArn);
    if (this.deniedRoles.has(roleArn) || (required !== undefined && required !== externalId)) {
      throw new StsFault(
        403,
        'AccessDenied',
        `User: arn:aws:iam::${this.#defaultAccount()}:user/discoverer is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
      );
    }
    const [, account, , name] = role as unknown as [string, string, string, string];
    this.#issued += 1;
    this.assumptions.push({ roleArn, sessionName, externalId });
    const accessKeyId = `ASIA${account}${String(this.#issued % 10_000).padStart(4, '0')}`;
    const durationSeconds = Number(form.get('DurationSeconds') ?? 3600);
    const expiration = new Date(Date.now() + durationSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    return `<AssumeRoleResponse xmlns="${XMLNS}"><AssumeRoleResult><AssumedRoleUser><Arn>arn:aws:sts::${account}:assumed-role/${escapeXml(name)}/${escapeXml(sessionName)}</Arn><AssumedRoleId>AROAFAKE${account}:${escapeXml(sessionName)}</AssumedRoleId></AssumedRoleUser><Credentials><AccessKeyId>${accessKeyId}</AccessKeyId><SecretAccessKey>fake-secret-${this.#issued}</SecretAccessKey><SessionToken>fake-session-token-${this.#issued}</SessionToken><Expiration>${expiration}</Expiration></Credentials></AssumeRoleResult><ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></AssumeRoleResponse>`;
  }

  #callerIdentity(request: IncomingMessage): string {
    const accessKeyId = credentialOf(request)?.accessKeyId ?? '';
    const account = this.accountOf(request);
    const arn = ASSUMED_KEY.test(accessKeyId) ? `arn:aws:sts::${account}:assumed-role/discoverer/session` : `arn:aws:iam::${account}:user/discoverer`;
    return `<GetCallerIdentityResponse xmlns="${XMLNS}"><GetCallerIdentityResult><Arn>${arn}</Arn><UserId>${escapeXml(accessKeyId)}</UserId><Account>${account}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></GetCallerIdentityResponse>`;
  }
}
