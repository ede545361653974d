// The identity provider in this process, over a real HTTP server on a loopback port: the same
// handler server.ts listens with, but with a clock and a user directory the test can reach into.
// Child processes (idp-process.ts) remain for SIGKILL and multi-instance tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createIdp, type Idp, type IdpOptions } from '../../apps/idp/src/app.ts';
import { readIdpConfig } from '../../apps/idp/src/config.ts';
import { HTTP_TIMEOUTS } from '../../apps/idp/src/defaults.ts';
import { createLogger } from '../../apps/idp/src/log.ts';

export interface InProcessIdp {
  issuer: string;
  dataDir: string;
  /** Every JSON log line, in order. */
  logs: string[];
  idp(): Idp;
  /** Closes the IdP and opens it again on the same data directory (or Redis), as a restart would. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** Environment of the IdP; a function receives the port first (for an IDP_ISSUER naming it). */
export type IdpEnv = Record<string, string> | ((port: number) => Record<string, string>);

export async function startIdpInProcess(idpEnv: IdpEnv = {}, opts: Omit<IdpOptions, 'logger'> = {}): Promise<InProcessIdp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'idp-test-'));
  const logs: string[] = [];
  let current: Idp | undefined;
  const server: Server = createServer({ ...HTTP_TIMEOUTS }, (req, res) => {
    if (current) current.handle(req, res);
    else res.writeHead(503).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const env = typeof idpEnv === 'function' ? idpEnv(port) : idpEnv;
  const config = readIdpConfig({ IDP_PORT: String(port), IDP_DATA_DIR: dataDir, IDP_LOG_LEVEL: 'info', ...env });
  const open = async () => {
    current = await createIdp(config, { ...opts, env: { ...process.env, ...env }, logger: createLogger('info', (line) => logs.push(line)) });
  };
  try {
    await open();
  } catch (err) {
    // A listening server left behind would keep the test file's process alive after its failure.
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    issuer: config.issuer,
    dataDir,
    logs,
    idp: () => current!,
    async restart() {
      const closing = current!;
      current = undefined;
      await closing.close();
      await open();
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await current?.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs `fn` against a fresh in-process IdP and closes it afterwards, whatever happens. */
export async function withIdpInProcess<T>(env: IdpEnv, opts: Omit<IdpOptions, 'logger'>, fn: (idp: InProcessIdp) => Promise<T>): Promise<T> {
  const idp = await startIdpInProcess(env, opts);
  try {
    return await fn(idp);
  } finally {
    await idp.close();
  }
}
