import { Component } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { PageLink } from './page-link';
import { PAGE_ROUTES, PageRouter } from './page-router';

@Component({
  imports: [PageLink],
  template: `<a appPageLink="/notes">Notes</a>`,
})
class Host {}

describe('PageLink', () => {
  beforeEach(() => {
    history.replaceState(null, '', '/');
    TestBed.configureTestingModule({ providers: [{ provide: PAGE_ROUTES, useValue: [{ path: '', title: 'Home' }, { path: 'notes', title: 'Notes' }] }] });
  });

  afterEach(() => history.replaceState(null, '', '/'));

  async function link(): Promise<HTMLAnchorElement> {
    const fixture = TestBed.createComponent(Host);
    await fixture.whenStable();
    return (fixture.nativeElement as HTMLElement).querySelector('a')!;
  }

  it('is a real link to the page', async () => {
    expect((await link()).getAttribute('href')).toBe('/notes');
  });

  it('follows a plain click in the app, without loading the page', async () => {
    const a = await link();
    const click = new MouseEvent('click', { bubbles: true, cancelable: true, button: 0 });
    a.dispatchEvent(click);
    expect(click.defaultPrevented).toBe(true);
    expect(location.pathname).toBe('/notes');
    expect(TestBed.inject(PageRouter).navigations()).toBe(1);
  });

  it('leaves a click with a modifier or another button to the browser (a new tab or window)', async () => {
    const a = await link();
    for (const init of [{ ctrlKey: true }, { metaKey: true }, { shiftKey: true }, { altKey: true }, { button: 1 }]) {
      const click = new MouseEvent('click', { bubbles: true, cancelable: true, ...init });
      a.addEventListener('click', (e) => e.preventDefault(), { once: true }); // jsdom cannot open the tab
      a.dispatchEvent(click);
      expect(location.pathname, JSON.stringify(init)).toBe('/');
    }
    expect(TestBed.inject(PageRouter).navigations()).toBe(0);
  });
});
