// IdP rows: refresh grants and complete logins over HTTP, on the default store (SQLite), with
// RS256 and with ES256 signing keys. Each row keeps a fixed number of clients busy back to back.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loginDemoUser, refreshGrant, RefreshError, type Idp } from '../lib/idp.ts';
import { runWorkers } from '../lib/load.ts';
import type { Row } from '../lib/rows.ts';

export const IDP_ROWS = {
  refreshRs256: 'refresh grants, RS256, SQLite store',
  refreshEs256: 'refresh grants, ES256, SQLite store',
  loginRs256: 'logins over HTTP (authorize → form → code → tokens), RS256',
  loginEs256: 'logins over HTTP (authorize → form → code → tokens), ES256',
} as const;
export type IdpRowId = keyof typeof IDP_ROWS;

export interface IdpSuiteOptions {
  /** Refresh chains kept busy at once (each its own grant, rotated at every use). */
  refreshClients: number;
  /** Browserless users signing in at once. */
  loginClients: number;
}

interface Chain { refreshToken: string }

/** A refresh chain that recovers from a refused grant by signing in again (counted as a failure). */
async function refreshOnce(idp: Idp, chain: Chain): Promise<void> {
  try {
    chain.refreshToken = (await refreshGrant(idp, chain.refreshToken)).refreshToken;
  } catch (err) {
    if (err instanceof RefreshError) chain.refreshToken = (await loginDemoUser(idp)).refreshToken;
    throw err;
  }
}

export async function setupIdpRows(rs256: Idp, es256: Idp, opts: IdpSuiteOptions): Promise<Row[]> {
  const chainsFor = (idp: Idp) => Promise.all(Array.from({ length: opts.refreshClients }, async () => ({ refreshToken: (await loginDemoUser(idp)).refreshToken })));
  const [rsChains, esChains] = await Promise.all([chainsFor(rs256), chainsFor(es256)]);
  const refreshRow = (id: IdpRowId, idp: Idp, chains: Chain[]): Row => ({
    id, group: 'idp', label: IDP_ROWS[id], server: idp.server,
    measure: (seconds) => runWorkers(chains, seconds, (chain) => refreshOnce(idp, chain)),
  });
  const loginRow = (id: IdpRowId, idp: Idp): Row => ({
    id, group: 'idp', label: IDP_ROWS[id], server: idp.server,
    // Each login with a fresh cookie jar (no SSO session): authorize → login page → form post → code → tokens.
    measure: (seconds) => runWorkers(Array.from({ length: opts.loginClients }, () => null), seconds, async () => { await loginDemoUser(idp); }),
  });
  return [
    refreshRow('refreshRs256', rs256, rsChains),
    refreshRow('refreshEs256', es256, esChains),
    loginRow('loginRs256', rs256),
    loginRow('loginEs256', es256),
  ];
}

export interface PasswordHashParams {
  algorithm: string;
  memoryKiB: number;
  passes: number;
  parallelism: number;
}

/** OWASP Password Storage Cheat Sheet's minimum for Argon2id: 19 MiB, 2 iterations, 1 degree of parallelism. */
export const OWASP_ARGON2ID_MINIMUM = { memoryKiB: 19 * 1024, passes: 2, parallelism: 1 } as const;

/** The parameters of the demo user's stored hash: what every benchmarked login really verifies. */
export function demoUserHashParams(): PasswordHashParams | undefined {
  try {
    const file = join(import.meta.dirname, '..', '..', 'apps', 'idp', 'config', 'demo-users.json');
    const text = readFileSync(file, 'utf8');
    const m = /\$(argon2id)\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(text);
    return m ? { algorithm: m[1]!, memoryKiB: Number(m[2]), passes: Number(m[3]), parallelism: Number(m[4]) } : undefined;
  } catch {
    return undefined;
  }
}

export function meetsOwaspMinimum(p: PasswordHashParams | undefined): boolean {
  return p !== undefined && p.algorithm === 'argon2id' && p.memoryKiB >= OWASP_ARGON2ID_MINIMUM.memoryKiB
    && p.passes >= OWASP_ARGON2ID_MINIMUM.passes && p.parallelism >= OWASP_ARGON2ID_MINIMUM.parallelism;
}
