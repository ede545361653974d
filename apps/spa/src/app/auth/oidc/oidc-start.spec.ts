import { oidcNeededAtStart } from './oidc-start';
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
