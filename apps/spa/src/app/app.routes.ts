import type { Routes } from '@angular/router';

export const routes: Routes = [
  { path: '', title: 'Home · OIDC SPA', loadComponent: () => import('./home/home-page').then((m) => m.HomePage) },
  { path: 'notes', title: 'Notes · OIDC SPA', loadComponent: () => import('./notes/notes-page').then((m) => m.NotesPage) },
  { path: 'session', title: 'Session · OIDC SPA', loadComponent: () => import('./session/session-page').then((m) => m.SessionPage) },
  { path: '**', title: 'Not found · OIDC SPA', loadComponent: () => import('./shared/not-found-page').then((m) => m.NotFoundPage) },
];
