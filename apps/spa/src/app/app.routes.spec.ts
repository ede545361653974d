import { pageApiCall, preloadPage, routes } from './app.routes';
import { HomePage } from './home/home-page';

describe('preloadPage', () => {
  afterEach(() => vi.restoreAllMocks());

  it('starts loading the chunk of the page the path shows, and no other', () => {
    const lazy = routes.filter((route) => route.loadComponent);
    const spies = new Map(lazy.map((route) => [route.path, vi.spyOn(route, 'loadComponent').mockResolvedValue(class {})]));
    for (const [path, expected] of [['/', ''], ['/notes', 'notes'], ['/session/', 'session'], ['/no/such/page', '**']] as const) {
      for (const spy of spies.values()) spy.mockClear();
      preloadPage(path);
      for (const [routePath, spy] of spies) expect(spy, `${path} → ${routePath}`).toHaveBeenCalledTimes(routePath === expected ? 1 : 0);
    }
  });

  it('has the home page, where every return from the IdP lands, in the initial bundle', () => {
    const home = routes.find((route) => route.path === '');
    expect(home?.component).toBe(HomePage);
    expect(home?.loadComponent).toBeUndefined();
  });
});

describe('pageApiCall', () => {
  it('names the API path the page at a path GETs as it opens', () => {
    expect(pageApiCall('/')).toBe('/api/UserOne');
    expect(pageApiCall('')).toBe('/api/UserOne');
    expect(pageApiCall('/session')).toBeUndefined();
    expect(pageApiCall('/no/such/page')).toBeUndefined();
  });
});
