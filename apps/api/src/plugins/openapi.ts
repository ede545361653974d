// OpenAPI 3.1 generated from the route schemas, and Swagger UI at /swagger served from the
// package's own assets (no CDN) under a strict CSP. Swagger UI signs in with the authorization
// code + PKCE flow as the public `swagger` client; the IdP's endpoints come from its discovery
// document, filled into the document when it is served.
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { Authority } from '../authority.ts';
import { NOTES_TAG } from '../routes/notes.ts';
import { USER_ONE_TAG } from '../routes/user-one.ts';

export const SWAGGER_PREFIX = '/swagger';
/** Redirect URI registered for the `swagger` client at the IdP. */
export const SWAGGER_REDIRECT_PATH = `${SWAGGER_PREFIX}/oauth2-redirect.html`;
/** The package points Swagger UI at ./static/oauth2-redirect.html; we use the registered URI. */
export const PACKAGE_REDIRECT_EXPRESSION = "resolveUrl('./static/oauth2-redirect.html')";

export interface OpenApiOptions {
  authority: Authority;
  audience: string;
  requiredScope: string;
  swaggerClientId: string;
}

type OpenApiDocument = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export function swaggerCsp(issuer: string): string {
  const idp = new URL(issuer).origin;
  return [
    "default-src 'none'",
    "script-src 'self'",
    // Swagger UI (React) sets style attributes at run time.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    `connect-src 'self' ${idp}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "object-src 'none'",
  ].join('; ');
}

const openapi: FastifyPluginAsync<OpenApiOptions> = async (app, opts) => {
  const issuer = opts.authority.issuer.replace(/\/$/, '');
  await app.register(swagger, {
    // Shared schemas keep their own names (Problem, Note) in components: generated clients name
    // their types after them.
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Resource API',
        version: '1.0.0',
        description: 'Data the SPA shows. Every route needs an access token for the audience '
          + `\`${opts.audience}\`; the policy p-user-api-auth0 also needs the scope \`${opts.requiredScope}\` and an allowed client.`,
      },
      tags: [
        { name: USER_ONE_TAG, description: 'The reference controller, protected by the policy p-user-api-auth0' },
        { name: NOTES_TAG, description: 'Notes of the signed-in user, stored by the API' },
        { name: 'Health', description: 'Public liveness and readiness probes' },
      ],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An access token from the IdP' },
          oauth2: {
            type: 'oauth2',
            description: 'Authorization code + PKCE as the public swagger client',
            flows: {
              authorizationCode: {
                // Replaced by the discovered endpoints when the document is served.
                authorizationUrl: `${issuer}/authorize`,
                tokenUrl: `${issuer}/oauth/token`,
                scopes: { openid: 'Sign in', [opts.requiredScope]: 'Use the user API' },
              },
            },
          },
        },
      },
    },
  });

  const withDiscoveredEndpoints = (doc: OpenApiDocument): OpenApiDocument => {
    const md = opts.authority.metadata;
    const flow = doc.components?.securitySchemes?.oauth2?.flows?.authorizationCode;
    if (md && flow) {
      if (md.authorization_endpoint) flow.authorizationUrl = md.authorization_endpoint;
      if (md.token_endpoint) flow.tokenUrl = md.token_endpoint;
    }
    return doc;
  };

  const csp = swaggerCsp(opts.authority.issuer);
  await app.register(async (docs) => {
    docs.addHook('onSend', async (req, reply, payload) => {
      // Swagger UI's pages are the API's only pages: the page headers of the suite's other apps
      // (framing refused, no Referer), and the redirect page, whose URL carries the authorization
      // code, is never stored.
      reply.header('x-content-type-options', 'nosniff');
      reply.header('x-frame-options', 'DENY');
      reply.header('referrer-policy', 'no-referrer');
      if (req.url.split('?', 1)[0] === SWAGGER_REDIRECT_PATH) reply.header('cache-control', 'no-store');
      // Point Swagger UI at the redirect URI the IdP knows.
      if (req.url.endsWith('/static/swagger-initializer.js') && typeof payload === 'string') {
        return payload.replace(PACKAGE_REDIRECT_EXPRESSION, "resolveUrl('./oauth2-redirect.html')");
      }
      return payload;
    });
    await docs.register(swaggerUi, {
      routePrefix: SWAGGER_PREFIX,
      staticCSP: csp,
      transformSpecification: (doc) => withDiscoveredEndpoints(doc as OpenApiDocument),
      transformSpecificationClone: true,
      uiConfig: { deepLinking: false, persistAuthorization: false, tryItOutEnabled: true },
      initOAuth: {
        clientId: opts.swaggerClientId,
        usePkceWithAuthorizationCodeGrant: true,
        scopes: ['openid', opts.requiredScope],
        // Auth0 picks the API by `audience`; the embedded IdP accepts it too.
        additionalQueryStringParams: { audience: opts.audience },
      },
    });
    docs.get(SWAGGER_REDIRECT_PATH, { schema: { hide: true } }, async (_req, reply) => reply
      .header('content-security-policy', csp)
      .type('text/html; charset=utf-8')
      .send('<!doctype html>\n<html lang="en-US">\n<body>\n<script src="static/oauth2-redirect.js"></script>\n</body>\n</html>\n'));
  });

  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => withDiscoveredEndpoints(structuredClone(app.swagger()) as OpenApiDocument));
};

export default fp(openapi, { name: 'openapi', fastify: '5.x' });
