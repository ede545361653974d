import { loadRuntimeConfig, parseRuntimeConfig } from './runtime-config';

const valid = {
  authority: 'http://localhost:4400',
  clientId: 'spa',
  audience: 'https://auth0-api-spa',
  scope: 'openid profile offline_access auth0-user-api-spa',
  apiUrl: 'http://localhost:5001',
  redirectUrl: 'http://localhost:4200',
  renewBeforeExpirySeconds: 30,
};

describe('runtime configuration', () => {
  it('accepts the server\'s config.json', () => {
    expect(parseRuntimeConfig(valid)).toEqual(valid);
  });

  it('refuses a missing field, a non-URL and a non-http URL', () => {
    expect(() => parseRuntimeConfig({ ...valid, clientId: '' })).toThrow(/clientId/);
    expect(() => parseRuntimeConfig({ ...valid, apiUrl: 'not a url' })).toThrow(/apiUrl/);
    expect(() => parseRuntimeConfig({ ...valid, authority: 'javascript:alert(1)' })).toThrow(/authority/);
    expect(() => parseRuntimeConfig({ ...valid, renewBeforeExpirySeconds: 0 })).toThrow(/renewBeforeExpirySeconds/);
    expect(() => parseRuntimeConfig(null)).toThrow();
  });

  it('loads /config.json without caching and fails on an error status', async () => {
    const seen: Array<[RequestInfo | URL, RequestInit | undefined]> = [];
    const ok = (async (input: RequestInfo | URL, init?: RequestInit) => {
      seen.push([input, init]);
      return new Response(JSON.stringify(valid), { status: 200 });
    }) as typeof fetch;
    expect(await loadRuntimeConfig(ok)).toEqual(valid);
    expect(seen[0]?.[0]).toBe('/config.json');
    expect(seen[0]?.[1]?.cache).toBe('no-store');
    const missing = (async () => new Response('nope', { status: 404 })) as typeof fetch;
    await expect(loadRuntimeConfig(missing)).rejects.toThrow(/404/);
  });
});
