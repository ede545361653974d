// A login in progress belongs to the browser that started it. oidc-provider finds an interaction
// (the login page, /interaction/:uid) by a cookie holding its id, and the result goes on at
// /authorize/:uid in whichever browser holds the resume cookie: a browser given an attacker's
// interaction cookie (planted from a sibling host, a plain-http answer on the way, another port of
// localhost) showed the genuine login page, and the password typed there signed the attacker's
// browser in as the victim (interaction fixation). So every interaction is bound to a random
// browser key kept in a cookie of its own (`__Host-` on https: no other host and no plain-http
// answer can set it), stored hashed with the interaction; the login page and its forms answer only
// a request carrying that key (docs/decisions/0055, part 2).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { INTERACTION_TTL_SECONDS, LOGIN_BROWSER_COOKIE } from './defaults.ts';
import type { Store } from './storage/store.ts';

/** The store's record of the browser an interaction belongs to, kept as long as the interaction. */
const MODEL = 'InteractionBrowser';

const digest = (key: string) => createHash('sha256').update(key).digest();

/** The value of cookie `name` in a request, if it has one (the first, as browsers send the most specific first). */
function cookieValue(req: IncomingMessage, name: string): string | undefined {
  for (const pair of String(req.headers.cookie ?? '').split(';')) {
    const eq = pair.indexOf('=');
    if (eq !== -1 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return undefined;
}

export interface InteractionBinding {
  /** The name of the cookie holding the browser key (one of the IdP's cookies that may not arrive twice, decision 0060). */
  readonly cookieName: string;
  /** Where oidc-provider starts an interaction: marks the browser (its key kept, else a new one) and records it for the interaction. */
  bind(ctx: KoaContextWithOIDC, uid: string): Promise<void>;
  /** Whether the request comes from the browser that started interaction `uid`. */
  isBrowserOf(req: IncomingMessage, uid: string): Promise<boolean>;
}

export function interactionBinding(store: Store, issuer: string): InteractionBinding {
  const secure = issuer.startsWith('https://');
  const name = secure ? `__Host-${LOGIN_BROWSER_COOKIE}` : LOGIN_BROWSER_COOKIE;
  return {
    cookieName: name,
    async bind(ctx, uid) {
      const kept = ctx.cookies.get(name, { signed: false });
      const key = kept && /^[A-Za-z0-9_-]{43}$/.test(kept) ? kept : randomBytes(32).toString('base64url');
      await store.upsert(MODEL, uid, { browser: digest(key).toString('base64url') }, INTERACTION_TTL_SECONDS);
      ctx.cookies.set(name, key, { httpOnly: true, sameSite: 'lax', secure, path: '/', maxAge: INTERACTION_TTL_SECONDS * 1000, overwrite: true, signed: false });
    },
    async isBrowserOf(req, uid) {
      const key = cookieValue(req, name);
      const record = await store.find(MODEL, uid);
      if (!key || typeof record?.['browser'] !== 'string') return false;
      const expected = Buffer.from(record['browser'], 'base64url');
      const actual = digest(key);
      return expected.length === actual.length && timingSafeEqual(expected, actual);
    },
  };
}
