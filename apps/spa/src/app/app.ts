import { afterNextRender, ChangeDetectionStrategy, Component, DOCUMENT, inject, Injector } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { NavigationEnd, Router, RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';
import { filter, skip } from 'rxjs';
import { AuthSession } from './auth/auth-session';
import { ProblemMessage } from './shared/problem-message';

@Component({
  selector: 'app-root',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [RouterOutlet, RouterLink, RouterLinkActive, ProblemMessage],
  templateUrl: './app.html',
  styleUrl: './app.css',
})
export class App {
  protected readonly auth = inject(AuthSession);

  constructor() {
    // After an in-app navigation, move focus to the new page so screen readers start there.
    const document = inject(DOCUMENT);
    const injector = inject(Injector);
    inject(Router)
      .events.pipe(
        filter((event) => event instanceof NavigationEnd),
        skip(1),
        takeUntilDestroyed(),
      )
      .subscribe(() => afterNextRender(() => document.getElementById('main')?.focus(), { injector }));
  }

  protected logIn(): void {
    void this.auth.login();
  }

  protected logOut(): void {
    void this.auth.logout();
  }
}
