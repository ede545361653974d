import { testRuntimeConfig } from '../../testing/runtime-config';
import { CONFIG_META_NAME, loadRuntimeConfig, parseRuntimeConfig } from './runtime-config';

const valid = testRuntimeConfig;

describe('runtime configuration', () => {
  it('accepts the server\'s config.json', () => {
    expect(parseRuntimeConfig(valid)).toEqual(valid);
  });

  it('takes an absent mode as token mode (servers older than BFF mode)', () => {
    const { mode: _mode, ...withoutMode } = valid;
    expect(parseRuntimeConfig(withoutMode)).toEqual(valid);
  });

  it('accepts BFF mode with nothing but the BFF\'s origin, and refuses an unknown mode', () => {
    expect(parseRuntimeConfig({ mode: 'bff', apiUrl: 'http://localhost:4300' })).toEqual({ mode: 'bff', apiUrl: 'http://localhost:4300' });
    expect(parseRuntimeConfig({ mode: 'bff', apiUrl: 'http://localhost:4300', authority: 'x', clientId: 'spa' })).toEqual({ mode: 'bff', apiUrl: 'http://localhost:4300' });
    expect(() => parseRuntimeConfig({ mode: 'bff' })).toThrow(/apiUrl/);
    expect(() => parseRuntimeConfig({ mode: 'bff', apiUrl: 'javascript:alert(1)' })).toThrow(/apiUrl/);
    expect(() => parseRuntimeConfig({ ...valid, mode: 'cookie' })).toThrow(/mode/);
  });

  it('refuses a missing field, a non-URL and a non-http URL', () => {
    expect(() => parseRuntimeConfig({ ...valid, clientId: '' })).toThrow(/clientId/);
    expect(() => parseRuntimeConfig({ ...valid, apiUrl: 'not a url' })).toThrow(/apiUrl/);
    expect(() => parseRuntimeConfig({ ...valid, authority: 'javascript:alert(1)' })).toThrow(/authority/);
    expect(() => parseRuntimeConfig({ ...valid, renewBeforeExpirySeconds: 0 })).toThrow(/renewBeforeExpirySeconds/);
    expect(() => parseRuntimeConfig(null)).toThrow();
  });

  afterEach(() => document.querySelector(`meta[name="${CONFIG_META_NAME}"]`)?.remove());

  function inline(content: string): void {
    const meta = document.createElement('meta');
    meta.name = CONFIG_META_NAME;
    meta.content = content;
    document.head.append(meta);
  }

  it('takes the configuration the server wrote into index.html, checked, without a request', async () => {
    const never = (async () => {
      throw new Error('no request expected');
    }) as typeof fetch;
    inline(JSON.stringify(valid));
    expect(await loadRuntimeConfig(never)).toEqual(valid);
    document.querySelector(`meta[name="${CONFIG_META_NAME}"]`)!.setAttribute('content', JSON.stringify({ ...valid, apiUrl: 'javascript:x' }));
    await expect(loadRuntimeConfig(never)).rejects.toThrow(/apiUrl/);
  });

  it('falls back to /config.json when index.html holds the placeholder', async () => {
    inline('__SPA_CONFIG__');
    const ok = (async () => new Response(JSON.stringify(valid), { status: 200 })) as typeof fetch;
    expect(await loadRuntimeConfig(ok)).toEqual(valid);
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
