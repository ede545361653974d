// The real identity provider as a bench subject and as the source of every token the API rows
// use: started as its own process with a throwaway data directory, signed into through its login
// form, and refreshed with raw token-endpoint requests (the cheapest client possible).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as oidc from 'openid-client';
import { login, rpConfig } from '../../tests/support/oidc-rp.ts';
import { makeTempDir, removeTempDir, startServerOnFreshPort, type ServerProcess } from './children.ts';

const root = join(import.meta.dirname, '..', '..');
export const IDP_ENTRY = join(root, 'apps', 'idp', 'src', 'server.ts');
export const SPA_CLIENT_ID = 'spa';
export const BFF_CLIENT_ID = 'bff';
export const DEMO_USER = { username: 'alice', password: 'demo-alice' } as const;

const CLIENTS_FILE = join(root, 'apps', 'idp', 'config', 'clients.json');

interface ClientRegistration { client_id: string; redirect_uris?: string[]; post_logout_redirect_uris?: string[]; [field: string]: unknown }

export interface BenchClients {
  /** More redirect (and post-logout) URIs for the SPA client: the bench's SPA server runs on one of these free ports. */
  spaOrigins?: readonly string[];
  /** More redirect URIs for the confidential bff client (rows (h) and (i), on free ports too). */
  bffRedirectUris?: string[];
  /** Clients of their own (the login round trip's peers, tests/support/peers). */
  extraClients?: ClientRegistration[];
}

/**
 * The IdP's own client registrations with the bench's servers on free ports added (so a
 * developer's `npm start` on the usual ports does not stop a row). Written to a temporary file
 * for IDP_CLIENTS_FILE.
 */
export function benchClientsFile({ spaOrigins = [], bffRedirectUris = [], extraClients = [] }: BenchClients = {}): { path: string; dispose(): void } {
  const registrations = JSON.parse(readFileSync(CLIENTS_FILE, 'utf8')) as { clients: ClientRegistration[] };
  if (spaOrigins.length > 0) {
    const spa = registrations.clients.find((c) => c.client_id === SPA_CLIENT_ID);
    if (!spa) throw new Error(`no ${SPA_CLIENT_ID} client in ${CLIENTS_FILE}`);
    spa.redirect_uris = [...(spa.redirect_uris ?? []), ...spaOrigins];
    spa.post_logout_redirect_uris = [...(spa.post_logout_redirect_uris ?? []), ...spaOrigins];
  }
  const bff = registrations.clients.find((c) => c.client_id === BFF_CLIENT_ID);
  if (bff) bff.redirect_uris = [...(bff.redirect_uris ?? []), ...bffRedirectUris];
  registrations.clients.push(...extraClients);
  const dir = makeTempDir('bench-clients-');
  const path = join(dir, 'clients.json');
  writeFileSync(path, JSON.stringify(registrations, null, 2));
  return { path, dispose: () => removeTempDir(dir) };
}

export interface Idp {
  server: ServerProcess;
  issuer: string;
  tokenEndpoint: string;
  config: oidc.Configuration;
  stop(): Promise<void>;
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
}

export interface IdpOptions {
  /** Auth0's issuer form, ending with '/' (Auth0's SPA SDK accepts no other); same paths. */
  trailingSlashIssuer?: boolean;
}

export async function startIdp(name: string, env: Record<string, string>, { trailingSlashIssuer = false }: IdpOptions = {}): Promise<Idp> {
  const dataDir = makeTempDir('bench-idp-');
  const issuerOn = (port: number) => `http://localhost:${port}${trailingSlashIssuer ? '/' : ''}`;
  const server = await startServerOnFreshPort((port) => ({
    name,
    entry: IDP_ENTRY,
    port,
    healthPath: '/healthz',
    env: { IDP_PORT: String(port), IDP_ISSUER: issuerOn(port), IDP_DATA_DIR: dataDir, IDP_LOG_LEVEL: 'warn', ...env },
  }));
  const issuer = issuerOn(server.port);
  const config = await rpConfig(issuer, SPA_CLIENT_ID);
  return {
    server,
    issuer,
    tokenEndpoint: config.serverMetadata().token_endpoint!,
    config,
    async stop() {
      await server.stop();
      removeTempDir(dataDir);
    },
  };
}

/** A complete login through the login form (authorize → form → code → tokens). */
export async function loginDemoUser(idp: Idp): Promise<TokenPair> {
  const { tokens } = await login(idp.config, DEMO_USER.username, DEMO_USER.password);
  if (!tokens.refresh_token) throw new Error('the IdP issued no refresh token');
  return { accessToken: tokens.access_token, refreshToken: tokens.refresh_token };
}

export class RefreshError extends Error {
  readonly status: number;
  constructor(status: number, code: string) {
    super(`refresh grant refused: ${status} ${code}`);
    this.status = status;
  }
}

/** One refresh grant as the SPA sends it (public client, rotated refresh token). */
export async function refreshGrant(idp: Idp, refreshToken: string): Promise<TokenPair> {
  const res = await fetch(idp.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: SPA_CLIENT_ID }).toString(),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await res.json()) as { access_token?: string; refresh_token?: string; error?: string };
  if (!res.ok || !body.access_token || !body.refresh_token) throw new RefreshError(res.status, body.error ?? 'no tokens');
  return { accessToken: body.access_token, refreshToken: body.refresh_token };
}

/**
 * `count` distinct access tokens: `chains` logins, each followed by a chain of refresh grants
 * (every refresh rotates the refresh token, so each chain uses the one its last grant returned).
 */
export async function mintAccessTokens(idp: Idp, count: number, chains = 8): Promise<string[]> {
  const perChain = Math.ceil(count / chains);
  const all = await Promise.all(Array.from({ length: chains }, async () => {
    let pair = await loginDemoUser(idp);
    const tokens = [pair.accessToken];
    while (tokens.length < perChain) {
      pair = await refreshGrant(idp, pair.refreshToken);
      tokens.push(pair.accessToken);
    }
    return tokens;
  }));
  const tokens = [...new Set(all.flat())].slice(0, count);
  if (tokens.length < count) throw new Error(`only ${tokens.length} distinct access tokens minted, ${count} wanted`);
  return tokens;
}
