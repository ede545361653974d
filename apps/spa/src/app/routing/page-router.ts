import { computed, DestroyRef, DOCUMENT, inject, Injectable, InjectionToken, signal, type Type } from '@angular/core';

/** A page of the app: the path it is at (no leading or trailing slash, `**` for any other). */
export interface PageRoute {
  readonly path: string;
  readonly title: string;
  /** The API path the page GETs as it opens (see FirstPageData). */
  readonly pageApiCall?: string;
  /** A page in the initial bundle, or `loadComponent` for one in a chunk of its own. */
  readonly component?: Type<unknown>;
  readonly loadComponent?: () => Promise<Type<unknown>>;
}

export const PAGE_ROUTES = new InjectionToken<readonly PageRoute[]>('PAGE_ROUTES');

/** A path of this origin as a route's path: no leading or trailing slash, no query or fragment. */
export function routePath(path: string): string {
  return path.replace(/[?#].*$/s, '').replace(/^\/+|\/+$/g, '');
}

/** The route of `path` (a path of this origin): its page, or the `**` route. */
export function routeOf(routes: readonly PageRoute[], path: string): PageRoute | undefined {
  const wanted = routePath(path);
  return routes.find((r) => r.path === wanted) ?? routes.find((r) => r.path === '**');
}

/**
 * Which page the address bar names, and in-app navigation between pages (the History API). The
 * app is served at the root of its origin. Our own, not @angular/router: a start-up compiles and
 * runs a few hundred bytes of it instead of the router's ≈ 80 kB (see the bench README, "What
 * `main` holds"). Its first navigation writes nothing to the address bar, so the URL a page
 * starts from is left to whoever reads it (the OIDC library takes the code out of it).
 */
@Injectable({ providedIn: 'root' })
export class PageRouter {
  private readonly routes = inject(PAGE_ROUTES);
  private readonly window = inject(DOCUMENT).defaultView!;
  private readonly url = signal(this.currentUrl());
  private readonly navigationCount = signal(0);

  /** The route of the page the address bar names. */
  readonly route = computed(() => routeOf(this.routes, this.url().pathname));
  /** In-app moves to another page since the page loaded (0: still on the page the app started on). */
  readonly navigations = this.navigationCount.asReadonly();

  constructor() {
    const back = () => this.moved();
    this.window.addEventListener('popstate', back);
    inject(DestroyRef).onDestroy(() => this.window.removeEventListener('popstate', back));
  }

  /** Shows the page at `url` (a path of this origin, with its query if any) and adds it to the history. */
  navigate(url: string): void {
    this.window.history.pushState(null, '', url);
    this.moved();
  }

  /** Whether the address bar is at `path`; `exact`: with no query either. */
  isActive(path: string, exact = false): boolean {
    const url = this.url();
    return routePath(url.pathname) === routePath(path) && (!exact || url.search === '');
  }

  private moved(): void {
    const from = this.route();
    this.url.set(this.currentUrl());
    if (this.route() !== from) this.navigationCount.update((n) => n + 1);
  }

  private currentUrl(): { pathname: string; search: string } {
    const { pathname, search } = this.window.location;
    return { pathname, search };
  }
}
