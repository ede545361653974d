import { computed, signal } from '@angular/core';
import { AuthSession, type ApiRequest, type AuthStatus, type AuthUser, type SessionDetails } from '../app/auth/auth-session';
import type { Problem } from '../app/auth/problem';

type ApiHandler = (request: ApiRequest) => Promise<unknown>;

/** An AuthSession for component tests: state set by the test, API answers scripted. */
export class FakeAuthSession extends AuthSession {
  readonly statusState = signal<AuthStatus>('anonymous');
  readonly userState = signal<AuthUser | null>(null);
  readonly detailsState = signal<SessionDetails | null>(null);
  readonly problemState = signal<Problem | null>(null);
  readonly calls: ApiRequest[] = [];
  loginCalls = 0;
  logoutCalls = 0;
  renewCalls = 0;
  api: ApiHandler = async () => null;

  override readonly status = this.statusState.asReadonly();
  override readonly isAuthenticated = computed(() => this.statusState() === 'authenticated');
  override readonly user = this.userState.asReadonly();
  override readonly details = this.detailsState.asReadonly();
  override readonly problem = this.problemState.asReadonly();

  signIn(user: Partial<AuthUser> = {}): void {
    this.userState.set({ sub: 'auth0|alice', name: 'Alice Example', claims: { sub: 'auth0|alice', name: 'Alice Example' }, ...user });
    this.statusState.set('authenticated');
  }

  override async initialize(): Promise<void> {}
  override async login(): Promise<void> {
    this.loginCalls++;
  }
  override async logout(): Promise<void> {
    this.logoutCalls++;
  }
  override async renew(): Promise<void> {
    this.renewCalls++;
  }
  override async callApi<T>(request: ApiRequest): Promise<T> {
    this.calls.push(request);
    return (await this.api(request)) as T;
  }
  override dismissProblem(): void {
    this.problemState.set(null);
  }
}
