// Registered clients and resources, from a JSON file (not code). Besides oidc-provider's client
// metadata a client may carry our own fields, stripped before registration:
//   first_party        consent is implied (as for Auth0 first-party apps)
//   may_introspect     the client may call the introspection endpoint (only for API tokens)
//   client_secret_env  environment variable holding the secret; dev_client_secret is its
//                      development fallback, refused by the production profile
//   token_endpoint_auth_method private_key_jwt: no secret; public keys inline in `jwks` (checkClientKeys)
//   machine_to_machine the client may use the client_credentials grant (confidential only), for
//                      the APIs and scopes its entries in `client_grants` list; default_audience
//                      is the API a request without `audience` gets (client-grants.ts)
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { ClientMetadata } from 'oidc-provider';
import { CLIENT_CREDENTIALS, type ClientGrant, type MachineClients } from './client-grants.ts';
import { ACCESS_TOKEN_PROFILES, CLIENT_ASSERTION_ALGS, CLIENT_KEY_MIN_RSA_BITS, type AccessTokenProfile } from './defaults.ts';
import { readJsonFile } from './json-file.ts';
import { clientSecretMinLength, secretWeakness } from './secret-strength.ts';

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
  /** Machine-to-machine clients: their client grants and default audiences. */
  machines: MachineClients;
  /** Origins of every registered redirect URI: the only CORS origins and form targets. */
  origins: string[];
}

export class ClientsFileError extends Error {}

interface ClientEntry extends ClientMetadata {
  first_party?: boolean;
  may_introspect?: boolean;
  client_secret_env?: string;
  dev_client_secret?: string;
  machine_to_machine?: boolean;
  default_audience?: string;
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
  let doc: { clients?: ClientEntry[]; resources?: ResourceDefinition[]; client_grants?: ClientGrant[] };
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
  const machineClients = new Map<string, string | undefined>();
  // Every development secret of the file, refused in production whichever client's variable holds it.
  const developmentSecrets = new Set(doc.clients.map((c) => c?.dev_client_secret).filter((v): v is string => typeof v === 'string'));
  const secretHolders = new Map<string, string>();
  const clients = doc.clients.map((entry, i) => {
    const { first_party, may_introspect, client_secret_env, dev_client_secret, machine_to_machine, default_audience, ...metadata } = entry;
    if (typeof metadata.client_id !== 'string') throw new ClientsFileError(`${file}: clients[${i}].client_id is required`);
    const clientCredentials = (metadata.grant_types ?? []).includes(CLIENT_CREDENTIALS);
    if (machine_to_machine === true) {
      if (metadata.token_endpoint_auth_method === 'none') throw new ClientsFileError(`client ${metadata.client_id}: machine_to_machine needs a confidential client (a secret)`);
      if (!clientCredentials) throw new ClientsFileError(`client ${metadata.client_id}: machine_to_machine needs "${CLIENT_CREDENTIALS}" in grant_types`);
      machineClients.set(metadata.client_id, default_audience);
    } else if (clientCredentials || default_audience !== undefined) {
      throw new ClientsFileError(`client ${metadata.client_id}: ${CLIENT_CREDENTIALS} and default_audience are for clients marked machine_to_machine`);
    }
    if (may_introspect && metadata.token_endpoint_auth_method === 'none') {
      throw new ClientsFileError(`client ${metadata.client_id}: may_introspect needs a confidential client (a secret)`);
    }
    if (metadata.token_endpoint_auth_method === PRIVATE_KEY_JWT) {
      checkClientKeys(metadata);
    } else if (metadata.jwks !== undefined || metadata.jwks_uri !== undefined) {
      throw new ClientsFileError(`client ${metadata.client_id}: jwks is for clients registered with token_endpoint_auth_method "${PRIVATE_KEY_JWT}"`);
    }
    if (metadata.token_endpoint_auth_method !== 'none' && metadata.token_endpoint_auth_method !== PRIVATE_KEY_JWT) {
      const secret = (client_secret_env && env[client_secret_env]) || (production ? undefined : dev_client_secret);
      if (!secret) {
        throw new ClientsFileError(`client ${metadata.client_id}: set ${client_secret_env ?? 'its client_secret_env variable'} (development secrets are refused in production)`);
      }
      // The variable's name, never the value: the message reaches logs.
      const holder = client_secret_env && env[client_secret_env] ? client_secret_env : 'its development secret';
      if (production && developmentSecrets.has(secret)) {
        throw new ClientsFileError(`client ${metadata.client_id}: ${holder} holds a development secret of the clients file, published with the code; the production profile refuses it`);
      }
      const weakness = secretWeakness(secret, clientSecretMinLength(production));
      if (weakness) {
        throw new ClientsFileError(`client ${metadata.client_id}: ${holder} is too weak to be a client secret: ${weakness} (generate one: openssl rand -base64 32)`);
      }
      const sharer = secretHolders.get(secret);
      if (production && sharer !== undefined) {
        throw new ClientsFileError(`client ${metadata.client_id}: its secret is also client ${sharer}'s; the production profile needs one secret per client (either could act as the other)`);
      }
      secretHolders.set(secret, metadata.client_id);
      metadata.client_secret = secret;
    }
    for (const uri of [...(metadata.redirect_uris ?? []), ...((metadata.post_logout_redirect_uris as string[] | undefined) ?? [])]) {
      origins.add(new URL(uri).origin);
    }
    policies.set(metadata.client_id, { firstParty: first_party === true, mayIntrospect: may_introspect === true });
    return metadata;
  });
  const machines = machineClientsOf(file, doc.client_grants ?? [], machineClients, doc.resources);
  return { clients, policies, resources: doc.resources, machines, origins: [...origins] };
}

const PRIVATE_KEY_JWT = 'private_key_jwt';
/** Members of a JWK that only a private (or symmetric) key has. */
const PRIVATE_KEY_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/**
 * A private_key_jwt client's keys (decision 0077): an inline `jwks` of public RSA (at least
 * CLIENT_KEY_MIN_RSA_BITS) or P-256 keys, each usable with an algorithm of CLIENT_ASSERTION_ALGS.
 * Never `jwks_uri`: the IdP fetches no key set from anywhere (an address the operator wrote today
 * can serve an attacker's keys tomorrow, and every fetch is a request the IdP makes for whoever
 * names the client). A private key in the file is refused: the file is not where it belongs.
 */
function checkClientKeys(metadata: ClientMetadata): void {
  const id = metadata.client_id;
  if (metadata.jwks_uri !== undefined) throw new ClientsFileError(`client ${id}: jwks_uri is not fetched; register the public keys inline in jwks`);
  const keys = (metadata.jwks as { keys?: unknown } | undefined)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new ClientsFileError(`client ${id}: ${PRIVATE_KEY_JWT} needs jwks with at least one public key`);
  const alg = metadata.token_endpoint_auth_signing_alg;
  if (alg !== undefined && !(CLIENT_ASSERTION_ALGS as readonly string[]).includes(alg)) {
    throw new ClientsFileError(`client ${id}: token_endpoint_auth_signing_alg must be one of ${CLIENT_ASSERTION_ALGS.join(', ')}`);
  }
  for (const [i, jwk] of (keys as Array<Record<string, unknown>>).entries()) {
    const where = `client ${id}: jwks.keys[${i}]`;
    if (PRIVATE_KEY_MEMBERS.some((m) => jwk?.[m] !== undefined)) throw new ClientsFileError(`${where} is a private or symmetric key; register the public key only`);
    let key: KeyObject;
    try {
      key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
    } catch {
      throw new ClientsFileError(`${where} is not a public key`);
    }
    const { modulusLength, namedCurve } = key.asymmetricKeyDetails ?? {};
    if (key.asymmetricKeyType === 'rsa' && (modulusLength ?? 0) >= CLIENT_KEY_MIN_RSA_BITS) continue;
    if (key.asymmetricKeyType === 'ec' && namedCurve === 'prime256v1') continue;
    throw new ClientsFileError(`${where} must be an RSA key of at least ${CLIENT_KEY_MIN_RSA_BITS} bits or a P-256 key`);
  }
}

/** The client grants, checked: each for a machine-to-machine client, a known API and its scopes only. */
function machineClientsOf(file: string, entries: unknown, machineClients: Map<string, string | undefined>, resources: ResourceDefinition[]): MachineClients {
  if (!Array.isArray(entries)) throw new ClientsFileError(`${file}: client_grants must be a list`);
  const grants = new Map<string, Map<string, ReadonlySet<string>>>();
  for (const [i, grant] of (entries as ClientGrant[]).entries()) {
    const where = `${file}: client_grants[${i}]`;
    if (!machineClients.has(grant?.client_id)) throw new ClientsFileError(`${where}: client_id must name a client marked machine_to_machine`);
    const resource = resources.find((r) => r.identifier === grant.audience);
    if (!resource) throw new ClientsFileError(`${where}: audience must be the identifier of a resource`);
    if (!Array.isArray(grant.scope) || grant.scope.some((s) => typeof s !== 'string' || !resource.scopes.includes(s))) {
      throw new ClientsFileError(`${where}: scope must list scopes of ${grant.audience} (${resource.scopes.join(', ')})`);
    }
    const byAudience = grants.get(grant.client_id) ?? new Map<string, ReadonlySet<string>>();
    if (byAudience.has(grant.audience)) throw new ClientsFileError(`${where}: a second grant of ${grant.audience} to ${grant.client_id}`);
    byAudience.set(grant.audience, new Set(grant.scope));
    grants.set(grant.client_id, byAudience);
  }
  const defaultAudience = new Map<string, string>();
  for (const [clientId, audience] of machineClients) {
    if (audience === undefined) continue;
    if (!grants.get(clientId)?.has(audience)) throw new ClientsFileError(`client ${clientId}: default_audience must be an audience of one of its client_grants`);
    defaultAudience.set(clientId, audience);
  }
  return { grants, defaultAudience };
}
