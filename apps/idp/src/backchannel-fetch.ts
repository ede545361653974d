// oidc-provider sends back-channel logout tokens through its own fetch, whose dispatcher refuses
// loopback and private addresses (SSRF protection). A BFF next to the IdP (http://localhost:4300,
// or a service on a private network) is exactly such an address. This fetch lifts the protection
// for the back-channel logout URIs registered in the clients file, and only for them: every other
// outgoing request (a client's jwks_uri, sector_identifier_uri, ...) keeps the provider's dispatcher.
// The provider bounds every request to 2.5 s; a back-channel post gets IDP_BACKCHANNEL_LOGOUT_TIMEOUT_MS instead.
import type { ClientMetadata } from 'oidc-provider';
import { BACKCHANNEL_LOGOUT_TIMEOUT_MS } from './defaults.ts';

type ProviderFetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** The registered back-channel logout URIs, normalised the way oidc-provider passes them to fetch. */
export function registeredBackchannelUris(clients: readonly ClientMetadata[]): Set<string> {
  const uris = new Set<string>();
  for (const client of clients) {
    const uri = client['backchannel_logout_uri'];
    if (typeof uri === 'string') uris.add(new URL(uri).href);
  }
  return uris;
}

export interface BackchannelTimeout {
  timeoutMs: number;
  /** Makes the signal that aborts a post after timeoutMs (tests observe it). */
  timeoutSignal?: (ms: number) => AbortSignal;
}

export function backchannelFetch(registered: ReadonlySet<string>, send: typeof fetch = globalThis.fetch, timeout: BackchannelTimeout = { timeoutMs: BACKCHANNEL_LOGOUT_TIMEOUT_MS }): ProviderFetch {
  const { timeoutMs, timeoutSignal = (ms: number) => AbortSignal.timeout(ms) } = timeout;
  return (input, init = {}) => {
    if (!(input instanceof Request) && init.method === 'POST' && registered.has(new URL(input).href)) {
      // Without the provider's dispatcher: the default one connects to loopback and private hosts.
      // Redirects stay unfollowed (oidc-provider asks for redirect: 'manual').
      const { dispatcher: _ssrfProtected, ...rest } = init as RequestInit & { dispatcher?: unknown };
      return send(new URL(input).href, { ...rest, signal: timeoutSignal(timeoutMs) });
    }
    return send(input, init);
  };
}
