// A login in progress lives in the browser that started it, not in the session store
// (docs/decisions/0071): `/bff/login` seals its state, nonce, PKCE verifier, `returnTo` and expiry
// into a cookie of its own, `__Host-bff-login-<tag>` (the tag is derived from the state, so the
// callback finds its cookie by the state the IdP sends back), AES-256-GCM under a key derived from
// the token keys for this purpose alone. Nothing an anonymous request sends can take room that
// honest sign-ins need: the only thing written is the cookie, in the requesting browser.
import { hkdfSync } from 'node:crypto';
import { LOGIN_COOKIE_KEY_INFO, LOGIN_COOKIE_PREFIX } from './defaults.ts';
import { sha256 } from './sessions/session-manager.ts';
import { TokenCipher } from './token-cipher.ts';

/** What a login cookie holds. Times are epoch milliseconds by the BFF's clock. */
export interface PendingLogin {
  state: string;
  nonce: string;
  codeVerifier: string;
  returnTo: string;
  issuedAt: number;
  expiresAt: number;
}

/** The cookie of the login with this state: a tag of the state's hash (72 bits) after the prefix. */
export function loginCookieName(state: string): string {
  return LOGIN_COOKIE_PREFIX + sha256(state).slice(0, 12);
}

/** A sealed value exactly as `seal` writes it: `v1.<key id>.<iv>.<ciphertext + tag>`, nothing after. */
const SEALED = /^v1\.[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22,}$/;

/**
 * The key of login cookies derived from one token key (HKDF-SHA256, info LOGIN_COOKIE_KEY_INFO):
 * never the token key itself, so nothing sealed for one purpose opens as the other (a token record
 * of the store presented as a login cookie, or the reverse).
 */
export function loginCookieKey(tokenKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', tokenKey, Buffer.alloc(0), LOGIN_COOKIE_KEY_INFO, tokenKey.length));
}

export class LoginSealer {
  readonly #cipher: TokenCipher;

  /** `tokenKeys`: BFF_TOKEN_KEYS, newest first; the newest seals, every one opens (rotation). */
  constructor(tokenKeys: readonly Buffer[]) {
    this.#cipher = new TokenCipher(tokenKeys.map(loginCookieKey));
  }

  /** The cookie's name and value. The name is the additional data: a value moved to another name does not open. */
  seal(login: PendingLogin): { name: string; value: string } {
    const name = loginCookieName(login.state);
    const body = JSON.stringify([login.state, login.nonce, login.codeVerifier, login.returnTo, login.issuedAt, login.expiresAt]);
    return { name, value: this.#cipher.encrypt(body, name) };
  }

  /**
   * The login sealed in cookie `name`, unless the value was not sealed by this BFF under that name
   * (tampered, truncated, re-ordered, another purpose's, a key no longer configured) or it expired
   * at `now`: then undefined, never an exception.
   */
  open(name: string, value: string, now: number): PendingLogin | undefined {
    if (!SEALED.test(value)) return undefined;
    let fields: unknown;
    try {
      fields = JSON.parse(this.#cipher.decrypt(value, name));
    } catch {
      return undefined;
    }
    if (!Array.isArray(fields) || fields.length !== 6) return undefined;
    const [state, nonce, codeVerifier, returnTo, issuedAt, expiresAt] = fields as unknown[];
    if (typeof state !== 'string' || typeof nonce !== 'string' || typeof codeVerifier !== 'string' || typeof returnTo !== 'string'
      || typeof issuedAt !== 'number' || typeof expiresAt !== 'number') return undefined;
    if (loginCookieName(state) !== name) return undefined;
    // Expiry by the BFF's own clock, not only by the browser's Max-Age.
    if (!(now < expiresAt)) return undefined;
    return { state, nonce, codeVerifier, returnTo, issuedAt, expiresAt };
  }
}
