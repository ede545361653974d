import { USERNAME_MAX_LENGTH } from '../defaults.ts';
import { escapeHtml, page } from './html.ts';

export interface LoginPageModel {
  uid: string;
  clientName: string;
  username?: string;
  error?: string;
}

/** The login page; `username` prefills its field (typed before, or an authorization request's login_hint), and the password then takes the focus. */
export function renderLoginPage(m: LoginPageModel): string {
  const focusPassword = Boolean(m.error || m.username);
  const error = m.error ? `<p class="error" role="alert" id="login-error">${escapeHtml(m.error)}</p>` : '';
  return page('Sign in', `
<h1>Sign in</h1>
<p>to continue to <strong>${escapeHtml(m.clientName)}</strong></p>
${error}
<form method="post" action="/interaction/${escapeHtml(m.uid)}/login" autocomplete="on">
  <label for="username">Username</label>
  <input id="username" name="username" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required maxlength="${USERNAME_MAX_LENGTH}" value="${escapeHtml(m.username ?? '')}"${m.error ? ' aria-describedby="login-error"' : ''}${focusPassword ? '' : ' autofocus'}>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024"${focusPassword ? ' autofocus' : ''}>
  <button type="submit">Sign in</button>
</form>
<form method="post" action="/interaction/${escapeHtml(m.uid)}/abort" class="secondary">
  <button type="submit" class="link">Cancel</button>
</form>`);
}
