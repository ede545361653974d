import { afterNextRender, ChangeDetectionStrategy, Component, computed, DOCUMENT, effect, inject, Injector, linkedSignal, untracked } from '@angular/core';
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
  /**
   * Pages keep what they loaded for the user signed in then. When another user signs in (in
   * another tab: the session is shared by the browser's tabs), the page shown is made again, so
   * nothing loaded for the previous user stays on screen or is acted on under the new one.
   */
  protected readonly pageOwner = linkedSignal<string | null, PageOwner>({
    source: () => this.auth.user()?.sub ?? null,
    computation: (sub, previous) => nextPageOwner(previous?.value, sub),
  });

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

/** The last user pages were loaded for, and how many times that user has changed. */
export interface PageOwner {
  readonly sub: string | null;
  readonly generation: number;
}

/**
 * Signing in (nobody before), signing out and signing in again as the same user keep the pages;
 * a user other than the last one gets a new generation. Unchanged owners are the same object.
 */
export function nextPageOwner(previous: PageOwner | undefined, sub: string | null): PageOwner {
  const owner = previous ?? { sub: null, generation: 0 };
  if (sub === null || sub === owner.sub) return owner;
  return { sub, generation: owner.sub === null ? owner.generation : owner.generation + 1 };
}
