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
