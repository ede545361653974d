// Runs the resource API as a child process (apps/api/src/server.ts) on a free loopback port, for
// black-box tests that stop, kill and restart it on the same port and data directory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onFreshPort } from '../../scripts/ports.ts';
import { restartableProcess } from './idp-process.ts';

const root = join(import.meta.dirname, '..', '..');
export const API_SERVER = join(root, 'apps', 'api', 'src', 'server.ts');

export interface ApiProcess {
  base: string;
  port: number;
  dataDir: string;
  /** Every stdout and stderr line (JSON log lines), in order, across restarts. */
  logs: string[];
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Stops (SIGTERM by default) and starts again on the same port and data directory. */
  restart(signal?: NodeJS.Signals): Promise<void>;
  /** Stops and removes the data directory. */
  dispose(): Promise<void>;
}

/** The API against `issuer`, started and live (`/healthz`); readiness is the caller's to wait for. */
export async function startApiProcess(issuer: string, env: Record<string, string> = {}): Promise<ApiProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'api-process-'));
  const { port, base, logs, launch, stop } = await onFreshPort(async (port) => {
    const base = `http://127.0.0.1:${port}`;
    const fullEnv = { API_PORT: String(port), API_HOST: '127.0.0.1', API_DATA_DIR: dataDir, AUTH_AUTHORITY: issuer, API_LOG_LEVEL: 'info', ...env };
    const { logs, launch, stop } = restartableProcess(API_SERVER, fullEnv, `${base}/healthz`);
    await launch();
    return { port, base, logs, launch, stop };
  }).catch((err: unknown) => {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  });
  return {
    base, port, dataDir, logs,
    stop,
    async restart(signal = 'SIGTERM') {
      await stop(signal);
      await launch();
    },
    async dispose() {
      await stop('SIGTERM');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
