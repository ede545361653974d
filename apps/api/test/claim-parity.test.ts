// One corpus of claim sets judged in both validation modes: signed as an RFC 9068 JWT, and
// answered by introspection (active, token_type Bearer) for a reference token. Both must give the
// same status, WWW-Authenticate, body and refusal reason, on the first use and on every use after
// it (the introspection cache must not change the verdict's reason). The differences the rules
// allow on purpose are not in the corpus: an introspection answer may omit iss, iat and jti, and
// only a JWT has a JOSE header (typ, alg, kid: hostile-tokens.test.ts).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { JWTPayload } from 'jose';
import type { RefusalReason } from '../src/refusal-reason.ts';
import { bearer, startApi, type TestApi } from './support/api.ts';
import { AUDIENCE, startTestIssuer, type TestIssuer } from './support/test-issuer.ts';

let idp: TestIssuer;
let api: TestApi;
const reasons: RefusalReason[] = [];
/** The API's clock, stopped: a token's times are judged at the instant they were written. */
const t = Date.now();
const now = Math.floor(t / 1000);

before(async () => {
  idp = await startTestIssuer();
  api = await startApi(idp, {}, { onRefusal: (reason) => reasons.push(reason), now: () => t });
});
after(async () => {
  await api.dispose();
  await idp.close();
});

/** Claims changed from a valid access token of alice from the spa client, and the verdict. */
const CORPUS: Record<string, [Record<string, unknown>, RefusalReason | 'accepted']> = {
  valid: [{}, 'accepted'],
  'client_id only, no azp': [{ azp: undefined }, 'accepted'],
  expired: [{ exp: now - 60 }, 'expired'],
  'no exp': [{ exp: undefined }, 'exp_missing'],
  'exp a string': [{ exp: String(now + 300) }, 'claim_malformed'],
  'nbf in the future': [{ nbf: now + 60 }, 'not_yet_valid'],
  'iat in the future': [{ iat: now + 60 }, 'issued_in_future'],
  'another audience': [{ aud: 'https://other-api' }, 'audience_mismatch'],
  'no audience': [{ aud: undefined }, 'audience_mismatch'],
  'aud with a number': [{ aud: [AUDIENCE, 42] }, 'audience_mismatch'],
  'another issuer': [{ iss: 'https://idp.example' }, 'issuer_mismatch'],
  'no sub': [{ sub: undefined }, 'claim_missing'],
  'empty sub': [{ sub: '' }, 'claim_malformed'],
  'sub a number': [{ sub: 42 }, 'claim_malformed'],
  // SQLite would store it as "alice\ufffd", the subject of someone else.
  'sub with a lone surrogate': [{ sub: 'alice\ud800' }, 'claim_malformed'],
  'no client named (no azp, no client_id)': [{ azp: undefined, client_id: undefined }, 'claim_missing'],
  'azp not client_id': [{ azp: 'evil' }, 'client_mismatch'],
  'client_id a number': [{ client_id: 7, azp: undefined }, 'claim_malformed'],
  'bound to a key (cnf)': [{ cnf: { jkt: 'abc' } }, 'sender_constrained'],
  'scope an array': [{ scope: ['auth0-user-api-spa'] }, 'claim_malformed'],
  'no scope': [{ scope: undefined }, 'scope_missing'],
  'another client': [{ azp: 'other-spa', client_id: 'other-spa' }, 'client_not_allowed'],
};

async function judge(token: string) {
  reasons.length = 0;
  const res = await api.app.inject({ url: '/api/UserOne', headers: bearer(token) });
  return { status: res.statusCode, challenge: res.headers['www-authenticate'], body: res.body, reasons: [...reasons] };
}

test('JWT and introspection judge every claim set of the corpus alike, on every use', async () => {
  let n = 0;
  for (const [name, [changes, verdict]] of Object.entries(CORPUS)) {
    const claims = { ...idp.claims({ iat: now, exp: now + 300 }), ...changes } as JWTPayload;
    const jwt = await idp.sign(claims);
    const reference = `reference-token-${String(n++).padStart(12, '0')}`;
    idp.references.set(reference, { active: true, token_type: 'Bearer', ...claims });

    const first = await judge(jwt);
    if (verdict === 'accepted') {
      assert.equal(first.status, 200, `${name}: JWT accepted`);
      assert.deepEqual(first.reasons, [], name);
    } else {
      assert.ok(first.status === 401 || first.status === 403, `${name}: JWT refused (${first.status})`);
      assert.deepEqual(first.reasons, [verdict], `${name}: JWT refused for its reason`);
    }
    for (const use of ['first', 'second']) {
      assert.deepEqual(await judge(reference), first, `${name}: introspection judges as the JWT, on its ${use} use`);
    }
    assert.deepEqual(await judge(jwt), first, `${name}: the JWT again`);
  }
  assert.equal(idp.introspectionCalls, Object.keys(CORPUS).length, 'the second uses were answered from the introspection cache');
});
