// Policies as requirements (ASP.NET Core style), checked directly and through route registration.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Fastify from 'fastify';
import { buildPolicies, policy, requireClaim, requireClient, requireScope, SERVICE_API_POLICY, USER_API_POLICY } from '../src/policies.ts';
import authentication from '../src/plugins/authentication.ts';
import { RefusalLog } from '../src/refusal-log.ts';
import { parseScope, type Principal } from '../src/principal.ts';
import type { TokenValidator } from '../src/token-validator.ts';

function principal(over: Partial<Principal> = {}): Principal {
  return { subject: 'alice', clientId: 'spa', scopes: parseScope('openid auth0-user-api-spa'), expiresAt: 0, tokenKind: 'jwt', claims: { tenant: 'a' }, ...over };
}

test('p-user-api-auth0 needs the scope AND an allowed client; the scope refusal names the scope', () => {
  const p = buildPolicies({ requiredScope: 'auth0-user-api-spa', allowedClients: ['spa'] }).get(USER_API_POLICY)!;
  assert.equal(p.evaluate(principal()), undefined);
  const noScope = p.evaluate(principal({ scopes: parseScope('openid') }))!;
  assert.equal(noScope.status, 403);
  assert.equal(noScope.code, 'insufficient_scope');
  assert.equal(noScope.scope, 'auth0-user-api-spa');
  const otherClient = p.evaluate(principal({ clientId: 'swagger' }))!;
  assert.equal(otherClient.status, 403);
  assert.equal(otherClient.code, undefined);
  assert.equal(p.evaluate(principal({ clientId: undefined }))?.status, 403);
});

test("a client's own token (client_credentials) is no user's: p-user-api-auth0 refuses it however it is shaped, p-service-api-auth0 takes only it", () => {
  const policies = buildPolicies({ requiredScope: 'api', allowedClients: ['spa', 'svc'], serviceScope: 'svc-api', allowedServiceClients: ['spa', 'svc'] });
  const userApi = policies.get(USER_API_POLICY)!;
  const serviceApi = policies.get(SERVICE_API_POLICY)!;
  const scopes = parseScope('api svc-api');
  const clientOnly = [
    principal({ subject: 'svc@clients', clientId: 'svc', scopes, claims: { gty: 'client-credentials' } }), // Auth0's
    principal({ subject: 'svc@clients', clientId: 'svc', scopes, claims: {} }), // Auth0's subject without gty
    principal({ subject: 'svc', clientId: 'svc', scopes, claims: {} }), // RFC 9068 §2.2: the client as the subject
    principal({ subject: 'someone', clientId: 'svc', scopes, claims: { gty: 'client-credentials' } }), // gty alone
  ];
  for (const p of clientOnly) {
    const refusal = userApi.evaluate(p)!;
    assert.equal(refusal.status, 403, p.subject);
    assert.equal(refusal.reason, 'user_required');
    assert.equal(serviceApi.evaluate(p), undefined, p.subject);
  }
  // A user's token, with every scope and from an allowed client: the user route only.
  const user = principal({ subject: 'auth0|alice', clientId: 'spa', scopes });
  assert.equal(userApi.evaluate(user), undefined);
  assert.equal(serviceApi.evaluate(user)?.reason, 'service_required');
  // The service policy's own scope and clients.
  assert.equal(serviceApi.evaluate(principal({ subject: 'svc@clients', clientId: 'svc', scopes: parseScope('api') }))?.code, 'insufficient_scope');
  assert.equal(serviceApi.evaluate(principal({ subject: 'other@clients', clientId: 'other', scopes }))?.reason, 'client_not_allowed');
  // Without service settings the service policy admits nobody.
  assert.equal(buildPolicies({ requiredScope: 'api', allowedClients: ['svc'] }).get(SERVICE_API_POLICY)!.evaluate(clientOnly[0]!)?.status, 403);
});

test('requirements compose: every one must pass, the first refusal is reported', () => {
  const p = policy('tenant-a-admin', requireScope('admin'), requireClient(['spa']), requireClaim('tenant', ['a']));
  assert.equal(p.evaluate(principal({ scopes: parseScope('admin') })), undefined);
  assert.equal(p.evaluate(principal({ scopes: parseScope('admin'), claims: { tenant: 'b' } }))?.status, 403);
  assert.equal(p.evaluate(principal())?.code, 'insufficient_scope', 'the scope requirement comes first');
});

test('a principal one policy admitted (and remembers) is judged afresh by every other policy', () => {
  const policies = buildPolicies({ requiredScope: 'auth0-user-api-spa', allowedClients: ['spa'] });
  const anyToken = policies.get('default')!;
  const userApi = policies.get(USER_API_POLICY)!;
  const swaggerUser = principal({ clientId: 'swagger' });
  // The same principal object comes back on every request of a cached token.
  for (let i = 0; i < 2; i++) {
    assert.equal(anyToken.evaluate(swaggerUser), undefined);
    assert.equal(userApi.evaluate(swaggerUser)?.status, 403, 'the client is not allowed, whatever the default policy said');
  }
  const scoped = policy('admin', requireScope('admin'));
  const admin = principal({ scopes: parseScope('admin') });
  assert.equal(scoped.evaluate(admin), undefined);
  assert.equal(scoped.evaluate(admin), undefined, 'admitted again');
  assert.equal(policy('admin', requireScope('admin')).evaluate(principal())?.code, 'insufficient_scope', 'another policy of the same name judges on its own');
  assert.equal(userApi.evaluate(admin)?.code, 'insufficient_scope');
});

test('a route naming an unknown policy fails at start-up, not at request time', async () => {
  const app = Fastify({ logger: false });
  await app.register(authentication, { validator: {} as TokenValidator, policies: buildPolicies({ requiredScope: 's', allowedClients: ['spa'] }), maxTokenLength: 4096, refusals: new RefusalLog({ linesPerReason: 0, windowMs: 1000, now: Date.now, log: app.log }), publicPrefixes: [] });
  assert.throws(() => app.get('/x', { config: { policy: 'no-such-policy' as typeof USER_API_POLICY } }, async () => 'x'), /unknown authorization policy/);
  await app.close();
});
