import { Component, ErrorHandler, type Type } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { PageOutlet } from './page-outlet';
import { PAGE_ROUTES, PageRouter, type PageRoute } from './page-router';

@Component({ template: '<h1>Home</h1>' })
class Home {}

@Component({ template: '<h1>Notes</h1>' })
class Notes {}

@Component({ template: '<h1>Session</h1>' })
class Session {}

/** The outlet inserts the page after itself, as <router-outlet> does: inside its parent. */
@Component({ imports: [PageOutlet], template: '<app-page-outlet />' })
class Host {}

describe('PageOutlet', () => {
  const loads = new Map<string, { resolve: (page: Type<unknown>) => void; reject: (error: unknown) => void }>();
  const lazy = (path: string): (() => Promise<Type<unknown>>) => () => new Promise((resolve, reject) => loads.set(path, { resolve, reject }));
  const routes: PageRoute[] = [
    { path: '', title: 'Home · test', component: Home },
    { path: 'notes', title: 'Notes · test', loadComponent: lazy('notes') },
    { path: 'session', title: 'Session · test', loadComponent: lazy('session') },
  ];
  const errors: unknown[] = [];

  beforeEach(() => {
    loads.clear();
    errors.length = 0;
    history.replaceState(null, '', '/');
    document.title = '';
    TestBed.configureTestingModule({
      providers: [{ provide: PAGE_ROUTES, useValue: routes }, { provide: ErrorHandler, useValue: { handleError: (e: unknown) => errors.push(e) } }],
    });
  });

  afterEach(() => history.replaceState(null, '', '/'));

  async function outlet() {
    const fixture = TestBed.createComponent(Host);
    await fixture.whenStable();
    const heading = () => [...(fixture.nativeElement as HTMLElement).querySelectorAll('h1')].map((h) => h.textContent).join() || null;
    return { fixture, heading, router: TestBed.inject(PageRouter) };
  }

  it('shows a page of the initial bundle in its first render, and names it in the title', async () => {
    const { heading } = await outlet();
    expect(heading()).toBe('Home');
    expect(document.title).toBe('Home · test');
  });

  it('shows a page of its own chunk once loaded, the page before it until then', async () => {
    const { fixture, heading, router } = await outlet();
    router.navigate('/notes');
    await fixture.whenStable();
    expect(heading()).toBe('Home');
    expect(document.title).toBe('Home · test');
    loads.get('notes')!.resolve(Notes);
    await vi.waitFor(() => expect(heading()).toBe('Notes'));
    expect(document.title).toBe('Notes · test');
  });

  it('never shows a page whose chunk arrives after the user has moved on', async () => {
    const { fixture, heading, router } = await outlet();
    router.navigate('/notes');
    await fixture.whenStable();
    router.navigate('/session');
    await fixture.whenStable();
    loads.get('session')!.resolve(Session);
    await vi.waitFor(() => expect(heading()).toBe('Session'));
    loads.get('notes')!.resolve(Notes);
    await new Promise((resolve) => setTimeout(resolve));
    await fixture.whenStable();
    expect(heading()).toBe('Session');
    expect(document.title).toBe('Session · test');
  });

  it('reports a chunk that cannot load and stays on the page it shows', async () => {
    const { fixture, heading, router } = await outlet();
    router.navigate('/notes');
    await fixture.whenStable();
    loads.get('notes')!.reject(new Error('chunk failed'));
    await vi.waitFor(() => expect(errors).toHaveLength(1));
    await fixture.whenStable();
    expect(heading()).toBe('Home');
  });
});
