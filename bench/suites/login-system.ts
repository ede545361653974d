// The system the login round trips run against, all of them against the same servers: one IdP,
// our API, our SPA's server (token mode), the BFF serving the same build (BFF mode), and the
// minimal pages of two relying parties nobody here wrote and the minimal Angular app doing what one
// of them does (tests/support/peers; built here when stale, quick runs too). Started when the
// browser rows run, after the load rows, so none of it competes with a load measurement.
//
// The IdP uses Auth0's issuer form (ending with '/'): Auth0's SPA SDK takes the IdP's origin as
// its `domain` and accepts ID tokens only from `domain + '/'`. Our SPA, the BFF, oidc-client-ts
// and the API accept either form (docs/decisions/0007-*.md, 0017-*.md).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { API_AUDIENCE, SPA_SCOPE } from '../../tests/support/oidc-rp.ts';
import { buildAngularPeer, PEER_CLIENT_IDS, peerClients, startPeerPages, type PeerPages, type PeerPagesConfig } from '../../tests/support/peers/server.ts';
import { candidatePorts, removeTempDir, SERVER_START_TIMEOUT_MS, startServerOnFreshPort, type ServerProcess } from '../lib/children.ts';
import { BFF_CLIENT_ID, benchClientsFile, SPA_CLIENT_ID, startIdp, type Idp } from '../lib/idp.ts';
import { firstLine } from '../lib/rows.ts';
import { startOurApi } from './api.ts';
import { setupBffRow } from './bff.ts';
import { spaBuild } from './spa.ts';

const root = join(import.meta.dirname, '..', '..');
const SPA_DIR = join(root, 'apps', 'spa');
const SPA_ENTRY = join(SPA_DIR, 'server', 'server.ts');

export interface LoginSystem {
  idp: Idp;
  /** Our API, configured as row (b)'s, accepting the SPA's, the BFF's and the peers' tokens. */
  api: ServerProcess;
  /** Our SPA's server, or why it is not there. */
  spa: { url: string; server: ServerProcess } | string;
  /** The BFF serving the same build, or why not. */
  bff: { url: string } | string;
  peers: PeerPages | string;
  /** Every server process above (the peer pages are served by the bench process itself). */
  servers: ServerProcess[];
  stop(): Promise<void>;
}

export interface LoginSystemOptions {
  /** The SPA server builds the app when dist is stale; quick mode does not wait for that. */
  allowBuild: boolean;
  log: (line: string) => void;
}

export async function startLoginSystem(opts: LoginSystemOptions): Promise<LoginSystem | string> {
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => {});
  };
  // The peer pages listen first, on a port the OS picks as they bind it (no other process can take
  // it first), so that the IdP registers their origin and the API allows it; they read their
  // configuration, which names the IdP and the API, once those are up.
  let peersConfig: PeerPagesConfig | undefined;
  const peers = await startPeerPages(() => {
    if (!peersConfig) throw new Error('the peer pages were asked for their configuration before the IdP and the API were up');
    return peersConfig;
  }).catch((err: unknown) => `the peer pages did not start: ${firstLine(err)}`);
  if (typeof peers !== 'string') stops.push(() => peers.close());
  const peersOrigin = typeof peers === 'string' ? undefined : peers.origin;
  // The SPA's server and the BFF start later, child processes on ports registered at the IdP now: a
  // few each, of which each takes the first that no other process took first.
  const spaPorts = await candidatePorts();
  const bffPorts = await candidatePorts();
  const spaOrigins = spaPorts.map((port) => `http://localhost:${port}`);
  const clients = benchClientsFile({
    spaOrigins,
    bffRedirectUris: bffPorts.map((port) => `http://localhost:${port}/bff/callback`),
    extraClients: peersOrigin ? peerClients(peersOrigin) : [],
  });
  stops.push(async () => clients.dispose());
  // Before any server starts; seconds, and cached while its sources are unchanged.
  const angularProblem = buildAngularPeer((line) => opts.log(`minimal Angular app: ${line}`));
  try {
    const idp = await startIdp('IdP (login round trips)', { IDP_SIGNING_ALG: 'RS256', IDP_CLIENTS_FILE: clients.path }, { trailingSlashIssuer: true });
    stops.push(() => idp.stop());
    const dataDirs: string[] = [];
    stops.push(async () => { for (const dir of dataDirs) removeTempDir(dir); });
    const api = await startOurApi('our API (login round trips)', idp.issuer, {
      AUTH_TOKEN_FORMAT: 'jwt',
      API_CORS_ORIGINS: [...spaOrigins, ...(peersOrigin ? [peersOrigin] : [])].join(','),
      AUTH_ALLOWED_CLIENTS: [SPA_CLIENT_ID, BFF_CLIENT_ID, ...Object.values(PEER_CLIENT_IDS)].join(','),
    }, dataDirs);
    stops.push(() => api.stop());
    const apiUrl = `http://localhost:${api.port}`;

    const spa = await startSpaServer(spaPorts, idp.issuer, apiUrl, opts.allowBuild);
    if (typeof spa !== 'string') stops.push(() => spa.server.stop());
    const bffRow = await setupBffRow({ idp, bffPorts, ourApi: api, connections: 1 });
    stops.push(() => bffRow.stop());
    const bff = bffRow.appUrl ? { url: bffRow.appUrl } : (bffRow.row.unavailable ?? 'the SPA build is missing or older than its sources, so the BFF served a stand-in page');
    peersConfig = {
      idpOrigin: new URL(idp.issuer).origin, issuer: idp.issuer, api: apiUrl, audience: API_AUDIENCE, scope: SPA_SCOPE,
      // oidc-client-ts's own default, like our SPA, which reads the claims from the ID token.
      oidcClientTsLoadUserInfo: false,
    };
    if (typeof peers !== 'string' && angularProblem) peers.oidcClientTsAngular = { unavailable: angularProblem };
    const servers = [idp.server, api, ...(typeof spa === 'string' ? [] : [spa.server]), ...(bffRow.server ? [bffRow.server] : [])];
    return { idp, api, spa, bff, peers, servers, stop };
  } catch (err) {
    await stop();
    return `the login round trips' system did not start: ${firstLine(err)}`;
  }
}

async function startSpaServer(ports: readonly number[], issuer: string, apiUrl: string, allowBuild: boolean): Promise<LoginSystem['spa']> {
  const build = await spaBuild();
  if (!build || !existsSync(SPA_ENTRY)) return 'the SPA server (apps/spa/server/server.ts) is not there yet';
  if (!allowBuild && build.isBuildStale()) return 'the SPA build is missing or older than its sources and --quick does not build it';
  try {
    const server = await startServerOnFreshPort((port) => ({
      name: 'SPA server',
      entry: SPA_ENTRY,
      cwd: SPA_DIR,
      port,
      healthPath: '/healthz',
      timeoutMs: allowBuild ? 300_000 : SERVER_START_TIMEOUT_MS,
      env: { SPA_PORT: String(port), SPA_HOST: '127.0.0.1', SPA_AUTHORITY: issuer, SPA_API_URL: apiUrl },
    }), ports);
    return { url: `http://localhost:${server.port}/`, server };
  } catch (err) {
    return `SPA server did not start: ${firstLine(err)}`;
  }
}
