// Machine-to-machine clients (the client_credentials grant) as Auth0 has them
// (docs/decisions/0069): a client marked `machine_to_machine` in the clients file gets access
// tokens for an API only through a client grant, an entry of `client_grants` naming the client,
// the API (`audience`) and the scopes it may get there. The request names the API by `audience`
// (or the client's `default_audience`); a scope it asks for that the grant does not hold is
// refused, never dropped, as Auth0 refuses it; no scope asked means every granted scope.
import { errors, type KoaContextWithOIDC } from 'oidc-provider';

export const CLIENT_CREDENTIALS = 'client_credentials';
/** Auth0's `gty` claim of a client-credentials token. */
export const CLIENT_CREDENTIALS_GTY = 'client-credentials';
/** Auth0's subject of a client-credentials token: `<client_id>@clients`. */
export const clientSubject = (clientId: string) => `${clientId}@clients`;

export interface ClientGrant {
  client_id: string;
  audience: string;
  scope: string[];
}

export interface MachineClients {
  /** Granted scopes by client, then by audience. */
  grants: Map<string, Map<string, ReadonlySet<string>>>;
  /** The audience a client's request without one gets. */
  defaultAudience: Map<string, string>;
}

/**
 * Auth0 answers every refusal of a client-credentials request that names no known API, or one the
 * client holds no grant for, or scopes outside its grant, with 403 access_denied.
 */
function accessDenied(description: string): Error {
  const err = new errors.AccessDenied(description);
  Object.assign(err, { status: 403, statusCode: 403 });
  return err;
}

export const isClientCredentialsRequest = (ctx: KoaContextWithOIDC) =>
  ctx.oidc.route === 'token' && ctx.oidc.params?.['grant_type'] === CLIENT_CREDENTIALS;

/**
 * The request's `audience`, read from the body: oidc-provider keeps only a grant type's own
 * parameters. Given twice, it names no one API.
 */
export function requestedAudience(ctx: KoaContextWithOIDC): string | undefined {
  const asked = (ctx.oidc.body as Record<string, unknown> | undefined)?.['audience'];
  if (asked === undefined || asked === '') return undefined;
  if (typeof asked !== 'string') throw new errors.InvalidRequest("'audience' parameter must not be provided twice");
  return asked;
}

/** The audience of a client-credentials request: its `audience`, else the client's default. */
export function clientCredentialsAudience(ctx: KoaContextWithOIDC, machines: MachineClients): string {
  const asked = requestedAudience(ctx);
  if (asked !== undefined) return asked;
  const fallback = machines.defaultAudience.get(ctx.oidc.client!.clientId);
  if (fallback) return fallback;
  throw accessDenied('No audience parameter was provided, and no default audience has been configured');
}

/**
 * The scopes a client-credentials token for `audience` carries: those asked for when the grant
 * holds every one of them, every granted scope when none is asked. Throws access_denied for an
 * unknown API, a client without a grant for it, or a scope outside the grant.
 */
export function clientCredentialsScopes(ctx: KoaContextWithOIDC, machines: MachineClients, audience: string, knownAudience: boolean): string[] {
  if (!knownAudience) throw accessDenied(`Service not enabled within domain: ${audience}`);
  const clientId = ctx.oidc.client!.clientId;
  const granted = machines.grants.get(clientId)?.get(audience);
  if (!granted) throw accessDenied(`Client "${clientId}" is not authorized to access resource server "${audience}"`);
  const asked = [...new Set(String(ctx.oidc.params?.['scope'] ?? '').split(' ').filter(Boolean))];
  if (asked.length === 0) return [...granted];
  const missing = asked.filter((s) => !granted.has(s));
  if (missing.length > 0) throw accessDenied(`Client has not been granted scopes: ${missing.join(' ')}`);
  return asked;
}
