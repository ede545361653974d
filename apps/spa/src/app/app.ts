import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';
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

  protected logIn(): void {
    void this.auth.login();
  }

  protected logOut(): void {
    void this.auth.logout();
  }
}
