// Starts the whole system the way `npm start` does (scripts/start.ts), on ports the OS picks, with
// its own data directories and a client registration whose SPA and BFF URIs match their ports.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { apps } from '../../../scripts/apps.ts';
import { freePort } from '../../support/ports.ts';

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
  const env: Record<string, string> = {};
  for (const app of apps) env[app.portVar] = String(await freePort());
  const spa = `http://localhost:${env['SPA_PORT']}`;
  const idp = `http://localhost:${env['IDP_PORT']}`;
  const api = `http://localhost:${env['API_PORT']}`;
  const bff = `http://localhost:${env['BFF_PORT']}`;

  // The registered redirect, post-logout and back-channel logout URIs are exact: register the test origins.
  const clientsFile = join(dataDir, 'clients.json');
  const clients = JSON.parse(readFileSync(join(root, 'apps', 'idp', 'config', 'clients.json'), 'utf8')
    .replaceAll(DEFAULT_SPA_ORIGIN, spa).replaceAll(DEFAULT_API_ORIGIN, api).replaceAll(DEFAULT_BFF_ORIGIN, bff)) as { clients: unknown[] };
  clients.clients.push(...(options.extraClients ?? []));
  writeFileSync(clientsFile, JSON.stringify(clients, null, 2));

  Object.assign(env, {
    IDP_ISSUER: idp,
    IDP_DATA_DIR: join(dataDir, 'idp'),
    IDP_CLIENTS_FILE: clientsFile,
    IDP_LOG_LEVEL: 'warn',
    // The BFF's answer to a back-channel logout post: a hang bound (the 2.5 s default could pass on a slow machine).
    IDP_BACKCHANNEL_LOGOUT_TIMEOUT_MS: '60000',
    API_DATA_DIR: join(dataDir, 'api'),
    API_CORS_ORIGINS: spa,
    API_LOG_LEVEL: 'warn',
    AUTH_AUTHORITY: idp,
    SPA_AUTHORITY: idp,
    SPA_API_URL: api,
    BFF_DATA_DIR: join(dataDir, 'bff'),
    BFF_AUTHORITY: idp,
    BFF_API_URL: api,
    BFF_LOG_LEVEL: 'warn',
    ...(typeof options.env === 'function' ? options.env({ spa, idp, api }) : options.env),
  });

  const child: ChildProcess = spawn(process.execPath, [join(root, 'scripts', 'start.ts')], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (b: Buffer) => { output += b.toString(); });
  child.stderr!.on('data', (b: Buffer) => { output += b.toString(); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 240_000;
  while (!output.includes('All apps are up')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`the system did not start:\n${output.slice(-3000)}`);
    }
    await sleep(200);
  }
  const dataDirs = { idp: env['IDP_DATA_DIR']!, api: env['API_DATA_DIR']!, bff: env['BFF_DATA_DIR']! };
  return { spa, bff, idp, api, dataDirs, output: () => output, stop };
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
