// POST /bff/backchannel: OpenID Connect Back-Channel Logout. The IdP posts a logout token (form
// field logout_token) when the user signs out there, from this app or any other; a valid token
// ends every BFF session of that IdP session (`sid`), or of the user (`sub`) when it names no
// session, on every instance sharing the store. Server to server: no cookie, no CSRF header.
import type { FastifyPluginCallback, FastifyReply } from 'fastify';
import { createRemoteJWKSet } from 'jose';
import { createLogoutTokenVerifier, InvalidLogoutTokenError, type LogoutTarget } from '../backchannel-logout.ts';
import type { BffContext } from '../context.ts';
import { BACKCHANNEL_ALGORITHMS, BACKCHANNEL_BODY_LIMIT_BYTES } from '../defaults.ts';

const FORM = 'application/x-www-form-urlencoded';

/** The answer §2.8 of the specification asks for: 400 with an OAuth error body. */
function refuse(reply: FastifyReply, description: string): FastifyReply {
  return reply.code(400).header('cache-control', 'no-store').send({ error: 'invalid_request', error_description: description });
}

export const backchannelRoutes: FastifyPluginCallback<{ ctx: BffContext }> = (app, { ctx }, done) => {
  const { config, idp, sessions, audit, now } = ctx;
  // Form bodies are parsed for this route only (the plugin is encapsulated).
  app.addContentTypeParser(FORM, { parseAs: 'string', bodyLimit: BACKCHANNEL_BODY_LIMIT_BYTES }, (_req, body, parsed) => {
    parsed(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  // Built on first use: the IdP's issuer and JWKS come from discovery, which may still be running.
  let verifier: ReturnType<typeof createLogoutTokenVerifier> | undefined;
  const verify = async (token: unknown): Promise<LogoutTarget> => {
    if (!verifier) {
      const metadata = (await idp.configuration()).serverMetadata();
      if (!metadata.jwks_uri) throw new Error('the identity provider publishes no jwks_uri');
      verifier = createLogoutTokenVerifier({
        policy: {
          issuer: metadata.issuer,
          clientId: config.BFF_CLIENT_ID,
          algorithms: BACKCHANNEL_ALGORITHMS,
          maxAgeSeconds: config.BFF_BACKCHANNEL_MAX_AGE,
          clockToleranceSeconds: config.BFF_CLOCK_TOLERANCE,
        },
        keys: createRemoteJWKSet(new URL(metadata.jwks_uri)),
        replay: sessions.store,
        now,
      });
    }
    return verifier(token);
  };

  app.post('/bff/backchannel', {
    attachValidation: true,
    schema: {
      consumes: [FORM],
      body: {
        type: 'object',
        required: ['logout_token'],
        properties: { logout_token: { type: 'string', minLength: 1, maxLength: BACKCHANNEL_BODY_LIMIT_BYTES } },
      },
    },
  }, async (req, reply) => {
    // The specification's encoding only: the app's JSON parser would accept a JSON body too.
    if (req.headers['content-type']?.split(';', 1)[0]!.trim().toLowerCase() !== FORM) {
      return reply.code(415).header('cache-control', 'no-store').send({ error: 'invalid_request', error_description: `send logout_token as ${FORM}` });
    }
    if (req.validationError) {
      audit('backchannel_logout_refused', { reason: 'logout_token is missing' });
      return refuse(reply, 'logout_token is missing');
    }
    let target: LogoutTarget;
    try {
      target = await verify((req.body as { logout_token: string }).logout_token);
    } catch (err) {
      if (!(err instanceof InvalidLogoutTokenError)) throw err;
      audit('backchannel_logout_refused', { reason: err.reason });
      return refuse(reply, err.message);
    }
    // With a sid, only that IdP session ends (the user's other logins stay); without, all of the user's.
    const ended = target.sid !== undefined ? await sessions.store.destroyBySid(target.sid) : await sessions.store.destroyBySub(target.sub!);
    audit('backchannel_logout', { sub: target.sub ?? null, by: target.sid !== undefined ? 'sid' : 'sub', sessions: ended });
    return reply.code(200).header('cache-control', 'no-store').send();
  });
  done();
};
