// The oidc-client-ts peer page (../pages/oidc-client-ts.js) as an Angular component: the same
// library with the same settings, the same API call, the same text on the page, here rendered
// from signals.
import { ChangeDetectionStrategy, Component, DOCUMENT, inject, InjectionToken, signal } from '@angular/core';
import { UserManager } from 'oidc-client-ts';

export interface PeerConfig {
  issuer: string;
  api: string;
  audience: string;
  scope: string;
  oidcClientTsLoadUserInfo: boolean;
  clientIds: { oidcClientTsAngular: string };
}

export const PEER_CONFIG = new InjectionToken<Promise<PeerConfig>>('the peer pages configuration');

@Component({
  selector: 'app-root',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <h1>oidc-client-ts in a minimal Angular app</h1>
    <button type="button" (click)="run(login)">Log in</button>
    <button type="button" (click)="run(logout)">Log out</button>
    <p>User: <output id="user">{{ user() }}</output></p>
    <p>API: <output id="api">{{ api() }}</output></p>
    <p>Error: <output id="error">{{ error() }}</output></p>
  `,
})
export class App {
  protected readonly user = signal('');
  protected readonly api = signal('');
  protected readonly error = signal('');
  private readonly document = inject(DOCUMENT);
  private readonly config = inject(PEER_CONFIG);
  private manager?: UserManager;

  constructor() {
    void this.run(() => this.start()).then(() => { this.document.body.dataset['ready'] = 'true'; });
  }

  protected readonly login = () => this.started().signinRedirect();
  protected readonly logout = () => this.started().signoutRedirect();

  protected async run(action: () => Promise<void>): Promise<void> {
    try {
      await action();
    } catch (err) {
      const e = err as { error?: string; error_description?: string; name?: string; message?: string };
      this.error.set(`${e.error ?? e.name ?? 'Error'}: ${e.error_description ?? e.message}`);
    }
  }

  private started(): UserManager {
    if (!this.manager) throw new Error('not started yet');
    return this.manager;
  }

  private async start(): Promise<void> {
    const cfg = await this.config;
    const location = this.document.location;
    const redirectUri = `${location.origin}${location.pathname}`;
    const manager = new UserManager({
      authority: cfg.issuer,
      client_id: cfg.clientIds.oidcClientTsAngular,
      redirect_uri: redirectUri,
      post_logout_redirect_uri: redirectUri,
      scope: cfg.scope,
      extraQueryParams: { audience: cfg.audience },
      loadUserInfo: cfg.oidcClientTsLoadUserInfo,
      revokeTokenAdditionalContentTypes: ['text/plain'],
    });
    this.manager = manager;
    const query = new URLSearchParams(location.search);
    if (query.has('code') && query.has('state')) {
      await manager.signinCallback();
      history.replaceState(null, '', redirectUri);
    }
    const user = await manager.getUser();
    this.user.set(user ? user.profile.name ?? user.profile.sub : '');
    if (user?.access_token) await this.callApi(cfg, user.access_token);
  }

  private async callApi(cfg: PeerConfig, token: string): Promise<void> {
    const res = await fetch(`${cfg.api}/api/UserOne`, { headers: { authorization: `Bearer ${token}` } });
    const body = res.ok ? JSON.stringify(await res.json()) : '';
    this.api.set(`${res.status} ${body}`.trim());
  }
}
