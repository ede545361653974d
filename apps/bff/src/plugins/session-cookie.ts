// The session cookie: `__Host-` prefixed (Secure, Path=/, no Domain), HttpOnly, SameSite from
// the configuration, no Max-Age (the server decides when a session ends). Its value is the
// session's random 256-bit id and nothing else, so it stays the same small size whatever the
// user's claims.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { LOGIN_COOKIE, SESSION_COOKIE } from '../defaults.ts';

export interface CookiePolicy {
  sameSite: 'strict' | 'lax';
  loginTtlSeconds: number;
}

const base = { path: '/', httpOnly: true, secure: true } as const;

/**
 * The value of the first cookie called `name` in a Cookie header, read in place: every /api/* call
 * needs the session cookie alone, so the other cookies of the site are not parsed into an object
 * (the cookie plugin's parsing hook is off). Values are not decoded: the BFF's own cookies are
 * base64url, and an encoded form of one is no cookie of ours.
 */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (let at = header.indexOf(name); at >= 0; at = header.indexOf(name, at + 1)) {
    // A whole name: at the start or after `;` and spaces, and followed by `=`.
    let before = at - 1;
    while (before >= 0 && (header.charCodeAt(before) === 32 || header.charCodeAt(before) === 9)) before--;
    if (before >= 0 && header.charCodeAt(before) !== 59) continue;
    let start = at + name.length;
    while (header.charCodeAt(start) === 32 || header.charCodeAt(start) === 9) start++;
    if (header.charCodeAt(start) !== 61) continue;
    const end = header.indexOf(';', start + 1);
    return header.slice(start + 1, end < 0 ? header.length : end).trim();
  }
  return undefined;
}

export function sessionCookieValue(req: FastifyRequest): string | undefined {
  return cookieValue(req.headers.cookie, SESSION_COOKIE);
}

export function setSessionCookie(reply: FastifyReply, policy: CookiePolicy, id: string): void {
  reply.setCookie(SESSION_COOKIE, id, { ...base, sameSite: policy.sameSite });
}

export function clearSessionCookie(reply: FastifyReply, policy: CookiePolicy): void {
  reply.clearCookie(SESSION_COOKIE, { ...base, sameSite: policy.sameSite });
}

export function loginCookieValue(req: FastifyRequest): string | undefined {
  return cookieValue(req.headers.cookie, LOGIN_COOKIE);
}

/**
 * Lax: it must come back on the IdP's redirect to the callback, a cross-site navigation with a real
 * IdP. Never cleared by a callback: it binds every login the browser has pending, and ends with its
 * Max-Age (a binding without a pending login record is worth nothing).
 */
export function setLoginCookie(reply: FastifyReply, policy: CookiePolicy, value: string): void {
  reply.setCookie(LOGIN_COOKIE, value, { ...base, sameSite: 'lax', maxAge: policy.loginTtlSeconds });
}
