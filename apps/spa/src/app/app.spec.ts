import { ApplicationRef, Component } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { FakeAuthSession } from '../testing/fake-auth-session';
import { App } from './app';
import { AuthSession } from './auth/auth-session';
import { FirstPageData } from './core/first-page-data';
import { PAGE_ROUTES, PageRouter, type PageRoute } from './routing/page-router';

@Component({ template: '' })
class Blank {}

describe('App shell', () => {
  let auth: FakeAuthSession;

  function configure(routes: PageRoute[]): void {
    TestBed.resetTestingModule();
    TestBed.configureTestingModule({
      imports: [App],
      providers: [{ provide: PAGE_ROUTES, useValue: routes }, { provide: AuthSession, useValue: auth }],
    });
  }

  beforeEach(() => {
    history.replaceState(null, '', '/');
    auth = new FakeAuthSession();
    configure([]);
  });

  afterEach(() => history.replaceState(null, '', '/'));

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
    configure(['', 'notes', 'session'].map((path) => ({ path, title: path, component: Blank })));
    const fixture = TestBed.createComponent(App);
    const router = TestBed.inject(PageRouter);
    const current = () => [...(fixture.nativeElement as HTMLElement).querySelectorAll('nav a')]
      .filter((a) => a.classList.contains('active') || a.hasAttribute('aria-current'))
      .map((a) => `${a.textContent?.trim()} ${a.className} ${a.getAttribute('aria-current')}`);
    for (const [url, link] of [['/', 'Home'], ['/notes', 'Notes'], ['/session?x=1', 'Session'], ['/?x=1', null]] as const) {
      router.navigate(url);
      await fixture.whenStable();
      expect(current(), url).toEqual(link ? [`${link} active page`] : []);
    }
  });

  it('keeps the start-up page\'s data through the first render and drops it after an in-app navigation', async () => {
    configure(['', 'notes'].map((path) => ({ path, title: path, component: Blank })));
    auth.signIn();
    const data = TestBed.inject(FirstPageData);
    data.start('/api/UserOne');
    await render();
    expect(data.take('/api/UserOne')).toBeDefined();
    data.start('/api/UserOne');
    TestBed.inject(PageRouter).navigate('/notes');
    await TestBed.inject(ApplicationRef).whenStable();
    expect(data.take('/api/UserOne')).toBeUndefined();
  });

  it('makes the page again when another user signs in (another tab), not on a first sign-in or the same user again', async () => {
    const made: string[] = [];
    @Component({ template: '<h1>page</h1>' })
    class CountedPage {
      constructor() {
        made.push(auth.user()?.sub ?? 'nobody');
      }
    }
    configure([{ path: '', title: 'Home', component: CountedPage }, { path: 'notes', title: 'Notes', loadComponent: async () => CountedPage }]);
    const fixture = TestBed.createComponent(App);
    await fixture.whenStable();
    const signOut = () => {
      auth.userState.set(null);
      auth.statusState.set('anonymous');
    };
    const step = async (change: () => void) => {
      change();
      await fixture.whenStable();
      await vi.waitFor(() => expect((fixture.nativeElement as HTMLElement).querySelector('h1')).not.toBeNull());
    };
    expect(made).toEqual(['nobody']);
    await step(() => auth.signIn());
    await step(() => auth.signIn({ name: 'Alice, renewed' }));
    await step(signOut);
    await step(() => auth.signIn());
    expect(made, 'first sign-in, a renewal, signing out and in again as alice').toEqual(['nobody']);
    await step(() => auth.signIn({ sub: 'auth0|bob', name: 'Bob Example' }));
    expect(made).toEqual(['nobody', 'auth0|bob']);
    // A page of its own chunk too; and after signing out, a different user than the last one.
    await step(() => TestBed.inject(PageRouter).navigate('/notes'));
    await step(signOut);
    await step(() => auth.signIn());
    await vi.waitFor(() => expect(made).toEqual(['nobody', 'auth0|bob', 'auth0|bob', 'auth0|alice']));
  });

  it('moves focus to the page after an in-app navigation, not at start-up', async () => {
    configure(['', 'notes'].map((path) => ({ path, title: path, component: Blank })));
    const fixture = TestBed.createComponent(App);
    document.body.appendChild(fixture.nativeElement as HTMLElement);
    await fixture.whenStable();
    expect(document.activeElement?.id).not.toBe('main');
    TestBed.inject(PageRouter).navigate('/notes');
    await fixture.whenStable();
    expect(document.activeElement?.id).toBe('main');
    (fixture.nativeElement as HTMLElement).remove();
  });
});
