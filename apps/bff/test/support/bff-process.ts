// The BFF as a child process (src/server.ts), for tests that kill an instance with SIGKILL. The
// SPA build it serves is a stand-in page, so nothing is built.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitForHealthy } from '../../../../tests/support/idp-process.ts';
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
  const logs: string[] = [];
  let child: ChildProcess | undefined;

  const start = async () => {
    const spawned = spawn(process.execPath, [SERVER], { env: { ...process.env, ...fullEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    child = spawned;
    const collect = (buf: Buffer) => logs.push(...buf.toString('utf8').split('\n').filter(Boolean));
    spawned.stdout!.on('data', collect);
    spawned.stderr!.on('data', collect);
    await waitForHealthy(`http://localhost:${port}/readyz`, spawned);
  };
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    const running = child;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill(signal);
    await exited;
  };
  await start();
  return {
    base: `http://localhost:${port}`, logs, kill, start,
    async dispose() {
      await kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
