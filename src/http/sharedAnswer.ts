import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';

const gzipAsync = promisify(gzip);

/** Below this, gzip saves too little to be worth the header. */
const GZIP_MIN_BYTES = 1024;

/**
 * One answer of a snapshot (a /targets body), built once and sent as is to every client that
 * asks: one Buffer, and its gzip made on the first request that accepts gzip. Sending it never
 * copies it: a client that does not read holds a reference to this buffer, not a copy.
 */
export class SharedAnswer {
  readonly body: Buffer;
  readonly contentType: string;
  /** Strong ETag of the body; the gzip one has `-gzip` added (another representation). */
  readonly etag: string;
  readonly gzipEtag: string;
  #gzipped: Promise<Buffer> | undefined;

  constructor(content: string | Buffer, contentType: string) {
    this.body = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    this.contentType = contentType;
    const digest = createHash('sha256').update(this.body).digest('base64url').slice(0, 27);
    this.etag = `"${digest}"`;
    this.gzipEtag = `"${digest}-gzip"`;
  }

  get text(): string {
    return this.body.toString('utf8');
  }

  /** The gzip of the body, compressed once (off the main thread, by zlib's thread pool). */
  gzipped(): Promise<Buffer> {
    this.#gzipped ??= gzipAsync(this.body).catch((error: unknown) => {
      this.#gzipped = undefined;
      throw error;
    });
    return this.#gzipped;
  }

  get compressible(): boolean {
    return this.body.length >= GZIP_MIN_BYTES;
  }
}

/** Whether `Accept-Encoding` accepts gzip (`gzip`, `x-gzip` or `*`, with a q-value above 0). */
export function acceptsGzip(header: string | undefined): boolean {
  if (header === undefined) return false;
  let star: boolean | undefined;
  for (const part of header.split(',')) {
    const [coding = '', ...parameters] = part.split(';').map((text) => text.trim().toLowerCase());
    const q = parameters.find((parameter) => parameter.startsWith('q='));
    const accepted = q === undefined || Number(q.slice(2)) > 0;
    if (coding === 'gzip' || coding === 'x-gzip') return accepted;
    if (coding === '*') star = accepted;
  }
  return star ?? false;
}

/** Whether `If-None-Match` names this answer (weak comparison, as RFC 9110 asks for it), or is `*`. */
export function matchesIfNoneMatch(header: string | undefined, answer: SharedAnswer): boolean {
  if (header === undefined) return false;
  return header.split(',').some((tag) => {
    const trimmed = tag.trim().replace(/^W\//, '');
    return trimmed === '*' || trimmed === answer.etag || trimmed === answer.gzipEtag;
  });
}

/**
 * Resolves once the response may be written: at once, or, for a request pipelined behind an
 * answer still being sent on the same connection, when that one is done (false when the
 * connection closed first). Until then nothing of this answer is held for it.
 */
export function whenWritable(request: IncomingMessage, response: ServerResponse): Promise<boolean> {
  if (response.socket !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onSocket = () => {
      request.off('close', onClose);
      resolve(true);
    };
    const onClose = () => {
      response.off('socket', onSocket);
      resolve(false);
    };
    response.once('socket', onSocket);
    request.once('close', onClose);
  });
}

/**
 * Sends a shared answer: gzip when the client accepts it, `304` when If-None-Match names it,
 * `Vary: Accept-Encoding` always. A connection that still has a previous answer unsent (its
 * client stopped reading) is dropped rather than given a second one to hold.
 */
export async function sendSharedAnswer(request: IncomingMessage, response: ServerResponse, answer: SharedAnswer, head: boolean): Promise<void> {
  if (!(await whenWritable(request, response))) return;
  const gzipped = answer.compressible && acceptsGzip(request.headers['accept-encoding']);
  response.setHeader('vary', 'Accept-Encoding');
  response.setHeader('cache-control', 'no-cache');
  response.setHeader('etag', gzipped ? answer.gzipEtag : answer.etag);
  if (matchesIfNoneMatch(request.headers['if-none-match'], answer)) {
    response.writeHead(304);
    response.end();
    return;
  }
  const body = gzipped ? await answer.gzipped() : answer.body;
  if (request.socket.destroyed) return;
  if (request.socket.writableLength > 0) {
    request.socket.destroy();
    return;
  }
  response.writeHead(200, {
    'content-type': answer.contentType,
    'content-length': body.length,
    ...(gzipped && { 'content-encoding': 'gzip' }),
  });
  if (head) {
    response.end();
    return;
  }
  await writeInSlices(response, body);
}

/**
 * Slices of the shared body (views, not copies), the next one only once the last has drained:
 * over TLS, where each write is encrypted into a buffer of its own, a client that stops reading
 * then holds one slice, not an encrypted copy of the whole answer. Over TLS a slice is one TLS
 * record (16 KiB), so that thousands of such clients hold megabytes, not hundreds of them; in
 * plain HTTP a slice is only a view of the shared buffer, and larger slices mean fewer writes.
 */
const PLAIN_SLICE_BYTES = 256 * 1024;
const TLS_SLICE_BYTES = 16 * 1024;

async function writeInSlices(response: ServerResponse, body: Buffer): Promise<void> {
  const sliceBytes = (response.socket as { encrypted?: boolean } | null)?.encrypted === true ? TLS_SLICE_BYTES : PLAIN_SLICE_BYTES;
  for (let offset = 0; offset < body.length; offset += sliceBytes) {
    const last = offset + sliceBytes >= body.length;
    const slice = body.subarray(offset, offset + sliceBytes);
    if (last) {
      response.end(slice);
      return;
    }
    if (!response.write(slice) && !(await drained(response))) return;
  }
  response.end();
}

/** Resolves true on 'drain', false when the connection closes first (the write timeout drops it). */
function drained(response: ServerResponse): Promise<boolean> {
  if (response.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onDrain = () => {
      response.off('close', onClose);
      resolve(true);
    };
    const onClose = () => {
      response.off('drain', onDrain);
      resolve(false);
    };
    response.once('drain', onDrain);
    response.once('close', onClose);
  });
}
