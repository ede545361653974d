import { signal } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { FakeAuthSession } from '../../testing/fake-auth-session';
import { AuthSession } from '../auth/auth-session';
import { Clock, formatCountdown } from '../core/clock';
import { SessionPage } from './session-page';

describe('SessionPage', () => {
  const issued = Date.UTC(2026, 0, 1, 12, 0, 0);
  let auth: FakeAuthSession;
  let now: ReturnType<typeof signal<number>>;

  beforeEach(() => {
    auth = new FakeAuthSession();
    now = signal(issued + 60_000);
    TestBed.configureTestingModule({
      imports: [SessionPage],
      providers: [
        { provide: AuthSession, useValue: auth },
        { provide: Clock, useValue: { now } },
      ],
    });
  });

  function signInWithSession(): void {
    auth.signIn({ claims: { sub: 'auth0|alice', name: 'Alice Example', iat: issued / 1000 } });
    auth.detailsState.set({
      scopes: ['openid', 'auth0-user-api-spa'],
      loggedInAt: issued,
      accessTokenIssuedAt: issued,
      accessTokenExpiresAt: issued + 300_000,
      renewsAt: issued + 270_000,
      lastRenewal: null,
    });
  }

  it('shows claims, scopes, the countdown and the timeline', async () => {
    signInWithSession();
    const fixture = TestBed.createComponent(SessionPage);
    await fixture.whenStable();
    const element = fixture.nativeElement as HTMLElement;
    expect(element.querySelector('[data-testid="countdown"]')?.textContent).toBe('expires in 4:00');
    expect(element.querySelector('[data-testid="scopes"]')?.textContent).toContain('auth0-user-api-spa');
    expect(element.querySelector('[data-testid="claims"]')?.textContent).toContain('auth0|alice');
    expect(element.querySelector('app-session-timeline [role="img"]')?.getAttribute('aria-label')).toMatch(/issued at .* renews at .* expires at/);

    now.set(issued + 301_000);
    await fixture.whenStable();
    expect(element.querySelector('[data-testid="countdown"]')?.textContent).toBe('expired');
  });

  it('renews on demand and shows the last renewal', async () => {
    signInWithSession();
    auth.renew = async () => {
      auth.renewCalls++;
      auth.detailsState.update((d) => d && { ...d, lastRenewal: { at: issued + 61_000, ok: true } });
    };
    const fixture = TestBed.createComponent(SessionPage);
    await fixture.whenStable();
    const element = fixture.nativeElement as HTMLElement;
    expect(element.querySelector('[data-testid="last-renewal"]')?.textContent).toContain('none yet');
    const button = [...element.querySelectorAll('button')].find((b) => b.textContent?.includes('Renew now')) as HTMLButtonElement;
    button.click();
    await vi.waitFor(async () => {
      await fixture.whenStable();
      expect(element.querySelector('[data-testid="last-renewal"]')?.textContent).toContain('succeeded');
    });
    expect(auth.renewCalls).toBe(1);
  });

  it('asks to log in when signed out', async () => {
    const fixture = TestBed.createComponent(SessionPage);
    await fixture.whenStable();
    expect((fixture.nativeElement as HTMLElement).textContent).toContain('Log in to see your session.');
  });

  it('formats countdowns', () => {
    expect(formatCountdown(245_000)).toBe('4:05');
    expect(formatCountdown(-5)).toBe('0:00');
  });
});
