// Every URL the IdP writes (discovery, the logout form's action, redirects to its own pages) and
// every cookie's Secure attribute must come from the configured issuer, never from what a client
// put in Host or X-Forwarded-Host/-Proto, nor from how the request reached this process (plain
// http behind a TLS-terminating proxy, trusted or not). oidc-provider builds its URLs from the
// request (ctx.href) and marks cookies Secure from ctx.secure, and its maintainers point to the
// request headers as the place to fix them, so the headers are rewritten to the issuer's before
// oidc-provider or Koa read them; Koa reads the forwarded ones because the provider always trusts
// them (provider.ts), which is safe only because they are always rewritten here. A Host that is not
// even a host[:port] is refused with 400.
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
    req.headers['x-forwarded-host'] = host;
    req.headers['x-forwarded-proto'] = scheme;
    // Koa would take the client's address from it (ctx.ip); without a trusted proxy it is the client's own claim.
    if (!trustProxy) delete req.headers['x-forwarded-for'];
  };
}
