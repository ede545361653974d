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

export function sessionCookieValue(req: FastifyRequest): string | undefined {
  return req.cookies[SESSION_COOKIE];
}

export function setSessionCookie(reply: FastifyReply, policy: CookiePolicy, id: string): void {
  reply.setCookie(SESSION_COOKIE, id, { ...base, sameSite: policy.sameSite });
}

export function clearSessionCookie(reply: FastifyReply, policy: CookiePolicy): void {
  reply.clearCookie(SESSION_COOKIE, { ...base, sameSite: policy.sameSite });
}

export function loginCookieValue(req: FastifyRequest): string | undefined {
  return req.cookies[LOGIN_COOKIE];
}

/** Lax: it must come back on the IdP's redirect to the callback, a cross-site navigation with a real IdP. */
export function setLoginCookie(reply: FastifyReply, policy: CookiePolicy, value: string): void {
  reply.setCookie(LOGIN_COOKIE, value, { ...base, sameSite: 'lax', maxAge: policy.loginTtlSeconds });
}

export function clearLoginCookie(reply: FastifyReply): void {
  reply.clearCookie(LOGIN_COOKIE, { ...base, sameSite: 'lax' });
}
