// The one route for machine-to-machine clients (client_credentials tokens, no user), under the
// policy p-service-api-auth0; every user route refuses their tokens (docs/decisions/0070).
import type { FastifyPluginCallback } from 'fastify';
import { SERVICE_API_POLICY } from '../policies.ts';
import { protectedResponses } from './schemas.ts';

export const SERVICE_ONE_TAG = 'Service API (machine-to-machine token, policy p-service-api-auth0)';

export const serviceOneRoutes: FastifyPluginCallback<{ serviceScope: string }> = (app, { serviceScope }, done) => {
  app.get('/api/ServiceOne', {
    config: { policy: SERVICE_API_POLICY },
    schema: {
      tags: [SERVICE_ONE_TAG],
      summary: 'Data for a machine-to-machine client (its own token, no user)',
      // A bearer token only: Swagger UI's sign-in (a user's code flow) cannot get a service's token.
      // OpenAPI 3.1 lets a non-OAuth scheme list what it needs: the service scope.
      security: [{ bearer: [serviceScope] }],
      response: { 200: { 'x-response-description': 'The service data', type: 'array', items: { type: 'string' } }, ...protectedResponses },
    },
  }, async () => ['service one data']);
  done();
};
