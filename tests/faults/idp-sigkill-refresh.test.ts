// The IdP killed (SIGKILL) while refreshes are in flight: refresh tokens are consumed and their
// answers lost. Every client retries with the token it holds; thanks to the refresh-token reuse
// interval no login is lost (docs/decisions/0010-refresh-token-reuse-interval.md). The refreshes go
// through a proxy that passes requests on but holds the IdP's answers back, and the kill comes once
// the store shows the tokens consumed: on a fast machine the answers would otherwise come back
// before any kill could land, and the run would not exercise the fault.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { withIdp } from '../support/idp-process.ts';
import { login, rpConfig, tokenRequest } from '../support/oidc-rp.ts';
import { scale, until } from '../support/faults.ts';

const USERS = scale(8, 30);
const ROUNDS = scale(1, 3);

/** A TCP proxy to `port` that forwards requests and drops every answer; closes each side with the other. */
async function answerSwallowingProxy(port: number): Promise<{ base: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = createConnection(port, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => s.destroy());
      s.on('close', () => { sockets.delete(s); client.destroy(); upstream.destroy(); });
    }
    client.pipe(upstream);
    upstream.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: own } = server.address() as { port: number };
  return {
    base: `http://127.0.0.1:${own}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

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
    for (let round = 0; round < ROUNDS; round++) {
      const proxy = await answerSwallowingProxy(idp.port);
      const sent = [...held];
      const inFlight = sent.map((token) => tokenRequest(proxy.base, { grant_type: 'refresh_token', client_id: 'spa', refresh_token: token }).catch(() => undefined));
      await until('every refresh of this round consumed', () => consumed(sent) === sent.length);
      await idp.restart('SIGKILL');
      const answers = await Promise.all(inFlight);
      await proxy.close();
      assert.ok(answers.every((a) => a === undefined), 'no answer came through the proxy');
      lostAfterConsume += consumed(sent);
      // Each client whose answer was lost retries with the token it still holds.
      const retries = await Promise.all(held.map((token) => refresh(token)));
      assert.deepEqual(retries.map((r) => r.status), held.map(() => 200), JSON.stringify(retries.map((r) => r.body['error_description'] ?? '')));
      retries.forEach((r, i) => { held[i] = String(r.body['refresh_token']); });
    }
    assert.equal(lostAfterConsume, USERS * ROUNDS, 'every refresh was consumed and lost its answer');
    const last = await Promise.all(held.map((token) => refresh(token)));
    assert.equal(last.filter((r) => r.status === 200).length, USERS, 'every login carries on');
    console.log(`# ${ROUNDS} round(s) of ${USERS} refreshes cut by a SIGKILL: ${lostAfterConsume} consumed tokens lost their answer, 0 logins lost`);
  });
});
