// A stand-in authorization server for the API's unit tests: discovery, JWKS and introspection on
// a loopback port, signing keys from jose, and counters for every fetch so tests can prove what
// the API did (and did not) ask for.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export interface TestKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export interface IntrospectionAnswer {
  [claim: string]: unknown;
}

export interface TestIssuer {
  issuer: string;
  url: string;
  keys: TestKey[];
  /** Keys served in the JWKS (mutable: rotate by changing it). */
  published: TestKey[];
  jwksFetches: number;
  discoveryFetches: number;
  /** Every request received, answered or not (also while down). */
  requests: number;
  introspectionCalls: number;
  /** Answer 503 to everything while true. */
  down: boolean;
  /** While set, introspection requests are counted, then answered only once it settles. */
  introspectionGate: Promise<void> | undefined;
  /** Introspection answers by token; unknown tokens are inactive. */
  references: Map<string, IntrospectionAnswer>;
  /** Query parameters of every authorization request. */
  authorizeRequests: URLSearchParams[];
  /** Forms posted to the token endpoint. */
  tokenRequests: URLSearchParams[];
  /** Basic credentials the introspection endpoint accepts. */
  clientCredentials: { id: string; secret: string };
  newKey(alg?: string, kid?: string): Promise<TestKey>;
  sign(claims?: JWTPayload, opts?: SignOptions): Promise<string>;
  /** Claims of a valid access token for alice, from the spa client. */
  claims(extra?: JWTPayload): JWTPayload;
  close(): Promise<void>;
}

export interface SignOptions {
  key?: TestKey;
  header?: Record<string, unknown>;
  /** Drop the kid from the header. */
  noKid?: boolean;
}

export const AUDIENCE = 'https://auth0-api-spa';
export const SCOPE = 'auth0-user-api-spa';

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startTestIssuer(opts: { trailingSlash?: boolean; withIntrospection?: boolean } = {}): Promise<TestIssuer> {
  let server: Server;
  const state = {} as TestIssuer;
  server = createServer(async (req, res) => {
    state.requests++;
    const path = (req.url ?? '/').split('?')[0];
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (state.down) return json(503, { error: 'down' });
    if (path === '/.well-known/openid-configuration') {
      state.discoveryFetches++;
      return json(200, {
        issuer: state.issuer,
        jwks_uri: `${state.url}/jwks`,
        authorization_endpoint: `${state.url}/authorize`,
        token_endpoint: `${state.url}/oauth/token`,
        ...(opts.withIntrospection === false ? {} : { introspection_endpoint: `${state.url}/introspect` }),
      });
    }
    if (path === '/jwks') {
      state.jwksFetches++;
      return json(200, { keys: state.published.map((k) => ({ ...k.publicJwk, kid: k.kid, alg: k.alg, use: 'sig' })) });
    }
    if (path === '/introspect' && req.method === 'POST') {
      state.introspectionCalls++;
      const expected = `Basic ${Buffer.from(`${state.clientCredentials.id}:${state.clientCredentials.secret}`).toString('base64')}`;
      if (req.headers.authorization !== expected) return json(401, { error: 'invalid_client' });
      const token = new URLSearchParams(await readBody(req)).get('token') ?? '';
      if (state.introspectionGate) await state.introspectionGate;
      return json(200, state.references.get(token) ?? { active: false });
    }
    if (path === '/authorize') {
      // An IdP that signs everyone in at once: straight back to the client with a code.
      const q = new URL(req.url ?? '/', state.url).searchParams;
      state.authorizeRequests.push(q);
      const back = new URL(q.get('redirect_uri') ?? 'http://invalid');
      back.searchParams.set('code', 'test-code');
      back.searchParams.set('state', q.get('state') ?? '');
      res.writeHead(302, { location: back.href });
      return res.end();
    }
    if (path === '/oauth/token') {
      // Just enough of a token endpoint for Swagger UI's code flow in the browser test.
      res.setHeader('access-control-allow-origin', '*');
      res.setHeader('access-control-allow-headers', '*');
      if (req.method === 'OPTIONS') return json(204, {});
      const form = new URLSearchParams(await readBody(req));
      state.tokenRequests.push(form);
      const access = await state.sign(state.claims({ azp: form.get('client_id') ?? '', client_id: form.get('client_id') ?? '' }));
      return json(200, { access_token: access, token_type: 'Bearer', expires_in: 300, scope: SCOPE });
    }
    json(404, { error: 'not found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  const newKey = async (alg = 'RS256', kid = `key-${alg}-${Math.random().toString(36).slice(2, 8)}`): Promise<TestKey> => {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const key = { kid, alg, privateKey, publicJwk: await exportJWK(publicKey) };
    state.keys.push(key);
    return key;
  };

  Object.assign(state, {
    issuer: opts.trailingSlash ? `${url}/` : url,
    url,
    keys: [],
    published: [],
    jwksFetches: 0,
    discoveryFetches: 0,
    requests: 0,
    introspectionCalls: 0,
    introspectionGate: undefined,
    down: false,
    references: new Map(),
    tokenRequests: [],
    authorizeRequests: [],
    clientCredentials: { id: 'api', secret: 'test-api-secret' },
    newKey,
    claims(extra: JWTPayload = {}): JWTPayload {
      const now = Math.floor(Date.now() / 1000);
      return { iss: state.issuer, sub: 'alice', aud: [AUDIENCE], azp: 'spa', client_id: 'spa', scope: SCOPE, iat: now, exp: now + 300, jti: Math.random().toString(36).slice(2), ...extra };
    },
    async sign(claims?: JWTPayload, o: SignOptions = {}): Promise<string> {
      const key = o.key ?? state.published[0]!;
      const header = { alg: key.alg, typ: 'at+jwt', ...(o.noKid ? {} : { kid: key.kid }), ...o.header };
      return new SignJWT(claims ?? state.claims()).setProtectedHeader(header as { alg: string }).sign(key.privateKey);
    },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  });
  state.published.push(await newKey('RS256', 'rsa-1'));
  return state;
}
