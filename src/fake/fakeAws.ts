import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Server as HttpsServer, createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Task, TaskDefinition } from '@aws-sdk/client-ecs';
import { FakeSqs } from './fakeSqs.js';
import { FakeSts, StsFault, isStsRequest, stsErrorXml } from './fakeSts.js';

/**
 * A wire-level fake of the ECS and SSM (JSON 1.1) and EC2 and STS (query/XML) APIs that the
 * discoverer calls, for the real SDK clients to reach through AWS_ENDPOINT_URL_ECS, _SSM, _EC2
 * and _STS (STS: fakeSts.ts), and of the SQS queue of ECS events (JSON 1.0,
 * AWS_ENDPOINT_URL_SQS; fakeSqs.ts). Each account (see FakeSts) and region has a fleet of its own.
 * It listens on 127.0.0.1 only. Faults (errors, outage, latency, hangs, ECS-like throttling,
 * odd, slow and endless answers) are switches that tests flip while it runs.
 */

export interface FakeContainerInstance {
  arn: string;
  ec2InstanceId: string;
}

export interface FakeCluster {
  name: string;
  tasks: Task[];
  containerInstances: FakeContainerInstance[];
  /** What DescribeClusters answers with `include: TAGS`. */
  tags?: Record<string, string>;
}

export interface FakeInstance {
  privateIp?: string;
  /** The instance's IPv6 address (its only address on an IPv6-only host). */
  ipv6?: string;
  instanceType?: string;
  publicIp?: string;
  subnetId?: string;
  tags?: Record<string, string>;
}

/** An SSM managed instance (ECS Anywhere host). */
export interface FakeManagedInstance {
  ip?: string;
}

export interface FakeFleet {
  accountId: string;
  region: string;
  clusters: FakeCluster[];
  /** By task definition ARN. */
  taskDefinitions: Map<string, TaskDefinition>;
  /** EC2 instances by instance id. */
  instances: Map<string, FakeInstance>;
  /** SSM managed instances (ECS Anywhere) by `mi-` id. */
  managedInstances: Map<string, FakeManagedInstance>;
}

export interface TokenBucket {
  burst: number;
  perSecond: number;
}

/** Which actions share a throttling bucket (as ECS and EC2 do). */
export const ACTION_BUCKETS: Record<string, string> = {
  ListTasks: 'tasks',
  DescribeTasks: 'tasks',
  DescribeTaskDefinition: 'taskDefinitions',
  ListClusters: 'clusters',
  DescribeClusters: 'clusters',
  DescribeContainerInstances: 'containerInstances',
  DescribeInstances: 'ec2',
  DescribeInstanceInformation: 'ssm',
};

/** A call that an answer switch may pick, with the answer the fake would give. */
export interface AnswerCall {
  action: string;
  /** For ListTasks, DescribeTasks and DescribeContainerInstances: the cluster's name. */
  cluster?: string;
  /** The request: parsed JSON (ECS, SSM), or the form (EC2). */
  input: Record<string, unknown> | URLSearchParams;
  /** The answer the fake would give: a JSON-ready object (ECS, SSM), or the XML text (EC2). */
  output: unknown;
}

/** What replaces an answer: a status (200 when not given) and a raw body (the usual one when not given). */
export interface OddAnswer {
  status?: number;
  body?: string;
}

/** The listings that an endless token can keep going, and the name of their token in JSON. */
const LISTINGS: Record<string, string> = {
  ListClusters: 'nextToken',
  ListTasks: 'nextToken',
  DescribeInstanceInformation: 'NextToken',
  DescribeInstances: 'nextToken',
};

export interface Faults {
  /** Share (0..1) of calls answered with a 500. */
  failureRate: number;
  /** Every call answered with a 503. */
  outage: boolean;
  /** Delay before each answer. */
  latencyMs: number;
  /** Calls are held without an answer (a hung connection). */
  hang: boolean;
  /**
   * Picks calls by action, the account and region they are signed for, and the cluster of a
   * ListTasks, DescribeTasks or DescribeContainerInstances call: such a call is held
   * until the promise settles, then answered as usual (one that never settles: held as by `hang`).
   */
  gate: ((call: { action: string; account: string; region: string; cluster?: string }) => Promise<void> | undefined) | undefined;
  /** Token buckets by bucket name (see ACTION_BUCKETS), each account and region with its own, as in ECS; calls beyond them are throttled. */
  buckets: Record<string, TokenBucket>;
  /** Actions that always fail with a 500, whatever the rate. */
  failingActions: Set<string>;
  /** Clusters whose ListTasks and DescribeTasks are refused (AccessDeniedException), by name. */
  deniedClusters: Set<string>;
  /** By action: may replace an answer with a raw body or another status (undefined keeps it). */
  oddAnswers: Map<string, (call: AnswerCall) => OddAnswer | undefined>;
  /** By action: the calls whose body is sent one byte every `dripMs` (the headers at once). */
  dripBody: Map<string, (call: AnswerCall) => boolean>;
  dripMs: number;
  /** By action: the calls whose body never ends (the headers at once, then spaces as fast as they are read). */
  endlessBody: Map<string, (call: AnswerCall) => boolean>;
  /**
   * By listing action (ListClusters, ListTasks, DescribeInstances, DescribeInstanceInformation):
   * every page of the calls it picks (all when `only` is not given) has a next-page token, the
   * same one forever or always a new one.
   */
  endlessToken: Map<string, { token: 'same' | 'new'; only?: (call: AnswerCall) => boolean }>;
}

export interface CallRecord {
  action: string;
  /** The discoverer's round, as the fake counts them: first attempts of ListClusters (see onRound). */
  round: number;
  region?: string;
  /** The account whose credentials signed it (see FakeSts). */
  account?: string;
  outcome: 'ok' | 'throttled' | 'error';
  at: number;
  /** For ListTasks, DescribeTasks and DescribeContainerInstances: the cluster. */
  cluster?: string;
  /** The ARNs or ids asked for, for describe calls. */
  items?: string[];
}

/** AWS JSON 1.1 services by their X-Amz-Target prefix. */
const JSON_SERVICES = { 'AmazonEC2ContainerServiceV20141113.': 'ecs', 'AmazonSSM.': 'ssm' } as const;
type JsonService = (typeof JSON_SERVICES)[keyof typeof JSON_SERVICES];

/** The JSON service a request is for (its X-Amz-Target), or undefined for the query protocol (EC2). */
function jsonServiceOf(target: unknown): { service: JsonService; action: string } | undefined {
  if (typeof target !== 'string') return undefined;
  for (const [prefix, service] of Object.entries(JSON_SERVICES)) {
    if (target.startsWith(prefix)) return { service, action: target.slice(prefix.length) };
  }
  return undefined;
}

/** A well-formed EC2 instance id: EC2 rejects anything else, an ECS Anywhere `mi-` id included. */
const isEc2InstanceId = (id: string) => /^i-[0-9a-f]+$/.test(id);

const clusterArnOf = (fleet: FakeFleet, name: string) => `arn:aws:ecs:${fleet.region}:${fleet.accountId}:cluster/${name}`;

/** A cluster given as name or ARN. */
function findCluster(fleet: FakeFleet, ref: unknown): FakeCluster | undefined {
  const text = typeof ref === 'string' ? ref : 'default';
  const name = text.includes(':cluster/') ? text.slice(text.lastIndexOf('/') + 1) : text;
  return fleet.clusters.find((cluster) => cluster.name === name);
}

/** The actions whose calls name a cluster (CallRecord.cluster, AnswerCall.cluster). */
const CLUSTER_ACTIONS = new Set(['ListTasks', 'DescribeTasks', 'DescribeContainerInstances']);

/** The name of the cluster an ECS request body names; undefined when there is none such. */
function clusterOfBody(fleet: FakeFleet, body: string): string | undefined {
  try {
    return findCluster(fleet, (JSON.parse(body) as Record<string, unknown>)['cluster'])?.name;
  } catch {
    return undefined;
  }
}

class FakeError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

function page<T>(items: T[], token: unknown, maxResults: unknown, defaultSize: number) {
  const start = typeof token === 'string' && token !== '' ? Number(token) : 0;
  const size = typeof maxResults === 'number' && maxResults > 0 ? maxResults : defaultSize;
  const slice = items.slice(start, start + size);
  const next = start + size < items.length ? String(start + size) : undefined;
  return { slice, next };
}

const escapeXml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** What the real SDK needs to reach a fake at `url`: its endpoints, a region and throwaway credentials. */
export function sdkEnvFor(url: string): Record<string, string> {
  return {
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'AKIDFAKE',
    AWS_SECRET_ACCESS_KEY: 'fake-secret',
    AWS_ENDPOINT_URL_ECS: url,
    AWS_ENDPOINT_URL_EC2: url,
    AWS_ENDPOINT_URL_SSM: url,
    AWS_ENDPOINT_URL_STS: url,
    AWS_ENDPOINT_URL_SQS: url,
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

export class FakeAws {
  /** The fleet of the first region; others are in `regions`. */
  fleet: FakeFleet;
  /** Fleets by region: a request goes to the fleet of the region it is signed for. */
  readonly regions = new Map<string, FakeFleet>();
  /** Fleets of other accounts, by account and region: a request goes to the account its access key names (see FakeSts). */
  readonly accounts = new Map<string, Map<string, FakeFleet>>();
  /** AssumeRole and GetCallerIdentity; which roles are denied. */
  readonly sts = new FakeSts(() => this.fleet.accountId);
  readonly faults: Faults = {
    failureRate: 0,
    outage: false,
    latencyMs: 0,
    hang: false,
    gate: undefined,
    buckets: {},
    failingActions: new Set(),
    deniedClusters: new Set(),
    oddAnswers: new Map(),
    dripBody: new Map(),
    dripMs: 1000,
    endlessBody: new Map(),
    endlessToken: new Map(),
  };
  readonly calls: CallRecord[] = [];
  /** The SQS queue of ECS events (AWS JSON 1.0, `AmazonSQS.*`): see fakeSqs.ts, and fleetEvents.ts for the events. */
  readonly sqs: FakeSqs;
  #server: Server | undefined;
  #tokens = new Map<string, { tokens: number; at: number }>();
  #random: () => number;
  #held = new Set<ServerResponse>();
  /** Answers being dripped or streamed without end. */
  #streaming = new Set<ServerResponse>();
  #tokensIssued = 0;
  #round = 0;
  readonly #roundChanges = new Map<number, (() => void)[]>();
  readonly #requestListeners: (() => void)[] = [];

  constructor(fleet: FakeFleet, { random = Math.random }: { random?: () => number } = {}) {
    this.fleet = fleet;
    this.#random = random;
    this.sqs = new FakeSqs({ accountId: fleet.accountId, region: fleet.region, endpoint: () => this.url });
  }

  /** Adds a fleet, of the default account or another, in its region. */
  addFleet(fleet: FakeFleet): void {
    if (fleet.accountId === this.fleet.accountId) this.regions.set(fleet.region, fleet);
    else this.accounts.set(fleet.accountId, (this.accounts.get(fleet.accountId) ?? new Map<string, FakeFleet>()).set(fleet.region, fleet));
  }

  /** The fleet of the account whose key signed the request, in the region of its SigV4 credential scope. */
  #fleetOf(request: IncomingMessage): FakeFleet {
    const region = /Credential=[^/]+\/\d+\/([^/]+)\//.exec(request.headers.authorization ?? '')?.[1];
    const account = this.sts.accountOf(request);
    const empty = (accountId: string, named: string): FakeFleet =>
      ({ accountId, region: named, clusters: [], taskDefinitions: new Map(), instances: new Map(), managedInstances: new Map() });
    if (account !== this.fleet.accountId) return this.accounts.get(account)?.get(region ?? this.fleet.region) ?? empty(account, region ?? this.fleet.region);
    if (region === undefined || region === this.fleet.region) return this.fleet;
    return this.regions.get(region) ?? empty(this.fleet.accountId, region);
  }

  /**
   * Starts listening on 127.0.0.1 (a free port); returns the endpoint URL. With `tls` (PEM texts),
   * over HTTPS as AWS answers: the client must trust the certificate (NODE_EXTRA_CA_CERTS).
   */
  async start({ tls }: { tls?: { cert: string; key: string } } = {}): Promise<string> {
    const handle = (request: IncomingMessage, response: ServerResponse) => void this.#handle(request, response);
    this.#server = tls === undefined ? createServer(handle) : createHttpsServer(tls, handle);
    this.#server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    return this.url;
  }

  get url(): string {
    const address = this.#server?.address() as AddressInfo;
    return `${this.#server instanceof HttpsServer ? 'https' : 'http'}://127.0.0.1:${address.port}`;
  }

  async stop(): Promise<void> {
    this.sqs.stop();
    for (const response of [...this.#held, ...this.#streaming]) response.destroy();
    this.#held.clear();
    this.#streaming.clear();
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }

  /**
   * Runs `change` when round `round` begins, before its first call is answered. A round begins
   * with the first attempt of ListClusters (every round lists the clusters first; retries do
   * not count), so a change lands between two rounds whatever the speed of the machine.
   * Meant for fakes of one region: with several, each round lists once per region.
   */
  onRound(round: number, change: () => void): void {
    this.#roundChanges.set(round, [...(this.#roundChanges.get(round) ?? []), change]);
  }

  /**
   * Holds every AWS call but SQS's from the start of round `round` (its ListClusters) until the
   * returned function is called: a test then reads what round `round - 1` published before the
   * next round can change it, however slow the machine. A gate set before it still applies, to
   * held calls too, once released.
   */
  holdFromRound(round: number): () => void {
    let open!: () => void;
    let released = false;
    const opened = new Promise<void>((resolve) => (open = resolve));
    const other = this.faults.gate;
    const gate: Faults['gate'] = (call) => (!released && this.#round >= round ? opened.then(() => other?.(call)) : other?.(call));
    this.faults.gate = gate;
    return () => {
      released = true;
      // A gate set after this one stays.
      if (this.faults.gate === gate) this.faults.gate = other;
      open();
    };
  }

  /** Calls `listener` as each request arrives, before anything else (the benchmark's idle memory). */
  onRequest(listener: () => void): void {
    this.#requestListeners.push(listener);
  }

  /** The rounds that have begun so far. */
  get round(): number {
    return this.#round;
  }

  /** The calls of one round (see onRound). */
  callsOfRound(round: number): CallRecord[] {
    return this.calls.filter((call) => call.round === round);
  }

  /** Number of calls per action (every outcome), optionally since a call index. */
  countCalls(since = 0): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const call of this.calls.slice(since)) counts[call.action] = (counts[call.action] ?? 0) + 1;
    return counts;
  }

  /** Requests held without an answer (faults.hang, faults.gate). */
  get heldRequests(): number {
    return this.#held.size;
  }

  /** Answers being dripped or streamed without end right now. */
  get streamingAnswers(): number {
    return this.#streaming.size;
  }

  /** Refills every token bucket (as after a long quiet period). */
  refillBuckets(): void {
    this.#tokens.clear();
  }

  #takeToken(action: string, fleet: FakeFleet): boolean {
    const bucketName = ACTION_BUCKETS[action];
    const bucket = bucketName === undefined ? undefined : this.faults.buckets[bucketName];
    if (bucket === undefined || bucketName === undefined) return true;
    const now = performance.now();
    const key = `${fleet.accountId} ${fleet.region} ${bucketName}`;
    const state = this.#tokens.get(key) ?? { tokens: bucket.burst, at: now };
    state.tokens = Math.min(bucket.burst, state.tokens + ((now - state.at) / 1000) * bucket.perSecond);
    state.at = now;
    this.#tokens.set(key, state);
    if (state.tokens < 1) return false;
    state.tokens -= 1;
    return true;
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    for (const listener of this.#requestListeners) listener();
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const sqsAction = /^AmazonSQS\.(\w+)$/.exec(String(request.headers['x-amz-target'] ?? ''))?.[1];
    if (sqsAction !== undefined) {
      await this.#answerSqs(sqsAction, body, response);
      return;
    }
    const json = jsonServiceOf(request.headers['x-amz-target']);
    const isEcs = json !== undefined;
    const sts = !isEcs && isStsRequest(request);
    const form = isEcs ? undefined : new URLSearchParams(body);
    const action = json?.action ?? form?.get('Action') ?? 'Unknown';
    const attempt = /attempt=(\d+)/.exec(String(request.headers['amz-sdk-request'] ?? ''))?.[1] ?? '1';
    if (action === 'ListClusters' && attempt === '1') {
      this.#round += 1;
      for (const change of this.#roundChanges.get(this.#round) ?? []) change();
    }
    const round = this.#round;

    const fleet = this.#fleetOf(request);
    // A hung call is one whose gate never opens.
    const gate = this.faults.hang
      ? new Promise<void>(() => {})
      : this.faults.gate?.({ action, account: fleet.accountId, region: fleet.region, ...(isEcs && CLUSTER_ACTIONS.has(action) && { cluster: clusterOfBody(fleet, body) }) });
    if (gate !== undefined) {
      const release = () => this.#held.delete(response);
      this.#held.add(response);
      response.on('close', release);
      await gate;
      release();
      response.off('close', release);
      if (response.destroyed) return;
    }
    if (this.faults.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.faults.latencyMs));

    const record: CallRecord = { action, round, outcome: 'ok', at: Date.now() };
    this.calls.push(record);
    try {
      if (this.faults.outage) throw new FakeError(503, 'ServiceUnavailableException', 'Service unavailable (fake outage)');
      if (!this.#takeToken(action, fleet)) {
        record.outcome = 'throttled';
        throw isEcs
          ? new FakeError(400, 'ThrottlingException', 'Rate exceeded')
          : new FakeError(503, 'RequestLimitExceeded', 'Request limit exceeded.');
      }
      if (this.faults.failingActions.has(action) || this.#random() < this.faults.failureRate) {
        throw new FakeError(500, isEcs ? 'ServerException' : 'InternalError', 'Internal failure (fake fault)');
      }
      record.region = fleet.region;
      record.account = fleet.accountId;
      let call: AnswerCall;
      let text: string;
      if (json !== undefined) {
        const input = JSON.parse(body === '' ? '{}' : body) as Record<string, unknown>;
        const output = json.service === 'ecs' ? this.#ecs(fleet, action, input, record) : this.#ssm(fleet, action, input, record);
        call = { action, input, output, ...(record.cluster !== undefined && { cluster: record.cluster }) };
        this.#keepListing(call);
        text = JSON.stringify(output);
      } else {
        const input = form ?? new URLSearchParams();
        if (sts && action === 'AssumeRole') record.items = [input.get('RoleArn') ?? ''];
        const xml = sts ? this.sts.answer(action, input, request) : this.#ec2(fleet, action, input, record);
        call = { action, input, output: xml };
        const token = this.#endlessTokenOf(call);
        text = token === undefined ? xml : xml.replace(/<\/DescribeInstancesResponse>$/, `<nextToken>${token}</nextToken>$&`);
        call.output = text;
      }
      const odd = this.faults.oddAnswers.get(action)?.(call);
      const status = odd?.status ?? 200;
      if (status >= 400) record.outcome = 'error';
      response.writeHead(status, { 'content-type': isEcs ? 'application/x-amz-json-1.1' : 'text/xml;charset=UTF-8' });
      this.#send(response, call, odd?.body ?? text);
    } catch (error) {
      if (record.outcome === 'ok') record.outcome = 'error';
      const fault = error instanceof FakeError || error instanceof StsFault ? error : new FakeError(500, 'InternalError', String(error));
      if (sts) {
        response.writeHead(fault.status, { 'content-type': 'text/xml' });
        response.end(stsErrorXml(fault.type, fault.message));
      } else if (isEcs) {
        response.writeHead(fault.status, { 'content-type': 'application/x-amz-json-1.1' });
        response.end(JSON.stringify({ __type: fault.type, message: fault.message }));
      } else {
        response.writeHead(fault.status, { 'content-type': 'text/xml;charset=UTF-8' });
        response.end(
          `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>${fault.type}</Code><Message>${escapeXml(fault.message)}</Message></Error></Errors><RequestID>fake</RequestID></Response>`,
        );
      }
    }
  }

  /** SQS (AWS JSON 1.0): the queue's own faults, not the ECS ones; each call is recorded, long polls when they start. */
  async #answerSqs(action: string, body: string, response: ServerResponse): Promise<void> {
    const record: CallRecord = { action, round: this.#round, outcome: 'ok', at: Date.now() };
    this.calls.push(record);
    let input: Record<string, unknown>;
    try {
      input = JSON.parse(body === '' ? '{}' : body) as Record<string, unknown>;
    } catch {
      input = {};
    }
    const answer = await this.sqs.handle(action, input);
    record.outcome = answer.outcome;
    if (response.destroyed) return;
    response.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.0', ...answer.headers });
    response.end(answer.body);
  }

  /** The next-page token an endless listing answers, if this call's listing is made endless. */
  #endlessTokenOf(call: AnswerCall): string | undefined {
    const endless = this.faults.endlessToken.get(call.action);
    if (endless === undefined || LISTINGS[call.action] === undefined || !(endless.only?.(call) ?? true)) return undefined;
    this.#tokensIssued += 1;
    return endless.token === 'same' ? 'endless' : `endless-${this.#tokensIssued}`;
  }

  #keepListing(call: AnswerCall): void {
    const token = this.#endlessTokenOf(call);
    const name = LISTINGS[call.action];
    if (token !== undefined && name !== undefined) (call.output as Record<string, unknown>)[name] = token;
  }

  /** Sends a body at once, dripped, or without end, as the switches say. */
  #send(response: ServerResponse, call: AnswerCall, text: string): void {
    const drip = this.faults.dripBody.get(call.action)?.(call) ?? false;
    const endless = this.faults.endlessBody.get(call.action)?.(call) ?? false;
    if (!drip && !endless) {
      response.end(text);
      return;
    }
    this.#streaming.add(response);
    response.on('error', () => {});
    // Node holds the headers back until the first write: a slow body must not look like slow headers.
    response.flushHeaders();
    if (endless) {
      const spaces = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (!response.destroyed && response.write(spaces));
      };
      response.on('drain', pump);
      response.on('close', () => this.#streaming.delete(response));
      pump();
      return;
    }
    const bytes = Buffer.from(text);
    let sent = 0;
    const timer = setInterval(() => {
      if (sent >= bytes.length) {
        clearInterval(timer);
        response.end();
        return;
      }
      response.write(bytes.subarray(sent, sent + 1));
      sent += 1;
    }, this.faults.dripMs);
    response.on('close', () => {
      clearInterval(timer);
      this.#streaming.delete(response);
    });
  }

  #ecs(fleet: FakeFleet, action: string, input: Record<string, unknown>, record: CallRecord): unknown {
    switch (action) {
      case 'ListClusters': {
        const arns = fleet.clusters.map((cluster) => clusterArnOf(fleet, cluster.name));
        const { slice, next } = page(arns, input['nextToken'], input['maxResults'], 100);
        return { clusterArns: slice, ...(next && { nextToken: next }) };
      }
      case 'ListTasks': {
        const cluster = findCluster(fleet, input['cluster']);
        record.cluster = cluster?.name;
        if (!cluster) throw new FakeError(400, 'ClusterNotFoundException', 'Cluster not found.');
        this.#refuseDenied(cluster, action);
        const wanted = typeof input['desiredStatus'] === 'string' ? input['desiredStatus'] : 'RUNNING';
        const arns = cluster.tasks
          .filter((task) => (task.desiredStatus ?? 'RUNNING') === wanted)
          .map((task) => task.taskArn as string);
        const { slice, next } = page(arns, input['nextToken'], input['maxResults'], 100);
        return { taskArns: slice, ...(next && { nextToken: next }) };
      }
      case 'DescribeTasks': {
        const cluster = findCluster(fleet, input['cluster']);
        const wanted = Array.isArray(input['tasks']) ? (input['tasks'] as string[]) : [];
        record.cluster = cluster?.name;
        record.items = wanted;
        if (!cluster) throw new FakeError(400, 'ClusterNotFoundException', 'Cluster not found.');
        this.#refuseDenied(cluster, action);
        if (wanted.length > 100) throw new FakeError(400, 'InvalidParameterException', 'Tasks cannot be more than 100.');
        const withTags = Array.isArray(input['include']) && input['include'].includes('TAGS');
        const tasks: Task[] = [];
        const failures: { arn: string; reason: string }[] = [];
        for (const arn of wanted) {
          const task = cluster.tasks.find((candidate) => candidate.taskArn === arn);
          if (task) tasks.push(withTags ? task : { ...task, tags: undefined });
          else failures.push({ arn, reason: 'MISSING' });
        }
        return { tasks, failures };
      }
      case 'DescribeTaskDefinition': {
        const arn = String(input['taskDefinition']);
        record.items = [arn];
        const definition = fleet.taskDefinitions.get(arn);
        if (!definition) throw new FakeError(400, 'ClientException', 'Unable to describe task definition.');
        return { taskDefinition: definition };
      }
      case 'DescribeClusters': {
        const wanted = Array.isArray(input['clusters']) ? (input['clusters'] as string[]) : ['default'];
        if (wanted.length > 100) throw new FakeError(400, 'InvalidParameterException', 'clusters cannot be more than 100.');
        record.items = wanted;
        const withTags = Array.isArray(input['include']) && input['include'].includes('TAGS');
        const clusters = [];
        const failures = [];
        for (const ref of wanted) {
          const cluster = findCluster(fleet, ref);
          if (cluster === undefined) {
            failures.push({ arn: ref, reason: 'MISSING' });
            continue;
          }
          clusters.push({
            clusterArn: clusterArnOf(fleet, cluster.name),
            clusterName: cluster.name,
            status: 'ACTIVE',
            runningTasksCount: cluster.tasks.length,
            ...(withTags && { tags: Object.entries(cluster.tags ?? {}).map(([key, value]) => ({ key, value })) }),
          });
        }
        return { clusters, failures };
      }
      case 'DescribeContainerInstances': {
        const cluster = findCluster(fleet, input['cluster']);
        const wanted = Array.isArray(input['containerInstances']) ? (input['containerInstances'] as string[]) : [];
        record.cluster = cluster?.name;
        record.items = wanted;
        if (!cluster) throw new FakeError(400, 'ClusterNotFoundException', 'Cluster not found.');
        if (wanted.length > 100) {
          throw new FakeError(400, 'InvalidParameterException', 'containerInstances cannot be more than 100.');
        }
        const containerInstances = [];
        const failures = [];
        for (const arn of wanted) {
          const instance = cluster.containerInstances.find((candidate) => candidate.arn === arn);
          if (instance) {
            containerInstances.push({ containerInstanceArn: instance.arn, ec2InstanceId: instance.ec2InstanceId, status: 'ACTIVE' });
          } else {
            failures.push({ arn, reason: 'MISSING' });
          }
        }
        return { containerInstances, failures };
      }
      default:
        throw new FakeError(400, 'UnknownOperationException', `fake ECS does not know ${action}`);
    }
  }

  #refuseDenied(cluster: FakeCluster, action: string): void {
    if (this.faults.deniedClusters.has(cluster.name)) {
      throw new FakeError(
        400,
        'AccessDeniedException',
        `User: arn:aws:sts::123456789012:assumed-role/discoverer is not authorized to perform: ecs:${action} on resource: ${cluster.name}`,
      );
    }
  }

  /** SSM's DescribeInstanceInformation, for ECS Anywhere hosts: filter InstanceIds, 5..50 per page. */
  #ssm(fleet: FakeFleet, action: string, input: Record<string, unknown>, record: CallRecord): unknown {
    if (action !== 'DescribeInstanceInformation') throw new FakeError(400, 'UnknownOperationException', `fake SSM does not know ${action}`);
    const maxResults = input['MaxResults'] ?? 10;
    if (typeof maxResults !== 'number' || maxResults < 5 || maxResults > 50) {
      throw new FakeError(400, 'ValidationException', '1 validation error detected: Value at \'maxResults\' failed to satisfy constraint: Member must have value less than or equal to 50');
    }
    const filters = Array.isArray(input['Filters']) ? (input['Filters'] as { Key?: string; Values?: string[] }[]) : [];
    const wanted = filters.find((filter) => filter.Key === 'InstanceIds')?.Values;
    const ids = wanted ?? [...fleet.managedInstances.keys()];
    record.items = ids;
    const found = ids.filter((id) => fleet.managedInstances.has(id));
    const { slice, next } = page(found, input['NextToken'], maxResults, 10);
    return {
      InstanceInformationList: slice.map((id) => ({
        InstanceId: id,
        PingStatus: 'Online',
        ResourceType: 'ManagedInstance',
        PlatformType: 'Linux',
        ...(fleet.managedInstances.get(id)?.ip && { IPAddress: fleet.managedInstances.get(id)?.ip }),
      })),
      ...(next && { NextToken: next }),
    };
  }

  #ec2(fleet: FakeFleet, action: string, form: URLSearchParams, record: CallRecord): string {
    if (action !== 'DescribeInstances') throw new FakeError(400, 'InvalidAction', `fake EC2 does not know ${action}`);
    const ids: string[] = [];
    for (const [key, value] of form) {
      if (/^InstanceId\.\d+$/.test(key)) ids.push(value);
    }
    for (let filter = 1; form.has(`Filter.${filter}.Name`); filter++) {
      if (form.get(`Filter.${filter}.Name`) !== 'instance-id') {
        throw new FakeError(400, 'InvalidParameterValue', `fake EC2 only filters by instance-id`);
      }
      for (let value = 1; form.has(`Filter.${filter}.Value.${value}`); value++) ids.push(form.get(`Filter.${filter}.Value.${value}`) as string);
    }
    record.items = ids;
    if (ids.length > 200) throw new FakeError(400, 'InvalidParameterValue', 'The filter values list is too long.');
    const malformed = ids.find((id) => !isEc2InstanceId(id));
    if (malformed !== undefined) throw new FakeError(400, 'InvalidInstanceID.Malformed', `Invalid id: "${malformed}"`);
    const items = ids
      .filter((id) => fleet.instances.has(id))
      .map((id) => {
        const instance = fleet.instances.get(id) as FakeInstance;
        return `<item><instanceId>${escapeXml(id)}</instanceId>${
          instance.instanceType ? `<instanceType>${escapeXml(instance.instanceType)}</instanceType>` : ''
        }${instance.privateIp ? `<privateIpAddress>${escapeXml(instance.privateIp)}</privateIpAddress>` : ''}${
          instance.ipv6 ? `<ipv6Address>${escapeXml(instance.ipv6)}</ipv6Address>` : ''
        }${instance.publicIp ? `<ipAddress>${escapeXml(instance.publicIp)}</ipAddress>` : ''}${
          instance.subnetId ? `<subnetId>${escapeXml(instance.subnetId)}</subnetId>` : ''
        }${
          instance.tags
            ? `<tagSet>${Object.entries(instance.tags).map(([key, value]) => `<item><key>${escapeXml(key)}</key><value>${escapeXml(value)}</value></item>`).join('')}</tagSet>`
            : ''
        }</item>`;
      });
    const reservations = items.map(
      (item, index) => `<item><reservationId>r-${index}</reservationId><instancesSet>${item}</instancesSet></item>`,
    );
    return `<?xml version="1.0" encoding="UTF-8"?><DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>fake</requestId><reservationSet>${reservations.join('')}</reservationSet></DescribeInstancesResponse>`;
  }
}
