// Login throttling, against both stores: the limits hold under parallel attempts (counted as
// password checks, not as responses), an attacker elsewhere cannot lock a user out, delays and
// windows follow the clock. Every test starts its own IdP (and Redis), so none depends on another.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../tests/support/manual-clock.ts';
import { startIdpInProcess, type InProcessIdp } from '../../../tests/support/idp-in-process.ts';
import { authorizationRequest, followIdpRedirects, rpConfig, userAgent } from '../../../tests/support/oidc-rp.ts';
import { startRedis } from '../../../tests/support/redis-process.ts';
import type { UserDirectory } from '../src/users.ts';

interface Harness {
  idp: InProcessIdp;
  clock: ManualClock;
  /** Passwords actually checked against the user directory. */
  checks: () => number;
  /** Opens a login page; the returned function submits it from `ip`. */
  prepare(): Promise<(username: string, password: string, ip: string) => Promise<Attempt>>;
  attempt(username: string, password: string, ip: string): Promise<Attempt>;
}

interface Attempt {
  status: number;
  retryAfter: string | null;
  signedIn: boolean;
}

const stores = [
  { name: 'sqlite', start: async () => ({ env: {}, stop: async () => {} }) },
  {
    name: 'redis',
    start: async () => {
      const redis = await startRedis();
      return { env: { IDP_STORE: 'redis', IDP_REDIS_URL: redis.url }, stop: () => redis.stop() };
    },
  },
];

for (const store of stores) {
  describe(`login throttling (${store.name})`, () => {
    async function withThrottledIdp(env: Record<string, string>, fn: (h: Harness) => Promise<void>): Promise<void> {
      const backing = await store.start();
      const clock = new ManualClock();
      let checks = 0;
      const counting = (users: UserDirectory): UserDirectory => ({
        ...users,
        findBySub: (sub) => users.findBySub(sub),
        authenticate: (username, password) => {
          checks++;
          return users.authenticate(username, password);
        },
      });
      const idp = await startIdpInProcess({ IDP_TRUST_PROXY: 'true', ...backing.env, ...env }, { clock, wrapUsers: counting });
      try {
        const spa = await rpConfig(idp.issuer, 'spa');
        const prepare = async () => {
          const ua = userAgent();
          const page = await followIdpRedirects(ua, idp.issuer, (await authorizationRequest(spa)).url);
          const action = /action="([^"]+\/login)"/.exec(await page.text())![1]!;
          return async (username: string, password: string, ip: string): Promise<Attempt> => {
            const res = await ua.request(new URL(action, idp.issuer), {
              method: 'POST',
              headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': ip },
              body: new URLSearchParams({ username, password }).toString(),
            });
            await res.arrayBuffer();
            return { status: res.status, retryAfter: res.headers.get('retry-after'), signedIn: /\/authorize\//.test(res.headers.get('location') ?? '') };
          };
        };
        await fn({ idp, clock, checks: () => checks, prepare, attempt: async (u, p, ip) => (await prepare())(u, p, ip) });
      } finally {
        await idp.close();
        await backing.stop();
      }
    }

    const statuses = (attempts: Attempt[]) => attempts.map((a) => a.status);
    const countOf = (list: number[], status: number) => list.filter((s) => s === status).length;

    for (const parallel of [60, 200]) {
      test(`${parallel} parallel wrong passwords for one user from one address check no more passwords than the limit`, async () => {
        await withThrottledIdp({ IDP_LOGIN_MAX_FAILURES_PER_USER_AND_IP: '10', IDP_LOGIN_MAX_FAILURES_PER_IP: '1000' }, async (h) => {
          const submits = await Promise.all(Array.from({ length: parallel }, () => h.prepare()));
          const results = statuses(await Promise.all(submits.map((submit, i) => submit('alice', `guess-${i}`, '203.0.113.7'))));
          assert.equal(h.checks(), 10, 'passwords checked');
          assert.equal(countOf(results, 401), 10);
          assert.equal(countOf(results, 429), parallel - 10);
        });
      });
    }

    test('parallel wrong passwords over many usernames from one address stop at the per-address limit', async () => {
      await withThrottledIdp({ IDP_LOGIN_MAX_FAILURES_PER_IP: '30' }, async (h) => {
        const submits = await Promise.all(Array.from({ length: 80 }, () => h.prepare()));
        const results = statuses(await Promise.all(submits.map((submit, i) => submit(`user-${i}`, 'Summer2026!', '198.51.100.9'))));
        assert.equal(h.checks(), 30, 'passwords checked');
        assert.equal(countOf(results, 429), 50);
        assert.equal((await h.attempt('bob', 'demo-bob', '198.51.100.9')).status, 429, 'the address stays blocked for everyone on it');
        assert.equal(h.checks(), 30);
      });
    });

    test('failures from other addresses never lock a user out of his own address; the attackers stay limited', async () => {
      await withThrottledIdp({}, async (h) => {
        // Eleven addresses, one wrong password each, then one address guessing until refused.
        for (let i = 0; i < 11; i++) assert.equal((await h.attempt('bob', `guess-${i}`, `192.0.2.${i + 1}`)).status, 401);
        const attacker = '192.0.2.200';
        const fromAttacker: number[] = [];
        for (let i = 0; i < 12; i++) fromAttacker.push((await h.attempt('bob', `more-${i}`, attacker)).status);
        assert.deepEqual(fromAttacker, [...Array(10).fill(401), 429, 429], 'the attacker address is limited per username');
        const checksBefore = h.checks();
        const blocked = await h.attempt('bob', 'demo-bob', attacker);
        assert.equal(blocked.status, 429, 'even the right password is refused from the blocked address');
        assert.equal(h.checks(), checksBefore, 'and it was never checked');

        h.clock.sleeps.length = 0;
        const bob = await h.attempt('bob', 'demo-bob', '203.0.113.50');
        assert.ok(bob.signedIn, `bob signs in from his own address (status ${bob.status})`);
        assert.deepEqual(h.clock.sleeps, [2000], 'slowed down by the failures elsewhere, not refused');
        assert.ok(h.idp.logs.some((l) => l.includes('"login_success"')));
      });
    });

    test('attempts past the slow-down threshold are delayed before the check, doubling up to the cap', async () => {
      await withThrottledIdp({ IDP_LOGIN_SLOW_AFTER: '3', IDP_LOGIN_MAX_DELAY_MS: '1000' }, async (h) => {
        for (let i = 0; i < 7; i++) assert.equal((await h.attempt('alice', `guess-${i}`, `192.0.2.${i + 1}`)).status, 401);
        assert.deepEqual(h.clock.sleeps, [250, 500, 1000, 1000]);
        const delays = h.idp.logs.filter((l) => l.includes('"login_failure"')).map((l) => JSON.parse(l).delayMs as number);
        assert.deepEqual(delays, [0, 0, 0, 250, 500, 1000, 1000]);
        assert.ok(!h.idp.logs.some((l) => l.includes('guess-')), 'attempted passwords are never logged');
      });
    });

    test('a refusal lasts until the window ends, and says how long in Retry-After', async () => {
      await withThrottledIdp({ IDP_LOGIN_MAX_FAILURES_PER_USER_AND_IP: '2', IDP_LOGIN_WINDOW: '600' }, async (h) => {
        const ip = '192.0.2.10';
        await h.attempt('alice', 'one', ip);
        h.clock.advanceSeconds(100);
        await h.attempt('alice', 'two', ip);
        const refused = await h.attempt('alice', 'demo-alice', ip);
        assert.equal(refused.status, 429);
        assert.equal(refused.retryAfter, '500');
        h.clock.advanceSeconds(499);
        assert.equal((await h.attempt('alice', 'demo-alice', ip)).status, 429);
        h.clock.advanceSeconds(1);
        assert.ok((await h.attempt('alice', 'demo-alice', ip)).signedIn, 'a new window');
      });
    });

    test('a success clears the username\'s failures and does not count against the address', async () => {
      await withThrottledIdp({ IDP_LOGIN_MAX_FAILURES_PER_USER_AND_IP: '3', IDP_LOGIN_MAX_FAILURES_PER_IP: '3', IDP_LOGIN_SLOW_AFTER: '1' }, async (h) => {
        const ip = '192.0.2.20';
        assert.equal((await h.attempt('alice', 'wrong', ip)).status, 401);
        assert.equal((await h.attempt('alice', 'wrong', ip)).status, 401);
        assert.ok((await h.attempt('alice', 'demo-alice', ip)).signedIn);
        h.clock.sleeps.length = 0;
        assert.equal((await h.attempt('alice', 'wrong', ip)).status, 401);
        assert.deepEqual(h.clock.sleeps, [], 'no delay: the username starts again from zero');
        assert.equal((await h.attempt('bob', 'wrong', ip)).status, 429, 'the address holds 2 + 1 failures, the success is not one');
      });
    });

    test('without a trusted proxy, X-Forwarded-For cannot choose the counted address', async () => {
      await withThrottledIdp({ IDP_TRUST_PROXY: 'false', IDP_LOGIN_MAX_FAILURES_PER_USER_AND_IP: '2' }, async (h) => {
        const results: number[] = [];
        for (let i = 0; i < 3; i++) results.push((await h.attempt('alice', `wrong-${i}`, `192.0.2.${i}`)).status);
        assert.deepEqual(results, [401, 401, 429]);
      });
    });

    test('one client counts as one address however it is written: its IPv6 /64, IPv4-mapped, with a port, in any case', async () => {
      await withThrottledIdp({ IDP_LOGIN_MAX_FAILURES_PER_USER_AND_IP: '2' }, async (h) => {
        const oneClient = [
          ['2001:db8:1:2::1', '2001:db8:1:2:ffff:ffff:ffff:fffe', '[2001:DB8:1:2:0:0:0:9]:51234'],
          ['192.0.2.40', '::ffff:192.0.2.40', '192.0.2.40:51234'],
          ['[::ffff:c000:22a]:443', '::FFFF:192.0.2.42', '192.0.2.42'],
        ];
        for (const addresses of oneClient) {
          const results: number[] = [];
          for (const [i, ip] of addresses.entries()) results.push((await h.attempt('alice', `wrong-${i}`, ip)).status);
          assert.deepEqual(results, [401, 401, 429], addresses.join(' '));
        }
        // Neighbours are other clients: the next /64, the next IPv4 address.
        assert.equal((await h.attempt('alice', 'wrong', '2001:db8:1:3::1')).status, 401);
        assert.equal((await h.attempt('alice', 'wrong', '192.0.2.41')).status, 401);
      });
    });

    test('the counts survive a restart', async () => {
      await withThrottledIdp({ IDP_LOGIN_MAX_FAILURES_PER_USER_AND_IP: '2' }, async (h) => {
        const ip = '192.0.2.30';
        await h.attempt('alice', 'one', ip);
        await h.attempt('alice', 'two', ip);
        await h.idp.restart();
        assert.equal((await h.attempt('alice', 'demo-alice', ip)).status, 429);
      });
    });
  });
}
