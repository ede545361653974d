// The IdP's cookies (oidc-provider's session, interaction and resume cookies, each with its `.sig`
// companion): what they are called, and the one check made on how they arrive (docs/decisions/0060).
import { IDP_COOKIE_NAMES, IDP_HOST_SESSION_COOKIE } from './defaults.ts';

export interface CookieNames {
  session: string;
  interaction: string;
  resume: string;
}

/**
 * The cookie names for an issuer. With an https:// issuer the session cookie, the one that says who
 * is signed in, is `__Host-` prefixed: browsers then refuse it from a sibling host (`Domain=` the
 * parent domain) and with any path but `/`, the two ways another site could otherwise place its
 * own signed session beside or ahead of the user's. The interaction and resume cookies live under
 * the paths of one login (`/interaction/<uid>`, `/authorize/<uid>`), which `__Host-` forbids.
 * Over http:// (development) a `__Host-` cookie cannot be Secure, so oidc-provider's names stay.
 */
export function cookieNames(issuer: string): CookieNames {
  const https = issuer.startsWith('https://');
  return { ...IDP_COOKIE_NAMES, ...(https ? { session: IDP_HOST_SESSION_COOKIE } : {}) };
}

/**
 * The first of `names` (each also with its `.sig`) that a Cookie header names more than once, or
 * undefined. The IdP never sets two copies of a cookie for one path, so two copies mean someone
 * else set one, and Koa would read whichever the browser sent first (decision 0060).
 */
export function cookieSentTwice(header: string | undefined, names: readonly string[]): string | undefined {
  if (!header) return undefined;
  const seen = new Set<string>();
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    const name = (eq < 0 ? pair : pair.slice(0, eq)).trim();
    const own = names.includes(name) || (name.endsWith('.sig') && names.includes(name.slice(0, -4)));
    if (!own) continue;
    if (seen.has(name)) return name;
    seen.add(name);
  }
  return undefined;
}
