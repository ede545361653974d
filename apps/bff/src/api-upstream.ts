// The API as the proxy's only upstream: one undici Pool of keep-alive connections, each call
// dispatched with the browser's body streamed up as it arrives and the API's answer streamed to
// the browser as it comes (backpressure both ways), written straight to the Node response.
// A general-purpose proxy (@fastify/reply-from) copied every header object twice, wrapped the
// answer in a Readable piped through Fastify's reply and ran the onSend hooks: about a quarter
// of the BFF's CPU per proxied call (docs/decisions/0016).
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { errors, Pool, type Dispatcher } from 'undici';
import { DROPPED_RESPONSE_HEADERS, SHARED_CACHE_DIRECTIVES } from './defaults.ts';

/** Connection-level headers of the API's answer (and any its Connection header names): they describe its connection to the BFF, not the browser's. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-connection', 'proxy-authenticate'];
const dropped = new Set<string>([...DROPPED_RESPONSE_HEADERS, ...HOP_BY_HOP]);

/**
 * The header names a Connection header lists (RFC 9110 §7.6.1: they describe that one connection
 * and go no further), or undefined when it lists only the usual keep-alive or close.
 */
export function connectionNamed(connection: string | string[] | undefined): Set<string> | undefined {
  if (connection === undefined || connection === 'keep-alive' || connection === 'close') return undefined;
  const names = new Set<string>();
  for (const value of Array.isArray(connection) ? connection : [connection]) {
    for (const token of value.split(',')) names.add(token.trim().toLowerCase());
  }
  return names;
}

const sharedCacheDirectives = new Set<string>(SHARED_CACHE_DIRECTIVES);

/**
 * The Cache-Control the browser gets for the API's: `no-store` when the API gave none; the API's
 * own when one of its directives lets a shared cache keep it or forbids that already (a qualified
 * `private="field"` does neither); else the API's with `private` first. The API answered a request
 * bearing the user's token, which no shared cache serves to another request unless told it may;
 * the browser's request bears a cookie, which keeps no shared cache from doing so.
 */
export function browserCacheControl(api: string | string[] | undefined): string {
  if (api === undefined) return 'no-store';
  const value = Array.isArray(api) ? api.join(', ') : api;
  for (const directive of value.split(',')) {
    const equals = directive.indexOf('=');
    const name = (equals < 0 ? directive : directive.slice(0, equals)).trim().toLowerCase();
    if (sharedCacheDirectives.has(name) && !(name === 'private' && equals >= 0)) return value;
  }
  return `private, ${value}`;
}

/**
 * What the browser is told when the API gave no answer: 504 when it did not answer (or accept the
 * connection) within the timeout, 502 when it could not be reached or broke off.
 */
export function upstreamFailure(err: Error): { status: 502 | 504; detail: string } {
  if (err instanceof errors.HeadersTimeoutError || err instanceof errors.ConnectTimeoutError) return { status: 504, detail: 'The API did not answer in time.' };
  return { status: 502, detail: 'The API could not be reached.' };
}

export interface UpstreamOptions {
  connections: number;
  /** Longest wait for the API's headers, and between two chunks of its body. */
  timeoutMs: number;
}

export interface ForwardedCall {
  method: string;
  /** Path and query on the API. */
  path: string;
  headers: Record<string, string>;
  body: Readable | null;
  /** Headers the BFF sets on the answer over the API's own. */
  answerHeaders: Readonly<Record<string, string>>;
  /** The API could not be reached, or failed or timed out before answering: nothing was sent to the browser yet (see upstreamFailure). */
  onUnreachable(err: Error): void;
}

export class ApiUpstream {
  readonly #pool: Pool;

  constructor(origin: string, options: UpstreamOptions) {
    this.#pool = new Pool(origin, { connections: options.connections, pipelining: 1, headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs });
  }

  /** Sends the call and streams the answer to `res`; the caller has handed `res` over (hijacked). */
  forward(req: IncomingMessage, res: ServerResponse, call: ForwardedCall): void {
    let controller: Dispatcher.DispatchController | undefined;
    let answered = false;
    let browserGone = false;
    // The browser went away before the answer was complete: stop the API's side too.
    const onClose = () => {
      if (res.writableFinished) return;
      browserGone = true;
      controller?.abort(new Error('the browser closed the connection'));
    };
    res.once('close', onClose);
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
      },
      onResponseStart(_c, statusCode, headers) {
        if (statusCode < 200) return;
        answered = true;
        const out: OutgoingHttpHeaders = {};
        const named = connectionNamed(headers['connection']);
        for (const name in headers) if (!dropped.has(name) && !named?.has(name)) out[name] = headers[name];
        Object.assign(out, call.answerHeaders);
        out['cache-control'] = browserCacheControl(out['cache-control'] as string | string[] | undefined);
        // An HTTP/1 connection whose request body was not read to its end cannot carry another request.
        if (!req.complete) out['connection'] = 'close';
        res.writeHead(statusCode, out);
        // Headers and a body that arrive together leave in one write.
        res.cork();
        process.nextTick(() => res.uncork());
      },
      onResponseData(c, chunk) {
        if (!res.write(chunk)) {
          c.pause();
          res.once('drain', () => c.resume());
        }
      },
      onResponseEnd() {
        res.off('close', onClose);
        res.end();
      },
      onResponseError(_c, err) {
        res.off('close', onClose);
        // Nobody is left to answer, and the API is not at fault.
        if (browserGone) return;
        if (!answered) call.onUnreachable(err);
        else res.destroy(err);
      },
    };
    this.#pool.dispatch({ method: call.method as Dispatcher.HttpMethod, path: call.path, headers: call.headers, body: call.body }, handler);
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}
