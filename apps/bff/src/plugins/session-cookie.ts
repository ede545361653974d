// The session cookie: `__Host-` prefixed (Secure, Path=/, no Domain), HttpOnly, SameSite from
// the configuration, no Max-Age (the server decides when a session ends). Its value is the
// session's random 256-bit id and nothing else, so it stays the same small size whatever the
// user's claims.
//
// A Cookie header naming one of the BFF's cookies twice is ambiguous (docs/decisions/0060): the
// BFF never sets two, so the other was set by someone else (a page on another port of this host can
// set `__Host-` cookies here, as a partitioned copy beside ours), and which copy comes first is
// the browser's choice. Such a cookie is read as SENT_TWICE, never as either value; every place
// that reads it refuses and clears both copies. Every write of a cookie also deletes a partitioned
// copy of it, the one kind of copy that can live beside ours.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { LOGIN_COOKIE_PREFIX, SESSION_COOKIE } from '../defaults.ts';

export interface CookiePolicy {
  sameSite: 'strict' | 'lax';
  loginTtlSeconds: number;
}

/** What a Cookie header naming one of our cookies more than once reads as. */
export const SENT_TWICE = Symbol('cookie sent twice');
/** One of our cookies as read: its value, undefined when absent, SENT_TWICE when there are several. */
export type CookieRead = string | undefined | typeof SENT_TWICE;

const base = { path: '/', httpOnly: true, secure: true } as const;

/** Where the value of the next cookie called `name` starts (after its `=`), from `from` on; -1 when none. */
function valueStart(header: string, name: string, from: number): number {
  for (let at = header.indexOf(name, from); at >= 0; at = header.indexOf(name, at + 1)) {
    // A whole name: at the start or after `;` and spaces, and followed by `=`.
    let before = at - 1;
    while (before >= 0 && (header.charCodeAt(before) === 32 || header.charCodeAt(before) === 9)) before--;
    if (before >= 0 && header.charCodeAt(before) !== 59) continue;
    let start = at + name.length;
    while (header.charCodeAt(start) === 32 || header.charCodeAt(start) === 9) start++;
    if (header.charCodeAt(start) !== 61) continue;
    return start + 1;
  }
  return -1;
}

function valueAt(header: string, start: number): string {
  const end = header.indexOf(';', start);
  return header.slice(start, end < 0 ? header.length : end).trim();
}

/**
 * The value of the cookie called `name` in a Cookie header, read in place: every /api/* call
 * needs the session cookie alone, so the other cookies of the site are not parsed into an object
 * (the cookie plugin's parsing hook is off). Values are not decoded: the BFF's own cookies are
 * base64url, and an encoded form of one is no cookie of ours. SENT_TWICE when the header names
 * the cookie more than once, whatever the values.
 */
export function cookieValue(header: string | undefined, name: string): CookieRead {
  if (!header) return undefined;
  const start = valueStart(header, name, 0);
  if (start < 0) return undefined;
  if (valueStart(header, name, start) >= 0) return SENT_TWICE;
  return valueAt(header, start);
}

/** Every value of the cookie called `name`, in the order sent (a logout ends the session of each). */
export function cookieValues(header: string | undefined, name: string): string[] {
  const values: string[] = [];
  if (!header) return values;
  for (let start = valueStart(header, name, 0); start >= 0; start = valueStart(header, name, start)) values.push(valueAt(header, start));
  return values;
}

/** Deletes the partitioned copy of a cookie (never ours), ahead of the cookie plugin's own Set-Cookie. */
function deletePartitionedCopy(reply: FastifyReply, name: string): void {
  reply.header('set-cookie', `${name}=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; Secure; Partitioned`);
}

export function sessionCookieValue(req: FastifyRequest): CookieRead {
  return cookieValue(req.headers.cookie, SESSION_COOKIE);
}

export function setSessionCookie(reply: FastifyReply, policy: CookiePolicy, id: string): void {
  deletePartitionedCopy(reply, SESSION_COOKIE);
  reply.setCookie(SESSION_COOKIE, id, { ...base, sameSite: policy.sameSite });
}

/** Deletes the session cookie, and a partitioned copy beside it. */
export function clearSessionCookie(reply: FastifyReply, policy: CookiePolicy): void {
  deletePartitionedCopy(reply, SESSION_COOKIE);
  reply.clearCookie(SESSION_COOKIE, { ...base, sameSite: policy.sameSite });
}

/** One login cookie as sent: its name, and its value or SENT_TWICE. */
export interface LoginCookie {
  name: string;
  value: string | typeof SENT_TWICE;
}

/**
 * Every login cookie (LOGIN_COOKIE_PREFIX) a Cookie header names, in the order sent; one named
 * twice is listed once, as SENT_TWICE.
 */
export function loginCookies(header: string | undefined): LoginCookie[] {
  const found = new Map<string, string | typeof SENT_TWICE>();
  if (!header || !header.includes(LOGIN_COOKIE_PREFIX)) return [];
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    const name = pair.slice(0, eq).trim();
    if (!name.startsWith(LOGIN_COOKIE_PREFIX)) continue;
    found.set(name, found.has(name) ? SENT_TWICE : pair.slice(eq + 1).trim());
  }
  return [...found].map(([name, value]) => ({ name, value }));
}

/**
 * Lax: it must come back on the IdP's redirect to the callback, a cross-site navigation with a real
 * IdP. Max-Age BFF_LOGIN_TTL; the callback deletes it whatever its outcome.
 */
export function setLoginCookie(reply: FastifyReply, policy: CookiePolicy, name: string, value: string): void {
  deletePartitionedCopy(reply, name);
  reply.setCookie(name, value, { ...base, sameSite: 'lax', maxAge: policy.loginTtlSeconds });
}

/** Deletes a login cookie, and a partitioned copy beside it. */
export function clearLoginCookie(reply: FastifyReply, name: string): void {
  deletePartitionedCopy(reply, name);
  reply.clearCookie(name, { ...base, sameSite: 'lax' });
}
