// Every URL the IdP writes (discovery, the logout form's action, redirects to its own pages) must
// come from the configured issuer, never from what a client put in Host or X-Forwarded-Host.
// oidc-provider builds its URLs from the request (ctx.href), and its maintainers point to the
// request headers as the place to fix them, so the headers are rewritten to the issuer's before
// oidc-provider or Koa read them. A Host that is not even a host[:port] is refused with 400.
import type { IncomingMessage } from 'node:http';

/** RFC 3986 host (reg-name, IPv4 or bracketed IPv6) with an optional port; nothing else. */
const HOST = /^(?:[A-Za-z0-9._~-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

export function hostHeaderIsWellFormed(req: IncomingMessage): boolean {
  const host = req.headers.host;
  return host === undefined || HOST.test(host);
}

export function pinRequestToIssuer(issuer: string, trustProxy: boolean): (req: IncomingMessage) => void {
  const { host, protocol } = new URL(issuer);
  const scheme = protocol.slice(0, -1);
  return (req) => {
    req.headers.host = host;
    if (trustProxy) {
      // Koa prefers these when the proxy is trusted; the issuer is still the only truth.
      req.headers['x-forwarded-host'] = host;
      req.headers['x-forwarded-proto'] = scheme;
    }
  };
}
