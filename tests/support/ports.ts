import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer } from 'node:net';

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
