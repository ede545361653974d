import { ChangeDetectionStrategy, Component, computed, inject, input } from '@angular/core';
import { AuthSession } from '../auth/auth-session';
import type { Problem } from '../auth/problem';

const MESSAGES: Record<Problem['kind'], { title: string; text: string }> = {
  'session-ended': { title: 'Your session has ended', text: 'Please log in again to continue.' },
  'sign-in-failed': { title: 'Sign-in did not complete', text: 'The answer from the identity provider could not be accepted. Please log in again.' },
  forbidden: { title: 'Not allowed', text: 'You are signed in, but your account is not allowed to use this API.' },
  'api-unreachable': { title: 'The API cannot be reached', text: 'The service did not answer. Please try again in a moment.' },
  'idp-unreachable': { title: 'Sign-in is unavailable', text: 'The identity provider cannot be reached right now. Please try again in a moment.' },
  'renewal-unavailable': {
    title: 'Still signed in, but the sign-in service cannot be reached',
    text: 'Your session cannot be renewed right now, so the API is not called. This app keeps trying and carries on by itself once the service answers.',
  },
  'signed-out-here-only': {
    title: 'Signed out of this app',
    text: 'The sign-in service could not be reached, so your sign-in there may still be open: until it ends, the next Log in may not ask for your password.',
  },
  failed: { title: 'Something went wrong', text: 'The request failed.' },
};

/** One problem, worded for the user, announced to screen readers, with the action that fixes it. */
@Component({
  selector: 'app-problem-message',
  changeDetection: ChangeDetectionStrategy.OnPush,
  host: { role: 'alert', class: 'problem', '[attr.data-kind]': 'problem().kind' },
  template: `
    <strong>{{ message().title }}.</strong>
    {{ message().text }}
    @if (problem().detail; as detail) {
      <span class="detail">({{ detail }})</span>
    }
    @if (problem().kind === 'session-ended' || problem().kind === 'sign-in-failed') {
      <button type="button" (click)="logIn()">Log in again</button>
    }
  `,
})
export class ProblemMessage {
  readonly problem = input.required<Problem>();
  private readonly auth = inject(AuthSession);
  protected readonly message = computed(() => MESSAGES[this.problem().kind]);

  protected logIn(): void {
    void this.auth.login();
  }
}
