// /bff/login opens a connection to the IdP's token endpoint for the callback (IdpClient's
// warm-up): an OPTIONS request through the client's own fetch, at most one per interval, and
// nothing that can fail a login.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TOKEN_ENDPOINT_WARMUP_INTERVAL_MS } from '../src/defaults.ts';
import { IdpClient } from '../src/idp-client.ts';

const ISSUER = 'http://idp.test/';
const TOKEN_ENDPOINT = 'http://idp.test/token';

function idpWith(answer: (url: string, method: string) => Promise<Response>) {
  const calls: string[] = [];
  let now = 1_000_000;
  const client = new IdpClient({
    issuer: ISSUER, clientId: 'bff', clientSecret: 'secret', redirectUri: 'http://bff.test/bff/callback', scope: 'openid', audience: 'api',
    now: () => now,
    fetch: async (url, options) => {
      calls.push(`${options.method} ${url}`);
      if (url.endsWith('/.well-known/openid-configuration')) {
        return Response.json({ issuer: ISSUER, authorization_endpoint: 'http://idp.test/auth', token_endpoint: TOKEN_ENDPOINT, jwks_uri: 'http://idp.test/jwks' });
      }
      return answer(url, options.method);
    },
  });
  return { client, calls, advance: (ms: number) => { now += ms; } };
}

describe('the token endpoint warmed at the start of a login', () => {
  it('sends one OPTIONS request to the token endpoint, then none until the interval has passed', async () => {
    const { client, calls, advance } = idpWith(async () => new Response(null, { status: 405 }));
    await client.configuration();
    calls.length = 0;
    client.warmTokenEndpoint();
    assert.deepEqual(calls, [`OPTIONS ${TOKEN_ENDPOINT}`]);
    advance(TOKEN_ENDPOINT_WARMUP_INTERVAL_MS - 1);
    client.warmTokenEndpoint();
    assert.equal(calls.length, 1, 'a second login within the interval finds the connection open');
    advance(1);
    client.warmTokenEndpoint();
    assert.deepEqual(calls, [`OPTIONS ${TOKEN_ENDPOINT}`, `OPTIONS ${TOKEN_ENDPOINT}`]);
  });

  it('does nothing before discovery, and an unreachable IdP is no error', async () => {
    let fetchFailed!: () => void;
    const failed = new Promise<void>((resolve) => { fetchFailed = resolve; });
    const { client, calls } = idpWith(async () => {
      fetchFailed();
      throw new TypeError('fetch failed');
    });
    client.warmTokenEndpoint();
    assert.deepEqual(calls, [], 'no token endpoint known yet');
    await client.configuration();
    const unhandled: unknown[] = [];
    const onUnhandled = (err: unknown) => unhandled.push(err);
    process.on('unhandledRejection', onUnhandled);
    try {
      client.warmTokenEndpoint();
      await failed;
      await new Promise<void>((resolve) => setImmediate(resolve));
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
