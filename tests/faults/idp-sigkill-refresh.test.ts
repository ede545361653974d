// The IdP killed (SIGKILL) while refreshes are in flight: some refresh tokens are consumed and
// their answers lost. Every client retries with the token it holds; thanks to the refresh-token
// reuse interval no login is lost (docs/decisions/0010-refresh-token-reuse-interval.md). The kill
// comes once the store shows a refresh of this round consumed, and rounds repeat (bounded) until
// at least one consumed token's answer was lost, so the run always exercises the fault.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { withIdp } from '../support/idp-process.ts';
import { login, rpConfig, tokenRequest } from '../support/oidc-rp.ts';
import { scale, until } from '../support/faults.ts';

const USERS = scale(8, 30);
const LOST_AFTER_CONSUME = scale(1, 5);
const MAX_ROUNDS = 10;

// A slow test machine restarts the IdP in several seconds: the interval is widened so that the
// retries always fall inside it; what is tested is the rule, not the default's length.
test(`IdP SIGKILL during ${USERS} refreshes: no login lost`, { timeout: 600_000 }, async () => {
  await withIdp({ IDP_REFRESH_TOKEN_REUSE_INTERVAL: '300' }, async (idp) => {
    const spa = await rpConfig(idp.issuer, 'spa');
    const held: string[] = [];
    for (let i = 0; i < USERS; i++) held.push((await login(spa, 'alice', 'demo-alice')).tokens.refresh_token!);
    const refresh = (token: string) => tokenRequest(idp.issuer, { grant_type: 'refresh_token', client_id: 'spa', refresh_token: token });
    const consumed = (tokens: string[]): number => {
      const db = new DatabaseSync(join(idp.dataDir, 'idp.sqlite'), { readOnly: true });
      try {
        const used = db.prepare("SELECT 1 FROM oidc_artifact WHERE model = 'RefreshToken' AND id = ? AND consumed_at IS NOT NULL");
        return tokens.filter((t) => used.get(t)).length;
      } finally {
        db.close();
      }
    };

    let lostAfterConsume = 0;
    let rounds = 0;
    while (lostAfterConsume < LOST_AFTER_CONSUME && rounds < MAX_ROUNDS) {
      rounds++;
      const sent = [...held];
      const inFlight = sent.map((token) => refresh(token).catch(() => undefined));
      await until('a refresh of this round consumed', () => consumed(sent) > 0, 2000);
      await idp.restart('SIGKILL');
      const answers = await Promise.all(inFlight);
      const unanswered = sent.filter((_, i) => answers[i]?.status !== 200);
      lostAfterConsume += consumed(unanswered);
      answers.forEach((answer, i) => { if (answer?.status === 200) held[i] = String(answer.body['refresh_token']); });
      // Each client whose answer was lost retries with the token it still holds.
      const retries = await Promise.all(held.map((token) => refresh(token)));
      assert.deepEqual(retries.map((r) => r.status), held.map(() => 200), JSON.stringify(retries.map((r) => r.body['error_description'] ?? '')));
      retries.forEach((r, i) => { held[i] = String(r.body['refresh_token']); });
    }
    assert.ok(lostAfterConsume >= LOST_AFTER_CONSUME, `the fault was not exercised in ${rounds} rounds`);
    const last = await Promise.all(held.map((token) => refresh(token)));
    assert.equal(last.filter((r) => r.status === 200).length, USERS, 'every login carries on');
    console.log(`# ${rounds} round(s) of ${USERS} refreshes cut by a SIGKILL: ${lostAfterConsume} consumed tokens lost their answer, 0 logins lost`);
  });
});
