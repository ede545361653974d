// Every path the IdP's own middleware recognises (the logout that revokes grants, the JWT access
// token's revocation and introspection, JSON bodies, offline_access without a consent prompt, the
// popup pages' opener policy) is compared in the one spelling of routes.ts. oidc-provider's router
// is more lenient: it serves each of its routes in any ASCII case (`/OIDC/LOGOUT/CONFIRM`), with one
// trailing slash (`/oauth/revoke/`), and, through Koa, from an absolute-form request target
// (`POST http://idp/oauth/token HTTP/1.1`). Such a request reached the endpoint without the checks
// keyed on its path: a logout confirmed at `/oidc/logout/confirm/` left every refresh token alive.
// So the request target is rewritten here, first, to the spelling the router and every check agree
// on (docs/decisions/0046). Paths the router does not serve are left as they are.
import type { IncomingMessage } from 'node:http';
import { PROVIDER_PATHS } from './routes.ts';

/** ASCII lower case only, as the router folds (it leaves characters outside ASCII unmatched). */
const asciiLower = (value: string) => value.replace(/[A-Z]/g, (c) => c.toLowerCase());

const TEMPLATES = PROVIDER_PATHS.map((path) => path.split('/').map((segment) => (segment.startsWith(':') ? null : segment)));
/** scheme://authority of an absolute-form target; what follows is its path and query, as Koa reads them. */
const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/;

/** The route's own spelling of `path` when oidc-provider's router would serve it, else `path`. */
export function canonicalPath(path: string): string {
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  const segments = trimmed.split('/');
  for (const template of TEMPLATES) {
    if (template.length !== segments.length) continue;
    const matches = template.every((fixed, i) => (fixed === null ? segments[i] !== '' : asciiLower(fixed) === asciiLower(segments[i]!)));
    if (matches) return template.map((fixed, i) => fixed ?? segments[i]).join('/');
  }
  return path;
}

/** Rewrites the request target in place to its origin form with the canonical path. */
export function canonicalizeRequestTarget(req: IncomingMessage): void {
  let target = req.url ?? '/';
  // Absolute form: Koa routes its path as written; the host is the issuer's anyway (request-host.ts).
  const origin = ABSOLUTE_FORM.exec(target);
  if (origin) target = target.slice(origin[0].length) || '/';
  if (!target.startsWith('/')) return;
  const queryAt = target.indexOf('?');
  const path = queryAt === -1 ? target : target.slice(0, queryAt);
  const query = queryAt === -1 ? '' : target.slice(queryAt);
  req.url = `${canonicalPath(path)}${query}`;
}
