// Starts the whole system the way `npm start` does (scripts/start.ts), on ports the OS picks, with
// its own data directories and a client registration whose SPA URIs match the SPA's port.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { apps } from '../../../scripts/apps.ts';
import { freePort } from '../../support/ports.ts';

const root = join(import.meta.dirname, '..', '..', '..');
const DEFAULT_SPA_ORIGIN = 'http://localhost:4200';

export interface RunningSystem {
  spa: string;
  idp: string;
  api: string;
  output(): string;
  stop(): Promise<void>;
}

export async function startSystem(extraEnv: Record<string, string> = {}): Promise<RunningSystem> {
  const dataDir = mkdtempSync(join(tmpdir(), 'e2e-system-'));
  const env: Record<string, string> = {};
  for (const app of apps) env[app.portVar] = String(await freePort());
  const spa = `http://localhost:${env['SPA_PORT']}`;
  const idp = `http://localhost:${env['IDP_PORT']}`;
  const api = `http://localhost:${env['API_PORT']}`;

  // The registered redirect and post-logout URIs are exact: register the SPA's test origin.
  const clientsFile = join(dataDir, 'clients.json');
  const clients = readFileSync(join(root, 'apps', 'idp', 'config', 'clients.json'), 'utf8');
  writeFileSync(clientsFile, clients.replaceAll(DEFAULT_SPA_ORIGIN, spa));

  Object.assign(env, {
    IDP_ISSUER: idp,
    IDP_DATA_DIR: join(dataDir, 'idp'),
    IDP_CLIENTS_FILE: clientsFile,
    IDP_LOG_LEVEL: 'warn',
    API_DATA_DIR: join(dataDir, 'api'),
    API_CORS_ORIGINS: spa,
    API_LOG_LEVEL: 'warn',
    AUTH_AUTHORITY: idp,
    SPA_AUTHORITY: idp,
    SPA_API_URL: api,
    BFF_DATA_DIR: join(dataDir, 'bff'),
    ...extraEnv,
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
  return { spa, idp, api, output: () => output, stop };
}
