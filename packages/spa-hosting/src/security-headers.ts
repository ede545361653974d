// The security headers and caching rule of every page and file of the SPA, whichever server
// (the SPA's own in token mode, the BFF in BFF mode) hosts it.

/** Cache lifetime of content-hashed build output; index.html and config.json are never cached. */
export const HASHED_ASSET_MAX_AGE_SECONDS = 365 * 24 * 3600;

/**
 * The Trusted Types policies the page may create (decision 0072). Under
 * `require-trusted-types-for 'script'` no string reaches a DOM-XSS sink (innerHTML, outerHTML,
 * insertAdjacentHTML, document.write, DOMParser, iframe srcdoc, a script's src or text, eval,
 * new Function, setTimeout with a string…): only a value a named policy made. `angular` is the policy
 * Angular's own sanitizer passes sanitized HTML and resource URLs through (created on first use;
 * none of our templates binds one today). Left out on purpose: `angular#unsafe-bypass`
 * (DomSanitizer.bypassSecurityTrust…, which must not pass unreviewed: it fails loudly instead),
 * `angular#bundler` (webpack's lazy loading; our esbuild build loads chunks by native import()),
 * 'allow-duplicates' (a second `angular` policy, made by script that got in, is refused). Run
 * through every flow in Chromium, the app, the OIDC library and the lazy chunks create no other
 * policy and reach no sink (tests/e2e).
 */
export const TRUSTED_TYPES_POLICIES: readonly string[] = ['angular'];

/**
 * Content-Security-Policy of every response. No inline script at all; Angular's component styles
 * are inserted at run time, so style elements carry a per-response nonce (index.html's placeholder,
 * which the SPA reads from a meta element; none on script elements: decision 0021). The
 * browser may only talk to ourselves and the origins given (token mode: the IdP and the API; BFF
 * mode: none, everything goes through the BFF's own origin). Trusted Types are required for every
 * DOM-XSS sink, from the policies of TRUSTED_TYPES_POLICIES only (decision 0072).
 */
export function contentSecurityPolicy(nonce: string, connectOrigins: readonly string[]): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "require-trusted-types-for 'script'",
    `trusted-types ${TRUSTED_TYPES_POLICIES.join(' ')}`,
    `style-src 'self' 'nonce-${nonce}'`,
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self' ${[...new Set(connectOrigins)].join(' ')}`.trim(),
    "manifest-src 'self'",
    "form-action 'self'",
    "base-uri 'self'",
    "object-src 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Headers sent with every response besides the CSP. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  // The authorization code sits in our URL on return from the IdP: never leak it in a Referer.
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
};
