import { escapeHtml, page } from './html.ts';

export interface LoginPageModel {
  uid: string;
  clientName: string;
  username?: string;
  error?: string;
}

export function renderLoginPage(m: LoginPageModel): string {
  const error = m.error ? `<p class="error" role="alert" id="login-error">${escapeHtml(m.error)}</p>` : '';
  return page('Sign in', `
<h1>Sign in</h1>
<p>to continue to <strong>${escapeHtml(m.clientName)}</strong></p>
${error}
<form method="post" action="/interaction/${escapeHtml(m.uid)}/login" autocomplete="on">
  <label for="username">Username</label>
  <input id="username" name="username" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required maxlength="128" value="${escapeHtml(m.username ?? '')}" ${m.error ? 'aria-describedby="login-error"' : 'autofocus'}>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024" ${m.error ? 'autofocus' : ''}>
  <button type="submit">Sign in</button>
</form>
<form method="post" action="/interaction/${escapeHtml(m.uid)}/abort" class="secondary">
  <button type="submit" class="link">Cancel</button>
</form>`);
}
