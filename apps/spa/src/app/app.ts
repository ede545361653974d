import { afterNextRender, ChangeDetectionStrategy, Component, computed, DOCUMENT, effect, inject, Injector, untracked } from '@angular/core';
import { AuthSession } from './auth/auth-session';
import { FirstPageData } from './core/first-page-data';
import { PageLink } from './routing/page-link';
import { PageOutlet } from './routing/page-outlet';
import { PageRouter } from './routing/page-router';
import { ProblemMessage } from './shared/problem-message';

@Component({
  selector: 'app-root',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [PageOutlet, PageLink, ProblemMessage],
  templateUrl: './app.html',
  styleUrl: './app.css',
})
export class App {
  protected readonly auth = inject(AuthSession);
  // Which link is the current page.
  private readonly router = inject(PageRouter);
  protected readonly homeActive = computed(() => this.router.isActive('/', true));
  protected readonly notesActive = computed(() => this.router.isActive('/notes'));
  protected readonly sessionActive = computed(() => this.router.isActive('/session'));

  constructor() {
    // After an in-app navigation, move focus to the new page so screen readers start there, and
    // drop the start-up page's data if it was not taken (it would be stale now).
    const document = inject(DOCUMENT);
    const injector = inject(Injector);
    const firstPageData = inject(FirstPageData);
    effect(() => {
      if (this.router.navigations() === 0) return;
      untracked(() => firstPageData.forget());
      afterNextRender(() => document.getElementById('main')?.focus(), { injector });
    });
  }

  protected logIn(): void {
    void this.auth.login();
  }

  protected logOut(): void {
    void this.auth.logout();
  }
}
