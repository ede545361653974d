import { afterNextRender, ChangeDetectionStrategy, Component, DOCUMENT, inject, Injector } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { isActive, NavigationEnd, Router, RouterLink, RouterOutlet } from '@angular/router';
import { filter, skip } from 'rxjs';
import { AuthSession } from './auth/auth-session';
import { FirstPageData } from './core/first-page-data';
import { ProblemMessage } from './shared/problem-message';

@Component({
  selector: 'app-root',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [RouterOutlet, RouterLink, ProblemMessage],
  templateUrl: './app.html',
  styleUrl: './app.css',
})
export class App {
  protected readonly auth = inject(AuthSession);
  // Which link is the current page: signals of the router's state, not RouterLinkActive, whose
  // subscriptions and queries ran on every start-up's first render for three links.
  private readonly router = inject(Router);
  protected readonly homeActive = isActive('/', this.router, { paths: 'exact', queryParams: 'exact' });
  protected readonly notesActive = isActive('/notes', this.router);
  protected readonly sessionActive = isActive('/session', this.router);

  constructor() {
    // After an in-app navigation, move focus to the new page so screen readers start there, and
    // drop the start-up page's data if it was not taken (it would be stale now).
    const document = inject(DOCUMENT);
    const injector = inject(Injector);
    const firstPageData = inject(FirstPageData);
    this.router.events
      .pipe(
        filter((event) => event instanceof NavigationEnd),
        skip(1),
        takeUntilDestroyed(),
      )
      .subscribe(() => {
        firstPageData.forget();
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
