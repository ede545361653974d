// Every server of the bench runs as its own child process. This module starts them, waits for
// their health check, reads their RSS and CPU time from /proc, and makes sure none survives the
// bench: all are killed on normal exit, on error and on Ctrl-C.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, onFreshPort, onFreshPorts, PortTakenError, untilServing } from '../../scripts/ports.ts';
import { CLOCK_TICKS } from './host-cpu.ts';

export interface ServerProcess {
  name: string;
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  pid: number;
  /** Resident set size in bytes, or undefined where /proc is missing or the process is gone. */
  rssBytes(): number | undefined;
  /** User + system CPU seconds used so far (all threads), or undefined without /proc. */
  cpuSeconds(): number | undefined;
  /** The last lines the process wrote, for error messages. */
  tail(): string;
  stop(): Promise<void>;
}

export interface StartOptions {
  name: string;
  entry: string;
  port: number;
  env: Record<string, string>;
  /** Path polled until it answers 2xx. */
  healthPath: string;
  timeoutMs?: number;
  cwd?: string;
  /** Options for Node (V8), before the entry module. */
  nodeFlags?: readonly string[];
}

const running = new Set<ChildProcess>();
const tempDirs = new Set<string>();
const TAIL_LINES = 40;
/**
 * How long a server may take to answer its health check. Idle, every server answers within a few
 * seconds; on a machine loaded by other work (load 20 on 2 cores) loading TypeScript alone can take
 * tens of seconds, and a bench that gives up then reports the load, not the server.
 */
export const SERVER_START_TIMEOUT_MS = 90_000;
/** How long a server's output may stay unread after it exited (a hang bound only). */
const OUTPUT_BOUND_MS = 10_000;

export { freePort } from '../../scripts/ports.ts';

/** True when nothing listens on 127.0.0.1:port. */
export async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

export function readRssBytes(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export function readCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at state, field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** CPU seconds used so far by this process and every child server still running. */
export function ownCpuSeconds(): number {
  const self = process.cpuUsage();
  let total = (self.user + self.system) / 1e6;
  for (const child of running) total += (child.pid !== undefined ? readCpuSeconds(child.pid) : undefined) ?? 0;
  return total;
}

export async function startServer(opts: StartOptions): Promise<ServerProcess> {
  // The same environment for every server: NODE_ENV (set to `test` by the test runner) is left out
  // so that no library switches behaviour between the bench and a test run.
  const { NODE_ENV: _ignored, ...inherited } = process.env;
  const child = spawn(process.execPath, [...(opts.nodeFlags ?? []), opts.entry], {
    cwd: opts.cwd,
    env: { ...inherited, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const lines: string[] = [];
  const collect = (buf: Buffer) => {
    lines.push(...buf.toString('utf8').split('\n').filter(Boolean));
    if (lines.length > TAIL_LINES) lines.splice(0, lines.length - TAIL_LINES);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => { running.delete(child); resolve(); }));
  // 'close': its output read to the end. At 'exit' its last lines (why it exited) may still be in
  // the pipes. Bounded, for a grandchild that keeps a pipe open (a build the SPA server started).
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const outputRead = () => Promise.race([closed, sleep(OUTPUT_BOUND_MS, undefined, { ref: false })]);
  const url = `http://127.0.0.1:${opts.port}`;
  const server: ServerProcess = {
    name: opts.name,
    url,
    port: opts.port,
    pid: child.pid!,
    rssBytes: () => readRssBytes(child.pid!),
    cpuSeconds: () => readCpuSeconds(child.pid!),
    tail: () => lines.join('\n'),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
      await outputRead();
    },
  };
  // Ours only: a reserved port is free only until someone binds it, and an answer from another
  // process's server there must not be measured as ours. Ours, unable to bind, exits and is reported.
  const outcome = await untilServing(url + opts.healthPath, child, Date.now() + (opts.timeoutMs ?? SERVER_START_TIMEOUT_MS));
  if (outcome === 'serving') return server;
  if (outcome === 'exited') {
    await outputRead();
    const why = `${opts.name} exited (${child.exitCode ?? child.signalCode}) before answering ${opts.healthPath}:\n${server.tail()}`;
    throw lines.some((l) => l.includes('EADDRINUSE')) ? new PortTakenError(`port ${opts.port} taken by another process: ${why}`) : new Error(why);
  }
  await server.stop();
  throw new Error(`${opts.name} did not answer ${opts.healthPath} within ${(opts.timeoutMs ?? SERVER_START_TIMEOUT_MS) / 1000} s:\n${server.tail()}`);
}

/**
 * How many ports are reserved for a server whose port is registered elsewhere before it starts (a
 * redirect URI at the IdP): it listens on the first one no other process took first.
 */
export const PORT_CANDIDATES = 3;

/** `PORT_CANDIDATES` free ports, for startServerOnFreshPort's `ports`. */
export async function candidatePorts(): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < PORT_CANDIDATES; i++) ports.push(await freePort());
  return ports;
}

/**
 * startServer on a port of its own: `opts` is called with a free port, and again with a fresh one
 * when another process took it before the server listened (the server exits with EADDRINUSE).
 * `ports`, when given, are the only ones tried, in turn (ports registered elsewhere in advance, such
 * as a redirect URI at the IdP).
 */
export function startServerOnFreshPort(opts: (port: number) => StartOptions, ports?: readonly number[]): Promise<ServerProcess> {
  if (!ports) return onFreshPort((port) => startServer(opts(port)));
  if (ports.length === 0) return Promise.reject(new Error('no port to start on'));
  const left = [...ports];
  return onFreshPorts(1, ([port]) => startServer(opts(port!)), ports.length, async () => left.shift()!);
}

/** A fresh directory under the OS temp dir, removed when the bench ends however it ends. */
export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/** Sends SIGKILL to every child still running and removes the temp dirs (synchronous: safe in an 'exit' handler). */
export function killAll(): void {
  for (const child of running) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  running.clear();
  for (const dir of tempDirs) removeTempDir(dir);
}

let installed = false;
/** Kills every child however the bench ends. */
export function killChildrenOnExit(): void {
  if (installed) return;
  installed = true;
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      killAll();
      process.exit(130);
    });
  }
}
