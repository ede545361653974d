import type { Routes } from '@angular/router';

export const routes: Routes = [
  { path: '', title: 'Home · OIDC SPA', loadComponent: () => import('./home/home-page').then((m) => m.HomePage) },
  { path: 'notes', title: 'Notes · OIDC SPA', loadComponent: () => import('./notes/notes-page').then((m) => m.NotesPage) },
  { path: 'session', title: 'Session · OIDC SPA', loadComponent: () => import('./session/session-page').then((m) => m.SessionPage) },
  { path: '**', title: 'Not found · OIDC SPA', loadComponent: () => import('./shared/not-found-page').then((m) => m.NotFoundPage) },
];

/**
 * Starts loading the page a start-up will show (path relative to the base href) while the
 * configuration loads and the session is restored: the router asks for it only after that.
 */
export function preloadPage(path: string): void {
  const wanted = path.replace(/^\/+|\/+$/g, '');
  const route = routes.find((r) => r.path === wanted) ?? routes.find((r) => r.path === '**');
  const loading = route?.loadComponent?.();
  if (loading instanceof Promise) loading.catch(() => {});
}
