// A throwaway redis-server on a free loopback port (Debian's redis-server package), with the
// persistence the IdP and the BFF require (appendonly yes, appendfsync always; see the README's
// "Operations" section and docs/decisions/0063), so that it can be killed and restarted without
// losing an acknowledged write, however slow the disk.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { listensOn, onFreshPort, PortTakenError } from '../../scripts/ports.ts';
import { closed, collectLines } from './idp-process.ts';

export const REDIS_SERVER = '/usr/bin/redis-server';

export interface RedisProcess {
  url: string;
  port: number;
  /** Stops the server (SIGKILL: a crash) and keeps its data directory. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and data directory. */
  start(): Promise<void>;
  /** Stops it and removes its data directory. */
  stop(): Promise<void>;
}

export interface RedisOptions {
  /** Persistence as the IdP requires it (default), or Redis's own defaults minus snapshots (`none`). */
  persistence?: 'durable' | 'none';
}

async function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => socket.write('PING\r\n'));
    socket.once('data', (d) => { socket.destroy(); resolve(d.toString().startsWith('+PONG')); });
    socket.once('error', () => resolve(false));
  });
}

export async function startRedis(opts: RedisOptions = {}): Promise<RedisProcess> {
  if (!existsSync(REDIS_SERVER)) throw new Error(`${REDIS_SERVER} is missing: apt-get install redis-server (npm test installs it when run as root)`);
  const dir = mkdtempSync(join(tmpdir(), 'redis-test-'));
  let port = 0;
  const persistence = opts.persistence === 'none' ? ['--appendonly', 'no'] : ['--appendonly', 'yes', '--appendfsync', 'always'];
  let child: ChildProcess | undefined;

  const start = async () => {
    const spawned = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence, '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = spawned;
    const spawnedClosed = closed(spawned);
    const output: string[] = [];
    collectLines(spawned.stdout!, output);
    collectLines(spawned.stderr!, output);
    // Ours once it answers and holds the listening socket itself: another process may have bound the
    // reserved port first, and another Redis would answer the PING too.
    const ours = async () => (await answersPing(port)) && listensOn(spawned.pid!, port) !== false;
    // Bounded against a hang only (was 200 tries of 50 ms, 10 s): a restart replays the append-only
    // file, and a loaded two-core machine starts any process slowly.
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && !(await ours())) {
      if (spawned.exitCode !== null) {
        // Its last lines (why it exited) read to the end.
        await spawnedClosed;
        const said = output.slice(-4).join('\n');
        if (/Address already in use/.test(said)) throw new PortTakenError(`redis-server: port ${port} taken: ${said}`);
        throw new Error(`redis-server exited with ${spawned.exitCode}: ${said}`);
      }
      await sleep(50);
    }
    if (!(await ours())) throw new Error(`redis-server on port ${port} does not answer`);
  };
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    const running = child;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill(signal);
    await exited;
  };
  await onFreshPort(async (fresh) => {
    port = fresh;
    await start();
  }).catch((err: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  return {
    url: `redis://127.0.0.1:${port}/0`,
    port,
    kill,
    start,
    async stop() {
      await kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
