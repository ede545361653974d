import { escapeHtml, page } from './html.ts';

/** Wraps oidc-provider's logout form (hidden xsrf field). `auto` submits it with logout=yes at once. */
export function renderLogoutPage(form: string, host: string, auto: boolean): string {
  if (auto) {
    const autoForm = form.replace('</form>', '<input type="hidden" name="logout" value="yes"></form>')
      .replace('<form ', '<form data-auto-submit ');
    return page('Signing out', `
<h1>Signing out…</h1>
${autoForm}
<noscript><button type="submit" form="op.logoutForm">Continue</button></noscript>`, { script: true });
  }
  return page('Sign out', `
<h1>Sign out of ${escapeHtml(host)}?</h1>
${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>Yes, sign me out</button>
<button type="submit" form="op.logoutForm" class="link">No, stay signed in</button>`);
}

export function renderLoggedOutPage(): string {
  return page('Signed out', '<h1>Signed out</h1><p>You have been signed out.</p>');
}

/** The answer to "No, stay signed in" on the sign-out page: nothing ended. */
export function renderStillSignedInPage(): string {
  return page('Still signed in', '<h1>You are still signed in</h1><p>Nothing was signed out. You can close this page and go back to the application.</p>');
}

export function renderErrorPage(error: string, description: string | undefined): string {
  return page('Sign-in error', `
<h1>Something went wrong</h1>
<p><strong>${escapeHtml(error)}</strong></p>
${description ? `<p>${escapeHtml(description)}</p>` : ''}`);
}
