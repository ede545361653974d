// CORS for the SPA's origin only; the OpenAPI document and Swagger UI (local assets, strict CSP,
// authorization code + PKCE against the IdP with the registered redirect URI).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { PACKAGE_REDIRECT_EXPRESSION } from '../src/plugins/openapi.ts';
import { bearer, startApi, type TestApi } from './support/api.ts';
import { AUDIENCE, SCOPE, startTestIssuer, type TestIssuer } from './support/test-issuer.ts';

let idp: TestIssuer;
let api: TestApi;
let token: string;
const SPA = 'http://localhost:4200';

before(async () => {
  idp = await startTestIssuer();
  api = await startApi(idp);
  token = await idp.sign();
});
after(async () => {
  await api.dispose();
  await idp.close();
});

describe('CORS', () => {
  const preflight = (origin: string, method = 'GET', headers = 'authorization') => api.app.inject({
    method: 'OPTIONS', url: '/api/UserOne',
    headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers },
  });

  test('the SPA origin: preflight answered with only the needed methods and headers', async () => {
    const res = await preflight(SPA);
    assert.equal(res.statusCode, 204);
    assert.equal(res.headers['access-control-allow-origin'], SPA);
    assert.equal(res.headers['access-control-allow-methods'], 'GET, POST, DELETE');
    assert.equal(res.headers['access-control-allow-headers'], 'Authorization, Content-Type');
    assert.equal(res.headers['access-control-allow-credentials'], undefined);
    assert.ok(Number(res.headers['access-control-max-age']) > 0);
  });

  test('the SPA origin on actual requests, the 401 included (so the SPA can read it)', async () => {
    const ok = await api.app.inject({ url: '/api/UserOne', headers: { origin: SPA, ...bearer(token) } });
    assert.equal(ok.statusCode, 200);
    assert.equal(ok.headers['access-control-allow-origin'], SPA);
    assert.match(String(ok.headers.vary), /Origin/);
    const refused = await api.app.inject({ url: '/api/UserOne', headers: { origin: SPA } });
    assert.equal(refused.statusCode, 401);
    assert.equal(refused.headers['access-control-allow-origin'], SPA);
    assert.equal(refused.headers['access-control-expose-headers'], 'WWW-Authenticate, Retry-After');
  });

  test('every answer varies by Origin, to requests without one too (a shared cache keeps them apart from CORS answers)', async () => {
    const urls = ['/openapi.json', '/swagger/static/swagger-ui.css', '/healthz', '/readyz', '/api/UserOne', '/no-such-path', '/api/notes/%E0%A4%A'];
    for (const url of urls) {
      for (const headers of [{}, bearer(token), { origin: SPA }, { origin: 'http://evil.example' }]) {
        const res = await api.app.inject({ url, headers });
        assert.match(String(res.headers.vary), /(^|, *)Origin(,|$)/i, `${url} ${JSON.stringify(headers)}: ${res.statusCode}`);
      }
    }
  });

  test('any other origin gets no Access-Control-Allow-Origin, on preflight or request', async () => {
    for (const origin of ['http://evil.example', 'http://localhost:4201', 'https://localhost:4200', 'http://localhost:4200.evil.example', 'null', 'http://LOCALHOST:4200']) {
      const pre = await preflight(origin);
      assert.equal(pre.headers['access-control-allow-origin'], undefined, `preflight ${origin}`);
      assert.equal(pre.headers['access-control-allow-methods'], undefined, `preflight ${origin}`);
      assert.equal(pre.statusCode, 401, 'a refused preflight is just an unauthenticated request');
      const res = await api.app.inject({ url: '/api/UserOne', headers: { origin, ...bearer(token) } });
      assert.equal(res.headers['access-control-allow-origin'], undefined, origin);
    }
  });

  test('every answer to the SPA origin is readable, with each header a browser client acts on exposed; another origin gets no CORS header on any of them', async () => {
    // A second API whose introspection meets an IdP that is down: a 503 with Retry-After.
    const down = await startApi(idp);
    const noScope = await idp.sign(idp.claims({ scope: undefined }));
    const otherClient = await idp.sign(idp.claims({ azp: 'other-spa', client_id: 'other-spa' }));
    const json = { 'content-type': 'application/json' };
    const answers: Array<[string, (headers: Record<string, string>) => Promise<LightMyRequestResponse>]> = [
      ['200', (h) => api.app.inject({ url: '/api/UserOne', headers: { ...h, ...bearer(token) } })],
      ['201', (h) => api.app.inject({ method: 'POST', url: '/api/notes', headers: { ...h, ...bearer(token), ...json }, payload: '{"text":"x"}' })],
      ['401 no token', (h) => api.app.inject({ url: '/api/notes', headers: h })],
      ['401 invalid token', (h) => api.app.inject({ url: '/api/notes', headers: { ...h, ...bearer(`${token}x`) } })],
      ['403 insufficient_scope', (h) => api.app.inject({ url: '/api/notes', headers: { ...h, ...bearer(noScope) } })],
      ['403 client', (h) => api.app.inject({ url: '/api/notes', headers: { ...h, ...bearer(otherClient) } })],
      ['400 invalid_request', (h) => api.app.inject({ url: '/api/notes?access_token=x', headers: { ...h, ...bearer(token) } })],
      ['400 bad JSON', (h) => api.app.inject({ method: 'POST', url: '/api/notes', headers: { ...h, ...bearer(token), ...json }, payload: '{"text":' })],
      ['400 malformed URL', (h) => api.app.inject({ url: '/api/notes/%E0%A4%A', headers: { ...h, ...bearer(token) } })],
      ['404', (h) => api.app.inject({ url: '/api/nope', headers: { ...h, ...bearer(token) } })],
      ['413', (h) => api.app.inject({ method: 'POST', url: '/api/notes', headers: { ...h, ...bearer(token), ...json }, payload: JSON.stringify({ text: 'x'.repeat(20_000) }) })],
      ['503', async (h) => {
        idp.down = true;
        try {
          return await down.app.inject({ url: '/api/notes', headers: { ...h, ...bearer('a-reference-token-of-43-characters-000000000') } });
        } finally {
          idp.down = false;
        }
      }],
    ];
    try {
      for (const [what, send] of answers) {
        const res = await send({ origin: SPA });
        assert.equal(res.headers['access-control-allow-origin'], SPA, what);
        const exposed = String(res.headers['access-control-expose-headers']).toLowerCase().split(/, */);
        for (const header of ['www-authenticate', 'retry-after']) {
          if (res.headers[header] !== undefined) assert.ok(exposed.includes(header), `${what}: ${header} not exposed`);
        }
        assert.match(String(res.headers.vary), /(^|, *)Origin(,|$)/, what);
        assert.equal(res.headers['x-content-type-options'], 'nosniff', what);
        const evil = await send({ origin: 'http://evil.example' });
        assert.equal(evil.statusCode, res.statusCode, what);
        assert.deepEqual(Object.keys(evil.headers).filter((h) => h.startsWith('access-control-')), [], `${what} from another origin`);
      }
      // The headers exposed are those the answers carry: 401 and 403 the challenge, 503 when to retry.
      assert.ok((await answers[2]![1]({ origin: SPA })).headers['www-authenticate']);
      assert.ok((await answers[11]![1]({ origin: SPA })).headers['retry-after']);
      // A preflight to a URL the router cannot decode is answered as any other preflight.
      const pre = await api.app.inject({ method: 'OPTIONS', url: '/api/notes/%E0%A4%A', headers: { origin: SPA, 'access-control-request-method': 'DELETE' } });
      assert.equal(pre.statusCode, 204);
      assert.equal(pre.headers['access-control-allow-methods'], 'GET, POST, DELETE');
    } finally {
      await down.dispose();
    }
  });

  test('configured origins replace the default', async () => {
    const other = await startApi(idp, { API_CORS_ORIGINS: 'https://app.example.com,https://admin.example.com' });
    try {
      const a = await other.app.inject({ method: 'OPTIONS', url: '/api/notes', headers: { origin: 'https://admin.example.com', 'access-control-request-method': 'POST' } });
      assert.equal(a.headers['access-control-allow-origin'], 'https://admin.example.com');
      const b = await other.app.inject({ method: 'OPTIONS', url: '/api/notes', headers: { origin: SPA, 'access-control-request-method': 'POST' } });
      assert.equal(b.headers['access-control-allow-origin'], undefined);
    } finally {
      await other.dispose();
    }
  });
});

describe('OpenAPI and Swagger UI', () => {
  test('OpenAPI 3.1 from the route schemas, tagged, with the bearer and OAuth schemes from discovery', async () => {
    const doc = (await api.app.inject({ url: '/openapi.json' })).json();
    assert.equal(doc.openapi, '3.1.0');
    assert.ok(doc.paths['/api/UserOne'].get);
    assert.ok(doc.paths['/api/notes'].post.requestBody);
    assert.ok(doc.paths['/api/notes/{id}'].delete);
    assert.equal(doc.paths['/swagger/json'], undefined, 'UI routes hidden');
    const tags = doc.tags.map((t: { name: string }) => t.name);
    assert.ok(tags.includes(doc.paths['/api/UserOne'].get.tags[0]));
    assert.ok(tags.includes(doc.paths['/api/notes'].get.tags[0]));
    assert.notEqual(doc.paths['/api/UserOne'].get.tags[0], doc.paths['/api/notes'].get.tags[0]);
    assert.deepEqual(doc.paths['/api/UserOne'].get.security, [{ bearer: [] }, { oauth2: [SCOPE] }]);
    assert.equal(doc.components.securitySchemes.bearer.scheme, 'bearer');
    const flow = doc.components.securitySchemes.oauth2.flows.authorizationCode;
    assert.equal(flow.authorizationUrl, `${idp.url}/authorize`);
    assert.equal(flow.tokenUrl, `${idp.url}/oauth/token`);
    assert.ok(SCOPE in flow.scopes);
    assert.deepEqual(doc.paths['/api/UserOne'].get.responses['200'].content['application/json'].schema, { type: 'array', items: { type: 'string' } });
    assert.deepEqual((await api.app.inject({ url: '/swagger/json' })).json().components, doc.components);
  });

  test('Swagger UI from local assets under a CSP without inline scripts or CDNs', async () => {
    const page = await api.app.inject({ url: '/swagger/' });
    assert.equal(page.statusCode, 200);
    const csp = String(page.headers['content-security-policy']);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, new RegExp(`connect-src 'self' ${idp.url}`));
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(page.body, /<script>(?!\s*<\/script>)/, 'no inline script');
    assert.doesNotMatch(page.body, /https?:\/\//, 'no absolute asset URLs');
    for (const src of page.body.matchAll(/(?:src|href)="([^"]+)"/g)) {
      const url = new URL(src[1]!, 'http://api.test/swagger/').pathname;
      assert.equal((await api.app.inject({ url })).statusCode, 200, url);
    }
  });

  test('Swagger UI signs in as the swagger client with PKCE and the API audience, redirecting to the registered URI', async () => {
    const init = await api.app.inject({ url: '/swagger/static/swagger-initializer.js' });
    assert.equal(init.statusCode, 200);
    assert.match(init.body, /"clientId":\s*"swagger"/);
    assert.match(init.body, /"usePkceWithAuthorizationCodeGrant":\s*true/);
    assert.ok(init.body.includes(AUDIENCE));
    assert.ok(init.body.includes("resolveUrl('./oauth2-redirect.html')"));
    assert.ok(!init.body.includes(PACKAGE_REDIRECT_EXPRESSION));
    const redirect = await api.app.inject({ url: '/swagger/oauth2-redirect.html' });
    assert.equal(redirect.statusCode, 200);
    assert.match(String(redirect.headers['content-security-policy']), /script-src 'self'/);
    const script = redirect.body.match(/src="([^"]+)"/)![1]!;
    const js = await api.app.inject({ url: new URL(script, 'http://api.test/swagger/oauth2-redirect.html').pathname });
    assert.equal(js.statusCode, 200);
    assert.match(js.body, /swaggerUIRedirectOauth2/);
  });

  test('every Swagger UI answer refuses framing and sends no Referer; the redirect page, which carries the code, is never stored', async () => {
    for (const url of ['/swagger/', '/swagger/oauth2-redirect.html?code=c&state=s', '/swagger/static/swagger-ui.css', '/swagger/static/swagger-initializer.js', '/swagger/static/oauth2-redirect.js']) {
      const res = await api.app.inject({ url });
      assert.equal(res.statusCode, 200, url);
      assert.equal(res.headers['x-frame-options'], 'DENY', url);
      assert.equal(res.headers['referrer-policy'], 'no-referrer', url);
    }
    const redirect = await api.app.inject({ url: '/swagger/oauth2-redirect.html?code=c&state=s' });
    assert.equal(redirect.headers['cache-control'], 'no-store');
    assert.match(String(redirect.headers['content-security-policy']), /frame-ancestors 'none'/);
  });

  test('the package still names the redirect expression we rewrite (guards an upgrade)', () => {
    const require = createRequire(import.meta.url);
    const source = readFileSync(require.resolve('@fastify/swagger-ui/lib/swagger-initializer.js'), 'utf8');
    assert.ok(source.includes(PACKAGE_REDIRECT_EXPRESSION));
  });
});
