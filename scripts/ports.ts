// Ports for the child servers that npm start, the tests and the bench start: reserving one, telling
// whether a child holds the one it was given, and starting again on fresh ones when another process
// took a reserved port first. Shared by scripts/, tests/ and bench/ (this module imports nothing of theirs).
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Hands out ports from `take`, never the same one twice. A port is only reserved by whoever binds
 * it, and a caller may bind it seconds later (a redirect URI registered at the IdP before its
 * server starts): meanwhile the OS may offer the same free port to the next caller.
 */
export function distinctPorts(take: () => Promise<number>): () => Promise<number> {
  const handedOut = new Set<number>();
  return async () => {
    for (;;) {
      const port = await take();
      if (handedOut.has(port)) continue;
      handedOut.add(port);
      return port;
    }
  };
}

/** A port the OS offers on 127.0.0.1 now (free at the time of the call). */
function osFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** A port free on 127.0.0.1 at the time of the call, never one this process was given before. */
export const freePort: () => Promise<number> = distinctPorts(osFreePort);

/**
 * Whether process `pid` holds the socket listening on TCP `port` (from /proc; undefined where it
 * cannot be told). A port reserved with freePort is free only until someone binds it: another
 * process may have, and may even answer the health check.
 */
export function listensOn(pid: number, port: number): boolean | undefined {
  const inodes = new Set<string>();
  try {
    for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
      for (const row of readFileSync(table, 'utf8').split('\n').slice(1)) {
        const cols = row.trim().split(/\s+/);
        // local_address is ADDRESS:PORT in hex; state 0A is LISTEN; the inode is column 10.
        if (cols.length > 9 && cols[3] === '0A' && parseInt(cols[1]!.split(':')[1]!, 16) === port) inodes.add(cols[9]!);
      }
    }
  } catch {
    return undefined;
  }
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        return inodes.has(/^socket:\[(\d+)\]$/.exec(target)?.[1] ?? '');
      } catch {
        return false;
      }
    });
  } catch {
    // Gone (a child that could not listen exits at once): it holds nothing.
    return false;
  }
}

/** The port a child was to listen on was taken by another process before it bound it. */
export class PortTakenError extends Error {}

/**
 * Runs `start` on `count` ports from `take` (freePort), and again on a fresh set (a few times) when
 * it fails with PortTakenError: another process bound one of them between its reservation and the
 * listen of the child it was for.
 */
export async function onFreshPorts<T>(count: number, start: (ports: number[]) => Promise<T>, attempts = 4, take: () => Promise<number> = freePort): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) ports.push(await take());
    try {
      return await start(ports);
    } catch (err) {
      if (!(err instanceof PortTakenError) || attempt >= attempts) throw err;
      console.error(`${err.message}; retrying on ${count === 1 ? 'another port' : 'other ports'}`);
    }
  }
}

/** onFreshPorts for a single child. */
export function onFreshPort<T>(start: (port: number) => Promise<T>, attempts = 4): Promise<T> {
  return onFreshPorts(1, ([port]) => start(port!), attempts);
}

export type ServingOutcome = 'serving' | 'exited' | 'timed out' | 'given up';

/**
 * Polls `url` (its port is the child's) until it answers 2xx from `child`'s own listening socket:
 * another process's server on a reserved port may answer the same path (listensOn). Answers
 * 'exited' once the child has exited (unable to listen, say), 'timed out' at `deadline` (from
 * Date.now()), 'given up' once `giveUp` says so. Each request is bounded by a second.
 */
export async function untilServing(url: string, child: ChildProcess, deadline: number, options: { intervalMs?: number; giveUp?: () => boolean } = {}): Promise<ServingOutcome> {
  const port = Number(new URL(url).port);
  for (;;) {
    if (options.giveUp?.()) return 'given up';
    if (child.exitCode !== null || child.signalCode !== null) return 'exited';
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.body?.cancel();
      if (res.ok && listensOn(child.pid!, port) !== false) return 'serving';
    } catch {
      // not listening yet
    }
    if (Date.now() >= deadline) return 'timed out';
    await sleep(options.intervalMs ?? 100);
  }
}
