import { createHash } from 'node:crypto';

/**
 * A wire-level fake of one SQS queue, in the AWS JSON 1.0 protocol that the SDK speaks
 * (`X-Amz-Target: AmazonSQS.<Action>`): ReceiveMessage (long polls that answer as soon as a
 * message arrives), DeleteMessageBatch and GetQueueAttributes, with the shapes, error types and
 * `x-amzn-query-error` codes of the SQS API reference. FakeAws routes SQS requests here.
 * Faults: an outage, and what EventBridge may do to events (lose, duplicate, reorder), drawn
 * from a seeded generator so that a run can be replayed.
 */

export interface SqsFaults {
  /** Every call answers 503. */
  outage: boolean;
  /** Shares (0..1) of the messages sent with faults that are lost, sent twice, or held back until after the next one. */
  lossRate: number;
  duplicationRate: number;
  reorderRate: number;
}

/** An SQS answer: status, JSON body, and the headers of an error. */
export interface SqsAnswer {
  status: number;
  body: string;
  headers?: Record<string, string>;
  /** What the call record says. */
  outcome: 'ok' | 'error';
}

interface StoredMessage {
  id: string;
  body: string;
  md5: string;
  /** Receipts so far: the receipt handle names the latest. */
  receipts: number;
  /** Hidden until then (ms), after a receipt. */
  visibleAt: number;
}

/** A waiting long poll: woken by a message, its wait's end, or stop(). */
interface Waiter {
  wake: () => void;
}

class SqsError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly queryCode: string,
    message: string,
  ) {
    super(message);
  }
}

const md5Of = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');

/** A seeded generator (mulberry32): the same faults every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** GetQueueAttributes names the fake answers for 'All'. */
const ATTRIBUTE_NAMES = [
  'QueueArn',
  'VisibilityTimeout',
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ReceiveMessageWaitTimeSeconds',
  'MessageRetentionPeriod',
  'MaximumMessageSize',
  'DelaySeconds',
  'CreatedTimestamp',
  'LastModifiedTimestamp',
];

export interface FakeSqsOptions {
  accountId: string;
  region: string;
  /** The fake's endpoint URL (known once it listens). */
  endpoint: () => string;
  /** @default 'ecs-events' */
  name?: string;
  /** @default seededRandom(19) */
  random?: () => number;
}

export class FakeSqs {
  readonly faults: SqsFaults = { outage: false, lossRate: 0, duplicationRate: 0, reorderRate: 0 };
  /** How long a received message stays hidden unless deleted, as the queue's attribute says. */
  visibilityTimeoutSeconds = 30;
  /** Messages sent with faults, and what became of them. */
  readonly sent = { total: 0, lost: 0, duplicated: 0, reordered: 0 };
  readonly #options: FakeSqsOptions;
  readonly #name: string;
  readonly #random: () => number;
  readonly #messages = new Map<string, StoredMessage>();
  readonly #waiters = new Set<Waiter>();
  readonly #timers = new Set<NodeJS.Timeout>();
  /** A message held back, sent after the next one (reordering). */
  #held: string | undefined;
  #nextId = 0;
  #stopped = false;
  readonly #createdAt = Math.floor(Date.now() / 1000);

  constructor(options: FakeSqsOptions) {
    this.#options = options;
    this.#name = options.name ?? 'ecs-events';
    this.#random = options.random ?? seededRandom(19);
  }

  get queueUrl(): string {
    return `${this.#options.endpoint()}/${this.#options.accountId}/${this.#name}`;
  }

  get queueArn(): string {
    return `arn:aws:sqs:${this.#options.region}:${this.#options.accountId}:${this.#name}`;
  }

  /** Messages not deleted yet (visible or not). */
  get size(): number {
    return this.#messages.size;
  }

  /**
   * Sends a message as EventBridge delivers one. With `faults`, the loss, duplication and
   * reordering rates apply (each drawn from the seeded generator).
   */
  send(body: string, { faults = true }: { faults?: boolean } = {}): void {
    if (!faults) {
      this.#store(body);
      return;
    }
    this.sent.total += 1;
    if (this.#random() < this.faults.lossRate) {
      this.sent.lost += 1;
      return;
    }
    const duplicate = this.#random() < this.faults.duplicationRate;
    const holdBack = this.#held === undefined && this.#random() < this.faults.reorderRate;
    if (holdBack) {
      this.sent.reordered += 1;
      this.#held = body;
    } else {
      this.#store(body);
      this.#releaseHeld();
    }
    if (duplicate) {
      this.sent.duplicated += 1;
      this.#store(body);
    }
  }

  /** Turns the outage on or off; long polls waiting now answer as the queue then does. */
  setOutage(outage: boolean): void {
    this.faults.outage = outage;
    this.#wakeAll();
  }

  /** Sends the message held back for reordering, if any (when no other message follows it). */
  flushHeld(): void {
    this.#releaseHeld();
  }

  /** Ends every waiting long poll (with no message) and forgets timers: the fake is stopping. */
  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    for (const waiter of [...this.#waiters]) waiter.wake();
  }

  /** Answers one SQS request. A ReceiveMessage with nothing to receive waits, as SQS does. */
  async handle(action: string, input: Record<string, unknown>): Promise<SqsAnswer> {
    try {
      if (this.faults.outage) throw new SqsError(503, 'ServiceUnavailable', 'ServiceUnavailable;Server', 'Service unavailable (fake outage)');
      if (input['QueueUrl'] !== this.queueUrl) {
        throw new SqsError(400, 'QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue;Sender', 'The specified queue does not exist.');
      }
      switch (action) {
        case 'ReceiveMessage':
          return this.#ok(await this.#receive(input));
        case 'DeleteMessageBatch':
          return this.#ok(this.#deleteBatch(input));
        case 'GetQueueAttributes':
          return this.#ok(this.#attributes(input));
        default:
          throw new SqsError(400, 'UnsupportedOperation', 'AWS.SimpleQueueService.UnsupportedOperation;Sender', `fake SQS does not know ${action}`);
      }
    } catch (error) {
      const fault = error instanceof SqsError ? error : new SqsError(500, 'InternalError', 'InternalError;Server', String(error));
      return {
        status: fault.status,
        body: JSON.stringify({ __type: `com.amazonaws.sqs#${fault.type}`, message: fault.message }),
        headers: { 'x-amzn-query-error': fault.queryCode },
        outcome: 'error',
      };
    }
  }

  #ok(output: unknown): SqsAnswer {
    return { status: 200, body: JSON.stringify(output), outcome: 'ok' };
  }

  #store(body: string): void {
    this.#nextId += 1;
    const id = `00000000-0000-4000-8000-${this.#nextId.toString(16).padStart(12, '0')}`;
    this.#messages.set(id, { id, body, md5: md5Of(body), receipts: 0, visibleAt: 0 });
    this.#wakeAll();
  }

  #releaseHeld(): void {
    const held = this.#held;
    if (held === undefined) return;
    this.#held = undefined;
    this.#store(held);
  }

  #wakeAll(): void {
    for (const waiter of [...this.#waiters]) waiter.wake();
  }

  #visible(now: number): StoredMessage[] {
    return [...this.#messages.values()].filter((message) => message.visibleAt <= now);
  }

  async #receive(input: Record<string, unknown>): Promise<unknown> {
    const max = input['MaxNumberOfMessages'] ?? 1;
    const wait = input['WaitTimeSeconds'] ?? 0;
    if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > 10) {
      throw new SqsError(400, 'InvalidParameterValue', 'InvalidParameterValue;Sender', `Value ${JSON.stringify(max)} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.`);
    }
    if (typeof wait !== 'number' || !Number.isInteger(wait) || wait < 0 || wait > 20) {
      throw new SqsError(400, 'InvalidParameterValue', 'InvalidParameterValue;Sender', `Value ${JSON.stringify(wait)} for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.`);
    }
    const deadline = Date.now() + wait * 1000;
    let visible = this.#visible(Date.now());
    // A long poll answers as soon as a message is there, or when its wait is over.
    while (visible.length === 0 && Date.now() < deadline && !this.#stopped) {
      await new Promise<void>((resolve) => {
        const waiter: Waiter = {
          wake: () => {
            clearTimeout(timer);
            this.#timers.delete(timer);
            this.#waiters.delete(waiter);
            resolve();
          },
        };
        const timer = setTimeout(() => waiter.wake(), Math.max(0, Math.min(deadline, this.#nextVisibleAt()) - Date.now()));
        this.#timers.add(timer);
        this.#waiters.add(waiter);
      });
      if (this.faults.outage) throw new SqsError(503, 'ServiceUnavailable', 'ServiceUnavailable;Server', 'Service unavailable (fake outage)');
      visible = this.#visible(Date.now());
    }
    const now = Date.now();
    const chosen = visible.slice(0, max);
    for (const message of chosen) {
      message.receipts += 1;
      message.visibleAt = now + this.visibilityTimeoutSeconds * 1000;
    }
    if (chosen.length === 0) return {};
    return {
      Messages: chosen.map((message) => ({
        MessageId: message.id,
        ReceiptHandle: `${message.id}#${message.receipts}`,
        MD5OfBody: message.md5,
        Body: message.body,
      })),
    };
  }

  /** When the next hidden message shows again (a receipt not deleted in time). */
  #nextVisibleAt(): number {
    let next = Infinity;
    for (const message of this.#messages.values()) if (message.visibleAt > Date.now()) next = Math.min(next, message.visibleAt);
    return next;
  }

  #deleteBatch(input: Record<string, unknown>): unknown {
    const entries = Array.isArray(input['Entries']) ? (input['Entries'] as { Id?: unknown; ReceiptHandle?: unknown }[]) : [];
    if (entries.length === 0) throw new SqsError(400, 'EmptyBatchRequest', 'AWS.SimpleQueueService.EmptyBatchRequest;Sender', 'There should be at least one DeleteMessageBatchRequestEntry in the request.');
    if (entries.length > 10) {
      throw new SqsError(400, 'TooManyEntriesInBatchRequest', 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest;Sender', `Maximum number of entries per request are 10. You have sent ${entries.length}.`);
    }
    const ids = entries.map((entry) => entry.Id);
    if (ids.some((id) => typeof id !== 'string' || !/^[A-Za-z0-9_-]{1,80}$/.test(id))) {
      throw new SqsError(400, 'InvalidBatchEntryId', 'AWS.SimpleQueueService.InvalidBatchEntryId;Sender', 'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.');
    }
    if (new Set(ids).size !== ids.length) {
      throw new SqsError(400, 'BatchEntryIdsNotDistinct', 'AWS.SimpleQueueService.BatchEntryIdsNotDistinct;Sender', 'Two or more batch entries in the request have the same Id.');
    }
    const successful: { Id: string }[] = [];
    const failed: { Id: string; SenderFault: boolean; Code: string; Message: string }[] = [];
    for (const entry of entries) {
      const handle = typeof entry.ReceiptHandle === 'string' ? entry.ReceiptHandle : '';
      const id = /^(.+)#\d+$/.exec(handle)?.[1];
      if (id === undefined) {
        failed.push({ Id: entry.Id as string, SenderFault: true, Code: 'ReceiptHandleIsInvalid', Message: `The input receipt handle "${handle}" is not a valid receipt handle.` });
        continue;
      }
      // As SQS: a handle of a message already deleted deletes nothing, and says so by success.
      this.#messages.delete(id);
      successful.push({ Id: entry.Id as string });
    }
    return { Successful: successful, Failed: failed };
  }

  #attributes(input: Record<string, unknown>): unknown {
    const asked = Array.isArray(input['AttributeNames']) ? (input['AttributeNames'] as unknown[]) : [];
    const names = asked.includes('All') ? ATTRIBUTE_NAMES : asked;
    const unknown = names.find((name) => typeof name !== 'string' || !ATTRIBUTE_NAMES.includes(name));
    if (unknown !== undefined) throw new SqsError(400, 'InvalidAttributeName', 'InvalidAttributeName;Sender', `Unknown Attribute ${JSON.stringify(unknown)}.`);
    const now = Date.now();
    const visible = this.#visible(now).length;
    const values: Record<string, string> = {
      QueueArn: this.queueArn,
      VisibilityTimeout: String(this.visibilityTimeoutSeconds),
      ApproximateNumberOfMessages: String(visible),
      ApproximateNumberOfMessagesNotVisible: String(this.#messages.size - visible),
      ReceiveMessageWaitTimeSeconds: '0',
      MessageRetentionPeriod: '345600',
      MaximumMessageSize: '262144',
      DelaySeconds: '0',
      CreatedTimestamp: String(this.#createdAt),
      LastModifiedTimestamp: String(this.#createdAt),
    };
    return names.length === 0 ? {} : { Attributes: Object.fromEntries((names as string[]).map((name) => [name, values[name] as string])) };
  }
}
