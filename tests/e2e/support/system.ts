// Starts the whole system the way `npm start` does (scripts/start.ts), on ports reserved for it
// (again on a fresh set when another process took one first: tests/support/npm-start.ts), with its
// own data directories and a client registration whose SPA and BFF URIs match their ports.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAllApps } from '../../support/npm-start.ts';

const root = join(import.meta.dirname, '..', '..', '..');
const DEFAULT_SPA_ORIGIN = 'http://localhost:4200';
const DEFAULT_API_ORIGIN = 'http://localhost:5001';
const DEFAULT_BFF_ORIGIN = 'http://localhost:4300';

export interface RunningSystem {
  spa: string;
  /** The SPA served by the Backend-for-Frontend (BFF mode). */
  bff: string;
  /** Origin of the IdP (its issuer may add a trailing slash). */
  idp: string;
  api: string;
  /** Data directory of each app (idp, api, bff), for assertions on what they stored. */
  dataDirs: { idp: string; api: string; bff: string };
  output(): string;
  stop(): Promise<void>;
}

/** Where each app will answer, known before anything starts. */
export interface SystemOrigins {
  spa: string;
  idp: string;
  api: string;
}

export interface SystemOptions {
  /** Environment on top of the test defaults; a function when it depends on the chosen ports. */
  env?: Record<string, string> | ((origins: SystemOrigins) => Record<string, string>);
  /** Client registrations added to the IdP's clients file (other relying parties under test). */
  extraClients?: Array<Record<string, unknown>>;
}

export async function startSystem(options: SystemOptions = {}): Promise<RunningSystem> {
  const dataDir = mkdtempSync(join(tmpdir(), 'e2e-system-'));
  let origins: SystemOrigins & { bff: string } = { spa: '', idp: '', api: '', bff: '' };
  let dataDirs = { idp: '', api: '', bff: '' };
  try {
    const started = await startAllApps({
      env: (ports) => {
        const spa = `http://localhost:${ports['SPA_PORT']}`;
        const idp = `http://localhost:${ports['IDP_PORT']}`;
        const api = `http://localhost:${ports['API_PORT']}`;
        const bff = `http://localhost:${ports['BFF_PORT']}`;
        origins = { spa, idp, api, bff };
        // Each attempt on its own ports starts from empty data directories.
        const attemptDir = mkdtempSync(join(dataDir, 'attempt-'));
        dataDirs = { idp: join(attemptDir, 'idp'), api: join(attemptDir, 'api'), bff: join(attemptDir, 'bff') };

        // The registered redirect, post-logout and back-channel logout URIs are exact: register the test origins.
        const clientsFile = join(attemptDir, 'clients.json');
        const clients = JSON.parse(readFileSync(join(root, 'apps', 'idp', 'config', 'clients.json'), 'utf8')
          .replaceAll(DEFAULT_SPA_ORIGIN, spa).replaceAll(DEFAULT_API_ORIGIN, api).replaceAll(DEFAULT_BFF_ORIGIN, bff)) as { clients: unknown[] };
        clients.clients.push(...(options.extraClients ?? []));
        writeFileSync(clientsFile, JSON.stringify(clients, null, 2));

        return {
          IDP_ISSUER: idp,
          IDP_DATA_DIR: dataDirs.idp,
          IDP_CLIENTS_FILE: clientsFile,
          IDP_LOG_LEVEL: 'warn',
          // The BFF's answer to a back-channel logout post: a hang bound (the 2.5 s default could run out on a slow machine).
          IDP_BACKCHANNEL_LOGOUT_TIMEOUT_MS: '60000',
          API_DATA_DIR: dataDirs.api,
          API_CORS_ORIGINS: spa,
          API_LOG_LEVEL: 'warn',
          AUTH_AUTHORITY: idp,
          SPA_AUTHORITY: idp,
          SPA_API_URL: api,
          BFF_DATA_DIR: dataDirs.bff,
          BFF_AUTHORITY: idp,
          BFF_API_URL: api,
          BFF_LOG_LEVEL: 'warn',
          ...(typeof options.env === 'function' ? options.env({ spa, idp, api }) : options.env),
        };
      },
    });
    const stop = async () => {
      await started.stop();
      rmSync(dataDir, { recursive: true, force: true });
    };
    return { ...origins, dataDirs, output: started.output, stop };
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw new Error(`the system did not start: ${(err as Error).message}`, { cause: err });
  }
}

/** The IdP endpoints a browser client uses, as its discovery document names them. */
export interface IdpEndpoints {
  issuer: string;
  authorization: string;
  token: string;
  revocation: string;
  userinfo: string;
  endSession: string;
}

export async function discoverEndpoints(idp: string): Promise<IdpEndpoints> {
  const res = await fetch(`${idp}/.well-known/openid-configuration`);
  if (!res.ok) throw new Error(`discovery answered ${res.status}`);
  const md = (await res.json()) as Record<string, string>;
  const named = (key: string): string => {
    const value = md[key];
    if (typeof value !== 'string') throw new Error(`discovery names no ${key}`);
    return value;
  };
  return {
    issuer: named('issuer'),
    authorization: named('authorization_endpoint'),
    token: named('token_endpoint'),
    revocation: named('revocation_endpoint'),
    userinfo: named('userinfo_endpoint'),
    endSession: named('end_session_endpoint'),
  };
}
