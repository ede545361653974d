import { ChangeDetectionStrategy, Component, effect, inject, signal } from '@angular/core';
import { AuthSession } from '../auth/auth-session';
import { ApiError, type Problem } from '../auth/problem';
import { API_PATHS } from '../core/api-paths';
import { FirstPageData, type PageDataOutcome } from '../core/first-page-data';
import { ProblemMessage } from '../shared/problem-message';

/** Whatever the API answers for the user, as lines of text. */
export function userDataLines(value: unknown): string[] {
  if (Array.isArray(value)) return value.map((item) => (typeof item === 'string' ? item : JSON.stringify(item)));
  if (typeof value === 'string') return [value];
  if (typeof value === 'object' && value !== null && 'data' in value) return userDataLines((value as { data: unknown }).data);
  return [JSON.stringify(value)];
}

@Component({
  selector: 'app-home-page',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [ProblemMessage],
  template: `
    <h1>Home</h1>
    @switch (auth.status()) {
      @case ('anonymous') {
        <p>This app signs you in with OpenID Connect and calls a protected API on your behalf.</p>
        <button type="button" class="primary" (click)="logIn()">Log in</button>
      }
      @case ('authenticated') {
        <p>Welcome, {{ auth.user()?.name }}.</p>
        <section aria-labelledby="api-data-heading">
          <h2 id="api-data-heading">Your data from the API</h2>
          @if (problem(); as problem) {
            <app-problem-message [problem]="problem" />
          } @else if (lines(); as lines) {
            <ul data-testid="user-data">
              @for (line of lines; track $index) {
                <li>{{ line }}</li>
              }
            </ul>
          } @else {
            <p aria-live="polite">Loading…</p>
          }
          <button type="button" (click)="load()">Reload data</button>
        </section>
        <button type="button" (click)="logOut()">Log out</button>
      }
    }
  `,
})
export class HomePage {
  protected readonly auth = inject(AuthSession);
  private readonly firstPageData = inject(FirstPageData);
  protected readonly lines = signal<string[] | null>(null);
  protected readonly problem = signal<Problem | null>(null);

  constructor() {
    effect(() => {
      if (this.auth.isAuthenticated()) void this.load();
    });
  }

  protected async load(): Promise<void> {
    this.problem.set(null);
    this.lines.set(null);
    // An answer already here (the start-up's call, on a return from the IdP) is set at once, so
    // the render this effect runs in shows it.
    const settled = this.firstPageData.takeSettled<unknown>(API_PATHS.userOne);
    if (settled) return this.show(settled);
    try {
      const answer = this.firstPageData.take<unknown>(API_PATHS.userOne) ?? this.auth.callApi<unknown>({ path: API_PATHS.userOne });
      this.show({ ok: true, value: await answer });
    } catch (error) {
      this.show({ ok: false, error });
    }
  }

  private show(outcome: PageDataOutcome<unknown>): void {
    if (outcome.ok) this.lines.set(userDataLines(outcome.value));
    else this.problem.set(outcome.error instanceof ApiError ? outcome.error.problem : { kind: 'failed' });
  }

  protected logIn(): void {
    void this.auth.login();
  }

  protected logOut(): void {
    void this.auth.logout();
  }
}
