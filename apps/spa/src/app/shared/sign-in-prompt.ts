import { ChangeDetectionStrategy, Component, inject, input } from '@angular/core';
import { AuthSession } from '../auth/auth-session';

/** Shown by pages that need a signed-in user. */
@Component({
  selector: 'app-sign-in-prompt',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <p>{{ reason() }}</p>
    <button type="button" class="primary" (click)="logIn()">Log in</button>
  `,
})
export class SignInPrompt {
  readonly reason = input('Log in to see this page.');
  private readonly auth = inject(AuthSession);

  protected logIn(): void {
    void this.auth.login();
  }
}
