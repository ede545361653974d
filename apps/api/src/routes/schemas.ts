// Schemas shared by the routes and the OpenAPI document.
import { NOTE_MAX_LENGTH } from '../defaults.ts';

export const problemSchema = {
  $id: 'Problem',
  type: 'object',
  description: 'RFC 9457 problem details',
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    error: { type: 'string', description: 'RFC 6750 error code, when the refusal is about the access token' },
    scope: { type: 'string', description: 'The scope needed, with error insufficient_scope' },
    errors: {
      type: 'array',
      description: 'With a 400 for a request not matching the schema: where and why',
      items: { type: 'object', properties: { location: { type: 'string' }, message: { type: 'string' } }, required: ['location', 'message'] },
    },
  },
  required: ['type', 'title', 'status'],
  additionalProperties: true,
} as const;

export const noteSchema = {
  $id: 'Note',
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    text: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
  },
  required: ['id', 'text', 'createdAt'],
  additionalProperties: false,
} as const;

/**
 * A string of whole Unicode characters: no UTF-16 surrogate alone (JSON's `"\ud800"`). SQLite
 * stores text as UTF-8 and writes such a half as U+FFFD, so what was stored would differ from what
 * was accepted (ajv compiles patterns with the `u` flag: a lone surrogate is then one code point,
 * which the class refuses; a pair is one astral code point, which it admits).
 */
export const WELL_FORMED_UNICODE = '^[^\\ud800-\\udfff]*$';

export const newNoteSchema = {
  type: 'object',
  properties: { text: { type: 'string', minLength: 1, maxLength: NOTE_MAX_LENGTH, pattern: WELL_FORMED_UNICODE } },
  required: ['text'],
  additionalProperties: false,
} as const;

/** The media type every refusal and error is sent in (problem.ts), as the document must name it. */
export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

const WWW_AUTHENTICATE = { type: 'string', description: 'RFC 6750 challenge: `Bearer`, or `Bearer error="…", error_description="…"` (with `scope="…"` for insufficient_scope)' } as const;
const RETRY_AFTER = { type: 'string', description: 'Seconds before trying again' } as const;

/**
 * A response sent as RFC 9457 problem details, declared with the media type it is sent in: the
 * document tells clients which content type to expect, and Fastify picks the serializer by it.
 */
export function problemResponse(description: string, headers?: Record<string, { type: 'string'; description: string }>) {
  return { description, ...(headers ? { headers } : {}), content: { [PROBLEM_MEDIA_TYPE]: { schema: { $ref: 'Problem#' } } } };
}

/** Refusals every protected route may give besides its own, each with the headers it carries. */
export const protectedResponses = {
  400: problemResponse('Malformed request: a parameter not matching the schema, or the credentials sent twice, in two Authorization headers or in the header and the query (error invalid_request)', { 'WWW-Authenticate': WWW_AUTHENTICATE }),
  401: problemResponse('No token, or an invalid one (see WWW-Authenticate)', { 'WWW-Authenticate': WWW_AUTHENTICATE }),
  403: problemResponse('Valid token, but the route\'s policy refuses it (insufficient_scope names the scope in WWW-Authenticate)', { 'WWW-Authenticate': WWW_AUTHENTICATE }),
  503: problemResponse('The token cannot be checked now: the issuer\'s keys are not loaded yet, or its introspection endpoint does not answer', { 'Retry-After': RETRY_AFTER }),
};

/** OpenAPI security requirement: the bearer scheme, or the OAuth flow with these scopes. */
export function securedBy(scopes: string[]): Array<Record<string, string[]>> {
  return [{ bearer: [] }, { oauth2: scopes }];
}
