// RFC 9457 problem details and the RFC 6750 errors of a bearer-protected resource. Every refusal
// the API makes is one of these, so status, WWW-Authenticate and body always agree.
import type { FastifyReply } from 'fastify';
import type { RefusalReason } from './refusal-reason.ts';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';
/** Retry-After of a 503 when nothing better is known (keys not loaded yet, overload). */
const DEFAULT_RETRY_AFTER_SECONDS = 5;

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  [extension: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  406: 'Not Acceptable', 409: 'Conflict', 413: 'Content Too Large', 415: 'Unsupported Media Type',
  429: 'Too Many Requests', 431: 'Request Header Fields Too Large', 500: 'Internal Server Error', 503: 'Service Unavailable',
};

export function problem(status: number, detail?: string, extensions: Record<string, unknown> = {}): Problem {
  return { type: 'about:blank', title: TITLES[status] ?? 'Error', status, ...(detail ? { detail } : {}), ...extensions };
}

export function sendProblem(reply: FastifyReply, body: Problem): FastifyReply {
  return reply.code(body.status).type(PROBLEM_CONTENT_TYPE).send(body);
}

/** The RFC 6750 §3.1 error codes. */
export type BearerErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope';

/**
 * A refusal by the authentication or authorization layer. `code` undefined means "no credentials
 * presented" (bare `WWW-Authenticate: Bearer`). The description is generic on purpose: it tells
 * the caller what class of problem it is, never which check failed.
 */
export class BearerError extends Error {
  readonly status: 400 | 401 | 403 | 503;
  readonly code: BearerErrorCode | undefined;
  readonly description: string;
  readonly scope: string | undefined;
  /** Why, for the log and observers only (never sent). */
  readonly reason: RefusalReason;
  /** With a 503: when to try again, in seconds. */
  retryAfterSeconds = DEFAULT_RETRY_AFTER_SECONDS;

  constructor(status: 400 | 401 | 403 | 503, code: BearerErrorCode | undefined, description: string, reason: RefusalReason, scope?: string) {
    super(description);
    this.name = 'BearerError';
    this.status = status;
    this.code = code;
    this.description = description;
    this.reason = reason;
    this.scope = scope;
  }
}

export const missingToken = (): BearerError => new BearerError(401, undefined, 'An access token is required.', 'token_missing');
export const invalidRequest = (reason: RefusalReason): BearerError => new BearerError(400, 'invalid_request', 'The request is malformed.', reason);
/** One description for every bad token, so a forger learns nothing from it. */
export const invalidToken = (reason: RefusalReason): BearerError => new BearerError(401, 'invalid_token', 'The access token is invalid.', reason);
export const insufficientScope = (scope: string): BearerError =>
  new BearerError(403, 'insufficient_scope', 'The access token lacks a required scope.', 'scope_missing', scope);
export const forbidden = (reason: RefusalReason): BearerError => new BearerError(403, undefined, 'The access token does not grant access to this resource.', reason);
/** The authorization server's keys or metadata are not available yet: not the client's fault. */
export function authUnavailable(reason: RefusalReason, retryAfterSeconds = DEFAULT_RETRY_AFTER_SECONDS): BearerError {
  const err = new BearerError(503, undefined, 'Token validation is temporarily unavailable.', reason);
  err.retryAfterSeconds = Math.max(1, retryAfterSeconds);
  return err;
}

function quoted(value: string): string {
  // RFC 6750 values never need escaping here (our descriptions and scope tokens are plain ASCII),
  // but strip what could break the header anyway.
  return `"${value.replace(/["\\\r\n]/g, '')}"`;
}

/** The WWW-Authenticate value for an error, or undefined when none is sent (a plain 403, a 503). */
export function wwwAuthenticate(err: BearerError): string | undefined {
  if (err.status === 401 && err.code === undefined) return 'Bearer';
  if (err.code === undefined) return undefined;
  let value = `Bearer error=${quoted(err.code)}, error_description=${quoted(err.description)}`;
  if (err.scope) value += `, scope=${quoted(err.scope)}`;
  return value;
}

export function sendBearerError(reply: FastifyReply, err: BearerError): FastifyReply {
  const header = wwwAuthenticate(err);
  if (header) reply.header('www-authenticate', header);
  if (err.status === 503) reply.header('retry-after', String(err.retryAfterSeconds));
  const extensions: Record<string, unknown> = {};
  if (err.code) extensions.error = err.code;
  if (err.scope) extensions.scope = err.scope;
  return sendProblem(reply, problem(err.status, err.description, extensions));
}
