import { ChangeDetectionStrategy, Component, computed, inject, signal } from '@angular/core';
import { AuthSession } from '../auth/auth-session';
import { Clock, formatCountdown, formatTime } from '../core/clock';
import { SignInPrompt } from '../shared/sign-in-prompt';
import { SessionTimeline } from './session-timeline';

/** Claims worth showing as dates (NumericDate, seconds). */
const TIME_CLAIMS = new Set(['iat', 'exp', 'auth_time', 'nbf', 'updated_at']);

@Component({
  selector: 'app-session-page',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [SignInPrompt, SessionTimeline],
  templateUrl: './session-page.html',
  styleUrl: './session-page.css',
})
export class SessionPage {
  protected readonly auth = inject(AuthSession);
  protected readonly now = inject(Clock).now;
  protected readonly renewing = signal(false);
  protected readonly formatTime = formatTime;

  protected readonly claims = computed(() =>
    Object.entries(this.auth.user()?.claims ?? {}).map(([name, value]) => ({
      name,
      value: TIME_CLAIMS.has(name) && typeof value === 'number' ? `${value} (${new Date(value * 1000).toLocaleString()})` : typeof value === 'string' ? value : JSON.stringify(value),
    })),
  );
  protected readonly remaining = computed(() => {
    const expiresAt = this.auth.details()?.accessTokenExpiresAt;
    return expiresAt == null ? null : expiresAt - this.now();
  });
  protected readonly countdown = computed(() => {
    const remaining = this.remaining();
    if (remaining === null) return 'unknown';
    return remaining > 0 ? `expires in ${formatCountdown(remaining)}` : 'expired';
  });

  protected async renew(): Promise<void> {
    this.renewing.set(true);
    try {
      await this.auth.renew();
    } finally {
      this.renewing.set(false);
    }
  }
}
