// Per-user notes. The owner is always the token's subject; another user's note is simply not
// there (404), never "forbidden", so ids reveal nothing.
import type { FastifyPluginCallback } from 'fastify';
import { NOTES_PER_USER_MAX } from '../defaults.ts';
import type { NotesStore } from '../notes-store.ts';
import { USER_API_POLICY } from '../policies.ts';
import { problem, sendProblem } from '../problem.ts';
import { newNoteSchema, problemResponse, protectedResponses, securedBy } from './schemas.ts';

export const NOTES_TAG = 'Notes (per user)';

export const notesRoutes: FastifyPluginCallback<{ store: NotesStore; requiredScope: string }> = (app, { store, requiredScope }, done) => {
  const security = securedBy([requiredScope]);
  const config = { policy: USER_API_POLICY } as const;

  app.get('/api/notes', {
    config,
    schema: { tags: [NOTES_TAG], summary: 'The caller\'s notes, oldest first', security, response: { 200: { 'x-response-description': 'The notes', type: 'array', items: { $ref: 'Note#' } }, ...protectedResponses } },
  }, async (req) => store.list(req.principal!.subject));

  app.post<{ Body: { text: string } }>('/api/notes', {
    config,
    schema: {
      tags: [NOTES_TAG], summary: 'Adds a note', security, body: newNoteSchema,
      response: {
        201: { description: 'The note added', $ref: 'Note#' },
        ...protectedResponses,
        400: problemResponse('The body does not match the schema (`errors` says where), or malformed credentials (error invalid_request)', protectedResponses[400].headers),
        409: problemResponse(`The caller already has ${NOTES_PER_USER_MAX} notes`),
        413: problemResponse('The body is larger than the API accepts'),
        415: problemResponse('The body is not application/json'),
      },
    },
  }, async (req, reply) => {
    const owner = req.principal!.subject;
    if (store.count(owner) >= NOTES_PER_USER_MAX) return sendProblem(reply, problem(409, `At most ${NOTES_PER_USER_MAX} notes per user.`));
    return reply.code(201).send(store.create(owner, req.body.text));
  });

  app.delete<{ Params: { id: string } }>('/api/notes/:id', {
    config,
    schema: {
      tags: [NOTES_TAG], summary: 'Deletes one of the caller\'s notes', security,
      params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } }, required: ['id'] },
      response: { 204: { type: 'null', description: 'Deleted' }, 404: problemResponse('No note of the caller has this id'), ...protectedResponses },
    },
  }, async (req, reply) => {
    if (!store.delete(req.principal!.subject, req.params.id)) return sendProblem(reply, problem(404, 'No such note.'));
    return reply.code(204).send();
  });
  done();
};
