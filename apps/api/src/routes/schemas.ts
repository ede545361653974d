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

export const newNoteSchema = {
  type: 'object',
  properties: { text: { type: 'string', minLength: 1, maxLength: NOTE_MAX_LENGTH } },
  required: ['text'],
  additionalProperties: false,
} as const;

const problemRef = { $ref: 'Problem#' } as const;

/** Responses every protected route may give besides its own. */
export const protectedResponses = {
  401: { ...problemRef, description: 'No token, or an invalid one (see WWW-Authenticate)' },
  403: { ...problemRef, description: 'Valid token, but the route\'s policy refuses it' },
} as const;

/** OpenAPI security requirement: the bearer scheme, or the OAuth flow with these scopes. */
export function securedBy(scopes: string[]): Array<Record<string, string[]>> {
  return [{ bearer: [] }, { oauth2: scopes }];
}
