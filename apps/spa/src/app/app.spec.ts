import { Component } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { provideRouter, Router } from '@angular/router';
import { FakeAuthSession } from '../testing/fake-auth-session';
import { App } from './app';
import { AuthSession } from './auth/auth-session';
import { FirstPageData } from './core/first-page-data';

@Component({ template: '' })
class Blank {}

describe('App shell', () => {
  let auth: FakeAuthSession;

  beforeEach(() => {
    auth = new FakeAuthSession();
    TestBed.configureTestingModule({
      imports: [App],
      providers: [provideRouter([]), { provide: AuthSession, useValue: auth }],
    });
  });

  async function render(): Promise<HTMLElement> {
    const fixture = TestBed.createComponent(App);
    await fixture.whenStable();
    return fixture.nativeElement as HTMLElement;
  }

  it('offers log in when signed out, with a skip link and labelled navigation', async () => {
    const element = await render();
    const button = [...element.querySelectorAll('header button')].find((b) => b.textContent?.includes('Log in')) as HTMLButtonElement;
    button.click();
    expect(auth.loginCalls).toBe(1);
    expect(element.querySelector('a.skip-link')?.getAttribute('href')).toBe('#main');
    expect(element.querySelector('nav')?.getAttribute('aria-label')).toBe('Main');
  });

  it('shows the user and logs out when signed in', async () => {
    auth.signIn();
    const element = await render();
    expect(element.querySelector('[data-testid="user-name"]')?.textContent).toBe('Alice Example');
    (element.querySelector('header button') as HTMLButtonElement).click();
    expect(auth.logoutCalls).toBe(1);
  });

  it('shows a session-wide problem as an alert that can be dismissed', async () => {
    auth.problemState.set({ kind: 'idp-unreachable' });
    const fixture = TestBed.createComponent(App);
    await fixture.whenStable();
    const element = fixture.nativeElement as HTMLElement;
    expect(element.querySelector('[role="alert"]')?.textContent).toContain('identity provider cannot be reached');
    (element.querySelector('button.dismiss') as HTMLButtonElement).click();
    await fixture.whenStable();
    expect(element.querySelector('[role="alert"]')).toBeNull();
  });

  it('marks the link of the current page, and only it, for sight and for screen readers', async () => {
    TestBed.resetTestingModule();
    TestBed.configureTestingModule({
      imports: [App],
      providers: [provideRouter([{ path: '', component: Blank }, { path: 'notes', component: Blank }, { path: 'session', component: Blank }]), { provide: AuthSession, useValue: auth }],
    });
    const fixture = TestBed.createComponent(App);
    const router = TestBed.inject(Router);
    const current = () => [...(fixture.nativeElement as HTMLElement).querySelectorAll('nav a')]
      .filter((a) => a.classList.contains('active') || a.hasAttribute('aria-current'))
      .map((a) => `${a.textContent?.trim()} ${a.className} ${a.getAttribute('aria-current')}`);
    for (const [url, link] of [['/', 'Home'], ['/notes', 'Notes'], ['/session?x=1', 'Session'], ['/?x=1', null]] as const) {
      await router.navigateByUrl(url);
      await fixture.whenStable();
      expect(current(), url).toEqual(link ? [`${link} active page`] : []);
    }
  });

  it('keeps the start-up page\'s data through the first navigation and drops it after the next one', async () => {
    TestBed.resetTestingModule();
    TestBed.configureTestingModule({
      imports: [App],
      providers: [provideRouter([{ path: '', component: Blank }, { path: 'notes', component: Blank }]), { provide: AuthSession, useValue: auth }],
    });
    auth.signIn();
    const data = TestBed.inject(FirstPageData);
    data.start('/api/UserOne');
    await render();
    const router = TestBed.inject(Router);
    await router.navigateByUrl('/');
    expect(data.take('/api/UserOne')).toBeDefined();
    data.start('/api/UserOne');
    await router.navigateByUrl('/notes');
    expect(data.take('/api/UserOne')).toBeUndefined();
  });
});
