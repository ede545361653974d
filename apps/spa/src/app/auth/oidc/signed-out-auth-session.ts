import { DestroyRef, DOCUMENT, inject, Injectable, signal, type EnvironmentProviders, type Provider } from '@angular/core';
import { of, type Observable } from 'rxjs';
import { BrowserNavigation } from '../../core/browser-navigation';
import { TOKEN_MODE_CONFIG } from '../../core/runtime-config';
import { AuthSession, type AuthStatus } from '../auth-session';
import { ApiError, type Problem } from '../problem';
import { ACCESS_TOKEN_SOURCE, type AccessTokenSource } from './access-token-source';
import { hasStoredTokens, prepareDateFormatting } from './library-internals';
import { OIDC_CONFIG_ID } from './oidc-config-id';
import { OIDC_RUNTIME_LOADER } from './oidc-start';
import { SplitSecurityStorage } from './split-security-storage';

/**
 * The AuthSession of a start with no stored session and no return from the IdP: signed out, with
 * no token, and without angular-auth-oidc-client. "Log in" loads the OIDC chunk and starts the
 * login from there (the page then leaves for the IdP, and comes back with the OIDC session). When
 * another tab signs in, this tab reloads and starts with the shared session.
 */
@Injectable()
export class SignedOutAuthSession extends AuthSession implements AccessTokenSource {
  private readonly config = inject(TOKEN_MODE_CONFIG);
  private readonly storage = inject(SplitSecurityStorage);
  private readonly loadRuntime = inject(OIDC_RUNTIME_LOADER);
  private readonly navigation = inject(BrowserNavigation);
  private readonly problemState = signal<Problem | null>(null);

  override readonly status = signal<AuthStatus>('anonymous').asReadonly();
  override readonly isAuthenticated = signal(false).asReadonly();
  override readonly user = signal(null).asReadonly();
  override readonly details = signal(null).asReadonly();
  override readonly problem = this.problemState.asReadonly();

  constructor() {
    super();
    const window = inject(DOCUMENT).defaultView;
    const follow = (event: StorageEvent) => {
      const shared = this.storage.isOwnKey(event.key) ? this.storage.readShared(OIDC_CONFIG_ID) : null;
      if (hasStoredTokens(shared)) this.navigation.reload();
    };
    window?.addEventListener('storage', follow);
    inject(DestroyRef).onDestroy(() => window?.removeEventListener('storage', follow));
  }

  override async initialize(): Promise<void> {}

  override async login(): Promise<void> {
    this.problemState.set(null);
    try {
      const runtime = this.loadRuntime();
      // While the chunk loads: the return page's ID token check then formats its times at once.
      prepareDateFormatting();
      const problem = await (await runtime).startLogin(this.config);
      if (problem) this.problemState.set(problem);
    } catch (error) {
      this.problemState.set({ kind: 'failed', detail: `sign-in could not start (${error instanceof Error ? error.message : 'unknown error'})` });
    }
  }

  /** There is no session to end. */
  override async logout(): Promise<void> {}

  override async renew(): Promise<void> {}

  override async callApi<T>(): Promise<T> {
    throw new ApiError({ kind: 'failed', detail: 'Not signed in.' }, -1);
  }

  override dismissProblem(): void {
    this.problemState.set(null);
  }

  accessToken(): Observable<string> {
    return of('');
  }
}

export function provideSignedOutAuthSession(): (Provider | EnvironmentProviders)[] {
  return [
    SignedOutAuthSession,
    { provide: AuthSession, useExisting: SignedOutAuthSession },
    { provide: ACCESS_TOKEN_SOURCE, useExisting: SignedOutAuthSession },
  ];
}
