import { Component } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { PAGE_ROUTES, PageRouter, routeOf, type PageRoute } from './page-router';

@Component({ template: '' })
class Blank {}

const routes: PageRoute[] = [
  { path: '', title: 'Home', component: Blank },
  { path: 'notes', title: 'Notes', component: Blank },
  { path: '**', title: 'Not found', component: Blank },
];

describe('PageRouter', () => {
  function start(url: string): PageRouter {
    history.replaceState(null, '', url);
    TestBed.configureTestingModule({ providers: [{ provide: PAGE_ROUTES, useValue: routes }] });
    return TestBed.inject(PageRouter);
  }

  afterEach(() => history.replaceState(null, '', '/'));

  it('finds the route of a path, with or without slashes, query or fragment, and `**` for any other', () => {
    for (const [path, expected] of [['/', ''], ['', ''], ['/notes', 'notes'], ['/notes/?x=1#top', 'notes'], ['/notes/deeper', '**'], ['/nope', '**']] as const) {
      expect(routeOf(routes, path)?.path, path).toBe(expected);
    }
    expect(routeOf([], '/')).toBeUndefined();
  });

  it('starts on the page the address bar names, without writing to the history', () => {
    const entries = history.length;
    const router = start('/notes?x=1');
    expect(router.route()?.path).toBe('notes');
    expect(router.navigations()).toBe(0);
    expect(history.length).toBe(entries);
    expect(location.search).toBe('?x=1');
  });

  it('navigates by adding a history entry, and follows the browser\'s back and forward', () => {
    const router = start('/');
    const entries = history.length;
    router.navigate('/notes');
    expect(location.pathname).toBe('/notes');
    expect(history.length).toBe(entries + 1);
    expect(router.route()?.path).toBe('notes');
    expect(router.navigations()).toBe(1);
    history.replaceState(null, '', '/');
    window.dispatchEvent(new PopStateEvent('popstate'));
    expect(router.route()?.path).toBe('');
    expect(router.navigations()).toBe(2);
  });

  it('counts moves to another page only: the same page at another address is no navigation', () => {
    const router = start('/?x=1');
    router.navigate('/');
    router.navigate('/nope');
    router.navigate('/other');
    expect(router.route()?.path).toBe('**');
    expect(router.navigations()).toBe(1);
  });

  it('says whether the address bar is at a path, exactly (no query) when asked', () => {
    const router = start('/notes?x=1');
    expect(router.isActive('/notes')).toBe(true);
    expect(router.isActive('/notes', true)).toBe(false);
    expect(router.isActive('/')).toBe(false);
    router.navigate('/');
    expect(router.isActive('/', true)).toBe(true);
  });

  it('stops following the history when its injector is destroyed', () => {
    const router = start('/');
    TestBed.resetTestingModule();
    history.replaceState(null, '', '/notes');
    window.dispatchEvent(new PopStateEvent('popstate'));
    expect(router.route()?.path).toBe('');
  });
});
