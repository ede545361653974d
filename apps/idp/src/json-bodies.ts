// Auth0's /oauth/token and /oauth/revoke accept application/json as well as a form, and Auth0's node
// SDK revokes with JSON; oidc-provider takes only forms there. A JSON body on these routes is read
// here, before oidc-provider, and the request is handed on as the equivalent form post, so every
// check oidc-provider makes on a form (client authentication, grant, PKCE, replay) is made on it.
// Only an object whose values are all strings is accepted (docs/decisions/0040).
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { JSON_BODY_MAX_BYTES, JSON_BODY_ROUTES } from './defaults.ts';

export interface Refusal {
  refused: string;
}

/** A JSON body as a form body: an object whose values are all strings, else why not. */
export function jsonBodyAsForm(raw: string): string | Refusal {
  let doc: unknown;
  try {
    doc = JSON.parse(raw);
  } catch {
    return { refused: 'failed to parse the request body' };
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return { refused: 'the JSON body must be an object' };
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(doc)) {
    if (typeof value !== 'string') return { refused: `every value of the JSON body must be a string (${JSON.stringify(name).slice(0, 64)} is not)` };
    form.set(name, value);
  }
  return form.toString();
}

/** True for a POST with a JSON body to a route that takes one. */
export function hasJsonBodyToConvert(req: IncomingMessage, path: string): boolean {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  return req.method === 'POST' && JSON_BODY_ROUTES.has(path) && type === 'application/json';
}

/** The body, at most `max` bytes (a declared or received excess is refused before more is read). */
export async function readBoundedBody(req: IncomingMessage, max: number): Promise<Buffer | Refusal> {
  const declared = Number(req.headers['content-length']);
  if (declared > max) return { refused: 'request entity too large' };
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    received += chunk.length;
    if (received > max) return { refused: 'request entity too large' };
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, received);
}

/** The request again, its body already read: same method, URL, socket and headers, this form as its body. */
export function requestWithFormBody(req: IncomingMessage, form: string): IncomingMessage {
  const body = Buffer.from(form);
  const headers = { ...req.headers, 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(body.length) };
  return Object.assign(Readable.from([body]), {
    headers, rawHeaders: [], trailers: {}, rawTrailers: [], method: req.method, url: req.url,
    socket: req.socket, connection: req.socket, httpVersion: req.httpVersion,
    httpVersionMajor: req.httpVersionMajor, httpVersionMinor: req.httpVersionMinor, complete: true, aborted: false,
  }) as unknown as IncomingMessage;
}

/**
 * Reads the JSON body (at most JSON_BODY_MAX_BYTES) and answers a request that carries the same
 * parameters as a form: same method, URL, socket and headers but for the body's type and length.
 */
export async function asFormRequest(req: IncomingMessage): Promise<IncomingMessage | Refusal> {
  const raw = await readBoundedBody(req, JSON_BODY_MAX_BYTES);
  if ('refused' in raw) return raw;
  const form = jsonBodyAsForm(raw.toString('utf8'));
  if (typeof form !== 'string') return form;
  return requestWithFormBody(req, form);
}
