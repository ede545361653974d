import type { Route, Routes } from '@angular/router';
import { API_PATHS } from './core/api-paths';
import { HomePage } from './home/home-page';

/** Route data: the API path a page GETs as soon as it opens (see FirstPageData). */
export const PAGE_API_CALL = 'pageApiCall';

// The home page is in the initial bundle: it is the page of every return from the IdP (and of a
// first visit), where a lazy chunk only added a request and an asynchronous step to the router's
// first navigation. The other pages load when opened.
export const routes: Routes = [
  { path: '', title: 'Home · OIDC SPA', data: { [PAGE_API_CALL]: API_PATHS.userOne }, component: HomePage },
  { path: 'notes', title: 'Notes · OIDC SPA', loadComponent: () => import('./notes/notes-page').then((m) => m.NotesPage) },
  { path: 'session', title: 'Session · OIDC SPA', loadComponent: () => import('./session/session-page').then((m) => m.SessionPage) },
  { path: '**', title: 'Not found · OIDC SPA', loadComponent: () => import('./shared/not-found-page').then((m) => m.NotFoundPage) },
];

/**
 * Starts loading the page a start-up will show (path relative to the base href), when it is a
 * lazy one, while the configuration loads and the session is restored: the router asks for it
 * only after that.
 */
export function preloadPage(path: string): void {
  const loading = routeOf(path)?.loadComponent?.();
  if (loading instanceof Promise) loading.catch(() => {});
}

/** The API path the page at `path` (relative to the base href) GETs as it opens, if any. */
export function pageApiCall(path: string): string | undefined {
  const call = routeOf(path)?.data?.[PAGE_API_CALL];
  return typeof call === 'string' ? call : undefined;
}

function routeOf(path: string): Route | undefined {
  const wanted = path.replace(/^\/+|\/+$/g, '');
  return routes.find((r) => r.path === wanted) ?? routes.find((r) => r.path === '**');
}
