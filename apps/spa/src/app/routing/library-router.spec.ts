import { TestBed } from '@angular/core/testing';
import { Router } from '@angular/router';
import { provideRouterForOidcLibrary } from './library-router';
import { PAGE_ROUTES, PageRouter } from './page-router';

describe('provideRouterForOidcLibrary', () => {
  beforeEach(() => history.replaceState(null, '', '/?code=abc&state=xyz'));
  afterEach(() => history.replaceState(null, '', '/'));

  it('gives the library a router that moves the app\'s pages, in place of the callback\'s history entry', async () => {
    TestBed.configureTestingModule({ providers: [{ provide: PAGE_ROUTES, useValue: [{ path: '', title: 'Home' }, { path: 'notes', title: 'Notes' }] }, provideRouterForOidcLibrary()] });
    const pages = TestBed.inject(PageRouter);
    const router = TestBed.inject(Router);
    expect(router).not.toBeInstanceOf(Router);
    const entries = history.length;
    expect(await router.navigateByUrl('/notes')).toBe(true);
    expect(location.pathname + location.search).toBe('/notes');
    expect(history.length).toBe(entries);
    expect(pages.route()?.path).toBe('notes');
  });
});
