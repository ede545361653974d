import { CSP_NONCE, type Provider } from '@angular/core';

/** Name of the meta element into which the server writes each response's CSP nonce. */
export const CSP_NONCE_META_NAME = 'csp-nonce';

/**
 * Angular's style elements carry the nonce of the response (the CSP allows styles by nonce). It
 * comes from a meta element rather than Angular's `ngCspNonce` attribute on the root element,
 * because the build copies that attribute onto the `<script>` element of the main bundle too:
 * the script, allowed by `script-src 'self'`, has no use for it, and a nonce that changes with
 * every response makes Chromium compile the bundle again on every load of the page (the
 * script's fetch options are part of its compilation cache key), the functions its start-up
 * runs included, instead of reusing what the previous load of the same bundle compiled.
 */
export function provideCspNonce(document: Document): Provider {
  const nonce = document.querySelector(`meta[name="${CSP_NONCE_META_NAME}"]`)?.getAttribute('content') || null;
  return { provide: CSP_NONCE, useValue: nonce };
}
