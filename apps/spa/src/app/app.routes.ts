import { API_PATHS } from './core/api-paths';
import { HomePage } from './home/home-page';
import { routeOf, type PageRoute } from './routing/page-router';

// The home page is in the initial bundle: it is the page of every return from the IdP (and of a
// first visit), where a lazy chunk only added a request and an asynchronous step to the start-up.
// The other pages load when opened.
export const routes: readonly PageRoute[] = [
  { path: '', title: 'Home · OIDC SPA', pageApiCall: API_PATHS.userOne, component: HomePage },
  { path: 'notes', title: 'Notes · OIDC SPA', loadComponent: () => import('./notes/notes-page').then((m) => m.NotesPage) },
  { path: 'session', title: 'Session · OIDC SPA', loadComponent: () => import('./session/session-page').then((m) => m.SessionPage) },
  { path: '**', title: 'Not found · OIDC SPA', loadComponent: () => import('./shared/not-found-page').then((m) => m.NotFoundPage) },
];

/**
 * Starts loading the page a start-up will show (a path of this origin), when it is a lazy one,
 * while the configuration loads and the session is restored: the outlet asks for it only after that.
 */
export function preloadPage(path: string): void {
  const loading = routeOf(routes, path)?.loadComponent?.();
  if (loading instanceof Promise) loading.catch(() => {});
}

/** The API path the page at `path` (a path of this origin) GETs as it opens, if any. */
export function pageApiCall(path: string): string | undefined {
  return routeOf(routes, path)?.pageApiCall;
}
