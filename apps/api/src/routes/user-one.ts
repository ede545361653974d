// The reference design's controller: one route under the policy p-user-api-auth0.
import type { FastifyPluginCallback } from 'fastify';
import { USER_API_POLICY } from '../policies.ts';
import { protectedResponses, securedBy } from './schemas.ts';

export const USER_ONE_TAG = 'User API (Auth0 access token, policy p-user-api-auth0)';

export const userOneRoutes: FastifyPluginCallback<{ requiredScope: string }> = (app, { requiredScope }, done) => {
  app.get('/api/UserOne', {
    config: { policy: USER_API_POLICY },
    schema: {
      tags: [USER_ONE_TAG],
      summary: 'User data for the SPA',
      security: securedBy([requiredScope]),
      response: { 200: { 'x-response-description': 'The user data', type: 'array', items: { type: 'string' } }, ...protectedResponses },
    },
  }, async () => ['user one data']);
  done();
};
