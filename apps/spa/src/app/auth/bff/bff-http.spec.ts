import { TestBed } from '@angular/core/testing';
import { FakeBffFetch } from '../../../testing/fake-bff-fetch';
import { BFF_FETCH, BffCallError, BffHttp } from './bff-http';
import { EARLY_BFF_REQUESTS, startEarlyBffRequests, type EarlyBffRequests } from './early-bff-requests';

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

describe('BffHttp', () => {
  let backend: FakeBffFetch;

  function setUp(early: EarlyBffRequests | null = null): BffHttp {
    backend = new FakeBffFetch();
    TestBed.configureTestingModule({ providers: [BffHttp, { provide: BFF_FETCH, useValue: backend.fetch }, { provide: EARLY_BFF_REQUESTS, useValue: early }] });
    return TestBed.inject(BffHttp);
  }

  afterEach(() => backend.expectNothingPending());

  it('sends X-CSRF: 1 and this origin\'s cookie with every call, relative or absolute on this origin', async () => {
    const http = setUp();
    const calls: [string, string, string][] = [['GET', '/bff/user', '/bff/user'], ['POST', '/api/notes', '/api/notes'], ['GET', `${location.origin}/api/UserOne?x=1`, '/api/UserOne?x=1']];
    for (const [method, path, sent] of calls) {
      const result = http.request(method as 'GET' | 'POST', path, method === 'POST' ? { text: 'hi' } : undefined);
      const call = await backend.expectOne(method, sent);
      expect(call.headers.get('X-CSRF'), path).toBe('1');
      expect(call.credentials, path).toBe('same-origin');
      call.respond({ ok: true });
      expect(await result).toEqual({ ok: true });
    }
  });

  it('never calls another origin: the CSRF header and the cookie stay on this one', async () => {
    const http = setUp();
    for (const path of ['//elsewhere.example/api', 'https://elsewhere.example/api', '/\\elsewhere.example/api']) {
      await expect(http.request('GET', path), path).rejects.toThrow(/own origin only/);
    }
    await backend.expectNothingPending();
  });

  it('a refusal is a BffCallError with the status and body; no answer at all is status 0', async () => {
    const http = setUp();
    let result = http.request('GET', '/api/UserOne');
    (await backend.expectOne('GET', '/api/UserOne')).respond({ detail: 'insufficient_scope' }, 403);
    await expect(result).rejects.toEqual(new BffCallError(403, { detail: 'insufficient_scope' }));
    await expect(result).rejects.toMatchObject({ status: 403, body: { detail: 'insufficient_scope' } });
    result = http.request('GET', '/api/UserOne');
    (await backend.expectOne('GET', '/api/UserOne')).fail();
    await expect(result).rejects.toMatchObject({ status: 0 });
  });

  it('a GET the start-up already sent takes its answer once; an early GET that failed on the network is sent again', async () => {
    const early = startEarlyBffRequests('/api/UserOne', ((url: string) =>
      url === '/bff/user' ? Promise.reject(new TypeError('Failed to fetch')) : Promise.resolve(json({ data: ['early'] }))) as typeof fetch);
    const http = setUp(early);
    expect(await http.request('GET', '/api/UserOne')).toEqual({ data: ['early'] });
    await backend.expectNothingPending();
    // Taken once: the next GET asks the BFF.
    const again = http.request('GET', '/api/UserOne');
    (await backend.expectOne('GET', '/api/UserOne')).respond({ data: ['fresh'] });
    expect(await again).toEqual({ data: ['fresh'] });
    // The early /bff/user got no answer: sent again.
    const user = http.request('GET', '/bff/user');
    (await backend.expectOne('GET', '/bff/user')).respond({ sub: 'x' });
    expect(await user).toEqual({ sub: 'x' });
  });

  it('a POST is never answered by an early GET of the same path', async () => {
    const early = startEarlyBffRequests(undefined, (() => Promise.resolve(json({ early: true }))) as unknown as typeof fetch);
    const http = setUp(early);
    const posted = http.request('POST', '/bff/user');
    (await backend.expectOne('POST', '/bff/user')).respond({ posted: true });
    expect(await posted).toEqual({ posted: true });
  });
});
