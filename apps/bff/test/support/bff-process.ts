// The BFF as a child process (src/server.ts), for tests that kill an instance with SIGKILL. The
// SPA build it serves is a stand-in page, so nothing is built.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { restartableProcess } from '../../../../tests/support/idp-process.ts';
import { freePort } from '../../../../tests/support/ports.ts';
import { INDEX_HTML } from './system.ts';

const SERVER = join(import.meta.dirname, '..', '..', 'src', 'server.ts');

export interface BffProcess {
  base: string;
  logs: string[];
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and data directory. */
  start(): Promise<void>;
  dispose(): Promise<void>;
}

export async function startBffProcess(env: Record<string, string>): Promise<BffProcess> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'bff-process-'));
  // <app>/dist/spa/browser, like the real build; the stand-in app has no sources, so it is never stale.
  const distDir = join(dir, 'app', 'dist', 'spa', 'browser');
  mkdirSync(distDir, { recursive: true });
  writeFileSync(join(distDir, 'index.html'), INDEX_HTML);
  const fullEnv = { BFF_PORT: String(port), BFF_DATA_DIR: join(dir, 'data'), BFF_SPA_DIST: distDir, BFF_LOG_LEVEL: 'info', ...env };
  const bff = restartableProcess(SERVER, fullEnv, `http://localhost:${port}/readyz`);
  const start = () => bff.launch();
  const kill = (signal: NodeJS.Signals = 'SIGKILL') => bff.stop(signal);
  await start();
  return {
    base: `http://localhost:${port}`, logs: bff.logs, kill, start,
    async dispose() {
      await kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
