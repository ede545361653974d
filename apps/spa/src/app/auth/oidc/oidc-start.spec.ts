import { oidcNeededAtStart, takeCallbackUrl } from './oidc-start';
import { SplitSecurityStorage, STORAGE_PREFIX } from './split-security-storage';

describe('oidcNeededAtStart', () => {
  let storage: SplitSecurityStorage;

  beforeEach(() => {
    localStorage.clear();
    sessionStorage.clear();
    storage = new SplitSecurityStorage();
  });

  it('is false on a signed-out visit with nothing of ours stored', () => {
    localStorage.setItem('another-app', '{"authnResult":{}}');
    for (const search of ['', '?', '?tab=notes', '?codes=1']) expect(oidcNeededAtStart(search, storage), search).toBe(false);
  });

  it('is true on a return from the IdP, with a code or with an error', () => {
    for (const search of ['?code=abc&state=xyz', '?state=xyz&code=abc&iss=http%3A%2F%2Flocalhost%3A4400', '?error=access_denied&state=xyz', '?state=xyz']) {
      expect(oidcNeededAtStart(search, storage), search).toBe(true);
    }
  });

  it('is true with a stored session, or with a login in flight in this tab', () => {
    localStorage.setItem(`${STORAGE_PREFIX}spa`, '{"authnResult":{}}');
    expect(oidcNeededAtStart('', storage)).toBe(true);
    localStorage.clear();
    sessionStorage.setItem(`${STORAGE_PREFIX}spa`, '{"codeVerifier":"v"}');
    expect(oidcNeededAtStart('', storage)).toBe(true);
  });
});

describe('takeCallbackUrl', () => {
  it('on a return from the IdP (a code or an error), replaces the address by the same one without query or fragment, and returns the full one', () => {
    for (const href of ['http://localhost:4200/?code=abc&state=xyz', 'http://localhost:4200/app/?state=xyz&code=abc&iss=x#frag', 'http://localhost:4200/?error=access_denied&state=xyz']) {
      const written: string[] = [];
      expect(takeCallbackUrl(href, (url) => written.push(url)), href).toBe(href);
      const expected = new URL(href);
      expect(written, href).toEqual([expected.origin + expected.pathname]);
    }
  });

  it('leaves any other address alone', () => {
    const written: string[] = [];
    for (const href of ['http://localhost:4200/', 'http://localhost:4200/notes?tab=1', 'http://localhost:4200/?codes=1', 'http://localhost:4200/#code=abc']) {
      expect(takeCallbackUrl(href, (url) => written.push(url)), href).toBeNull();
    }
    expect(written).toEqual([]);
  });
});
