// Registered clients and resources, from a JSON file (not code). Besides oidc-provider's client
// metadata a client may carry our own fields, stripped before registration:
//   first_party        consent is implied (as for Auth0 first-party apps)
//   may_introspect     the client may call the introspection endpoint (only for API tokens)
//   client_secret_env  environment variable holding the secret; dev_client_secret is its
//                      development fallback, refused by the production profile
import type { ClientMetadata } from 'oidc-provider';
import { ACCESS_TOKEN_PROFILES, type AccessTokenProfile } from './defaults.ts';
import { readJsonFile } from './json-file.ts';

export interface ResourceDefinition {
  identifier: string;
  scopes: string[];
  /** Profile of its JWT access tokens; IDP_ACCESS_TOKEN_PROFILE when absent. */
  token_profile?: AccessTokenProfile;
}

export interface ClientPolicy {
  firstParty: boolean;
  mayIntrospect: boolean;
}

export interface ClientRegistry {
  clients: ClientMetadata[];
  policies: Map<string, ClientPolicy>;
  resources: ResourceDefinition[];
  /** Origins of every registered redirect URI: the only CORS origins and form targets. */
  origins: string[];
}

export class ClientsFileError extends Error {}

interface ClientEntry extends ClientMetadata {
  first_party?: boolean;
  may_introspect?: boolean;
  client_secret_env?: string;
  dev_client_secret?: string;
}

/**
 * The variables a clients file names in `client_secret_env`, read before the configuration is
 * validated so that they count as the IdP's own; none when the file cannot be read (loadClients
 * reports that).
 */
export function secretVariableNames(file: string): string[] {
  try {
    const doc = readJsonFile(file) as { clients?: unknown };
    if (!Array.isArray(doc.clients)) return [];
    return doc.clients.map((c: ClientEntry) => c?.client_secret_env).filter((n): n is string => typeof n === 'string');
  } catch {
    return [];
  }
}

export function loadClients(file: string, env: Record<string, string | undefined>, production: boolean): ClientRegistry {
  let doc: { clients?: ClientEntry[]; resources?: ResourceDefinition[] };
  try {
    doc = readJsonFile(file) as typeof doc;
  } catch (err) {
    throw new ClientsFileError(`cannot read clients file ${file}: ${(err as Error).message}`);
  }
  if (!Array.isArray(doc.clients) || !Array.isArray(doc.resources)) {
    throw new ClientsFileError(`${file}: expected { "resources": [...], "clients": [...] }`);
  }
  for (const resource of doc.resources) {
    if (resource.token_profile !== undefined && !ACCESS_TOKEN_PROFILES.includes(resource.token_profile)) {
      throw new ClientsFileError(`resource ${resource.identifier}: token_profile must be one of ${ACCESS_TOKEN_PROFILES.join(', ')}`);
    }
  }
  const policies = new Map<string, ClientPolicy>();
  const origins = new Set<string>();
  const clients = doc.clients.map((entry, i) => {
    const { first_party, may_introspect, client_secret_env, dev_client_secret, ...metadata } = entry;
    if (typeof metadata.client_id !== 'string') throw new ClientsFileError(`${file}: clients[${i}].client_id is required`);
    if (may_introspect && metadata.token_endpoint_auth_method === 'none') {
      throw new ClientsFileError(`client ${metadata.client_id}: may_introspect needs a confidential client (a secret)`);
    }
    if (metadata.token_endpoint_auth_method !== 'none') {
      const secret = (client_secret_env && env[client_secret_env]) || (production ? undefined : dev_client_secret);
      if (!secret) {
        throw new ClientsFileError(`client ${metadata.client_id}: set ${client_secret_env ?? 'its client_secret_env variable'} (development secrets are refused in production)`);
      }
      if (secret.length < 16) throw new ClientsFileError(`client ${metadata.client_id}: its secret must have at least 16 characters`);
      metadata.client_secret = secret;
    }
    for (const uri of [...(metadata.redirect_uris ?? []), ...((metadata.post_logout_redirect_uris as string[] | undefined) ?? [])]) {
      origins.add(new URL(uri).origin);
    }
    policies.set(metadata.client_id, { firstParty: first_party === true, mayIntrospect: may_introspect === true });
    return metadata;
  });
  return { clients, policies, resources: doc.resources, origins: [...origins] };
}
