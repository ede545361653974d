import { TestBed } from '@angular/core/testing';
import { firstValueFrom } from 'rxjs';
import { BrowserNavigation } from '../../core/browser-navigation';
import { TOKEN_MODE_CONFIG, type TokenModeConfig } from '../../core/runtime-config';
import { AuthSession } from '../auth-session';
import { ApiError, type Problem } from '../problem';
import { ACCESS_TOKEN_SOURCE } from './access-token-source';
import { OIDC_RUNTIME_LOADER, type OidcRuntime } from './oidc-start';
import { provideSignedOutAuthSession } from './signed-out-auth-session';
import { STORAGE_PREFIX } from './split-security-storage';

const config = { authority: 'http://localhost:4400', apiUrl: 'http://localhost:5001', redirectUrl: 'http://localhost:4200' } as TokenModeConfig;

describe('SignedOutAuthSession', () => {
  let loads: number;
  let logins: TokenModeConfig[];
  let loginProblem: Problem | null;
  let loadFails: boolean;
  let reloads: number;
  let session: AuthSession;

  beforeEach(() => {
    localStorage.clear();
    sessionStorage.clear();
    loads = 0;
    logins = [];
    loginProblem = null;
    loadFails = false;
    reloads = 0;
    const runtime = {
      startLogin: async (c: TokenModeConfig) => {
        logins.push(c);
        return loginProblem;
      },
    } as unknown as OidcRuntime;
    TestBed.configureTestingModule({
      providers: [
        ...provideSignedOutAuthSession(),
        { provide: TOKEN_MODE_CONFIG, useValue: config },
        { provide: OIDC_RUNTIME_LOADER, useValue: async () => (loads++, loadFails ? Promise.reject(new Error('chunk failed')) : runtime) },
        { provide: BrowserNavigation, useValue: { assign: () => {}, reload: () => reloads++ } },
      ],
    });
    session = TestBed.inject(AuthSession);
  });

  it('is signed out from the start, has no token, and loads nothing', async () => {
    await session.initialize();
    expect(session.status()).toBe('anonymous');
    expect(session.isAuthenticated()).toBe(false);
    expect(session.user()).toBeNull();
    expect(session.details()).toBeNull();
    expect(await firstValueFrom(TestBed.inject(ACCESS_TOKEN_SOURCE).accessToken())).toBe('');
    expect(loads).toBe(0);
  });

  it('logs in through the OIDC chunk, with the runtime configuration', async () => {
    await session.login();
    expect(loads).toBe(1);
    expect(logins).toEqual([config]);
    expect(session.problem()).toBeNull();
  });

  it('formats a time once the OIDC chunk is on its way and before the login starts (prepareDateFormatting: the return page then formats at once)', async () => {
    const formatted: number[] = [];
    const formatTime = vi.spyOn(Date.prototype, 'toLocaleTimeString').mockImplementation(() => (formatted.push(loads), ''));
    try {
      await session.login();
    } finally {
      formatTime.mockRestore();
    }
    // Asked for after the chunk (loads 1), before startLogin ran (logins still empty then).
    expect(formatted).toEqual([1]);
    expect(logins).toEqual([config]);
  });

  it('shows why a login could not start: IdP unreachable, or the chunk not loaded', async () => {
    loginProblem = { kind: 'idp-unreachable' };
    await session.login();
    expect(session.problem()).toEqual({ kind: 'idp-unreachable' });
    loadFails = true;
    await session.login();
    expect(session.problem()?.kind).toBe('failed');
    expect(session.problem()?.detail).toContain('chunk failed');
    session.dismissProblem();
    expect(session.problem()).toBeNull();
  });

  it('calls no API: there is no token', async () => {
    const error = await session.callApi({ path: '/api/UserOne' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(loads).toBe(0);
  });

  it('reloads when another tab signs in, and only then', () => {
    const key = `${STORAGE_PREFIX}spa`;
    localStorage.setItem('other', '{"authnResult":{}}');
    window.dispatchEvent(new StorageEvent('storage', { key: 'other' }));
    localStorage.setItem(key, '{"authWellKnownEndPoints":{}}');
    window.dispatchEvent(new StorageEvent('storage', { key }));
    expect(reloads).toBe(0);
    localStorage.setItem(key, '{"authnResult":{"id_token":"x"},"authzData":"at"}');
    window.dispatchEvent(new StorageEvent('storage', { key }));
    expect(reloads).toBe(1);
  });
});
