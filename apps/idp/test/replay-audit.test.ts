// A replayed authorization code is audited as a replay, whether parallel redemptions race for it
// (the adapter refuses the losers) or it comes back after it was used (oidc-provider refuses it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withIdpInProcess } from '../../../tests/support/idp-in-process.ts';
import { SPA_REDIRECT_URI, authorizationRequest, authorizeWithLogin, rpConfig, tokenRequest, userAgent } from '../../../tests/support/oidc-rp.ts';
import type { Store } from '../src/storage/store.ts';

const PARALLEL = 5;

/** Holds every lookup of an authorization code until `parallel` of them are waiting, once armed. */
function codeLookupBarrier(parallel: number) {
  let armed = false;
  let waiting = 0;
  let release!: () => void;
  const released = new Promise<void>((resolve) => { release = resolve; });
  return {
    arm: () => { armed = true; },
    wrap: (store: Store): Store => ({
      ...store,
      async find(model, id) {
        const found = await store.find(model, id);
        if (armed && model === 'AuthorizationCode') {
          if (++waiting === parallel) release();
          await released;
        }
        return found;
      },
    }),
  };
}

const events = (logs: string[], name: string) => logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['event'] === name);

test('parallel redemptions of one code: one succeeds, every other is audited as replay_detected', async () => {
  const barrier = codeLookupBarrier(PARALLEL);
  await withIdpInProcess({}, { wrapStore: barrier.wrap }, async (idp) => {
    const spa = await rpConfig(idp.issuer, 'spa');
    const req = await authorizationRequest(spa);
    const code = (await authorizeWithLogin(userAgent(), spa, req, 'alice', 'demo-alice')).searchParams.get('code')!;
    const redeem = () => tokenRequest(idp.issuer, { grant_type: 'authorization_code', client_id: 'spa', code, redirect_uri: SPA_REDIRECT_URI, code_verifier: req.verifier });

    barrier.arm();
    const results = await Promise.all(Array.from({ length: PARALLEL }, redeem));
    assert.equal(results.filter((r) => r.status === 200).length, 1);
    const refused = results.filter((r) => r.status === 400);
    assert.equal(refused.length, PARALLEL - 1);
    for (const r of refused) assert.equal(r.body['error'], 'invalid_grant');

    const replays = events(idp.logs, 'replay_detected');
    assert.equal(replays.length, PARALLEL - 1, 'each refused redemption is one replay');
    for (const r of replays) {
      assert.equal(r['race'], true, 'all lost the race: every lookup happened before the first consumption');
      assert.equal(r['model'], 'AuthorizationCode');
      assert.equal(r['clientId'], 'spa');
    }
    assert.deepEqual(events(idp.logs, 'token_error'), []);
  });
});

test('a code redeemed again after its use is audited as replay_detected, its grant revoked', async () => {
  await withIdpInProcess({}, {}, async (idp) => {
    const spa = await rpConfig(idp.issuer, 'spa');
    const req = await authorizationRequest(spa);
    const code = (await authorizeWithLogin(userAgent(), spa, req, 'alice', 'demo-alice')).searchParams.get('code')!;
    const redeem = () => tokenRequest(idp.issuer, { grant_type: 'authorization_code', client_id: 'spa', code, redirect_uri: SPA_REDIRECT_URI, code_verifier: req.verifier });
    const first = await redeem();
    assert.equal(first.status, 200);
    const again = await redeem();
    assert.equal(again.status, 400);
    assert.equal(events(idp.logs, 'replay_detected').length, 1);
    assert.ok(events(idp.logs, 'grant_revoked').length >= 1);
    assert.deepEqual(events(idp.logs, 'token_error'), []);

    const unknown = await tokenRequest(idp.issuer, { grant_type: 'authorization_code', client_id: 'spa', code: 'not-a-code', redirect_uri: SPA_REDIRECT_URI, code_verifier: req.verifier });
    assert.equal(unknown.status, 400);
    assert.equal(events(idp.logs, 'token_error').length, 1, 'an unknown code is an error, not a replay');
    assert.equal(events(idp.logs, 'replay_detected').length, 1);
  });
});
