// Ports for servers tests and the bench start: a port handed out but not yet bound is not handed
// out again, whatever the OS offers; a child process whose reserved port another process took is
// not mistaken for healthy, and is started again on another port.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { distinctPorts, freePort, onFreshPort, PortTakenError } from '../scripts/ports.ts';
import { restartableProcess } from './support/idp-process.ts';

describe('ports for test servers', () => {
  it('never hands out a port twice, even when the OS offers it again', async () => {
    const offered = [4100, 4100, 4101, 4100, 4102];
    const next = distinctPorts(async () => offered.shift()!);
    assert.deepEqual([await next(), await next(), await next()], [4100, 4101, 4102]);
  });

  it('gives ports the OS says are free', async () => {
    const ports = await Promise.all([freePort(), freePort(), freePort()]);
    assert.equal(new Set(ports).size, 3);
    for (const port of ports) assert.ok(port > 0 && port < 65536);
  });
});

describe('a child process started on a reserved port another process took meanwhile', () => {
  /** A server script like ours: listens on PORT, answers /healthz, and says why when it cannot listen. */
  function serverScript(dir: string): string {
    const file = join(dir, 'server.mjs');
    writeFileSync(file, `
      import { createServer } from 'node:http';
      const server = createServer((req, res) => res.end('ours'));
      server.once('error', (err) => { console.error(JSON.stringify({ msg: 'cannot_listen', message: err.message })); process.exit(1); });
      server.listen(Number(process.env.PORT), '127.0.0.1');
    `);
    return file;
  }

  it('is not taken for healthy when the other process answers, and fails as PortTakenError', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ports-test-'));
    // The other process: here this one, answering 200 on the port first.
    const other = createServer((req, res) => res.end('not ours'));
    try {
      await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
      const port = (other.address() as AddressInfo).port;
      const child = restartableProcess(serverScript(dir), { PORT: String(port) }, `http://127.0.0.1:${port}/healthz`);
      await assert.rejects(child.launch(), (err: Error) => err instanceof PortTakenError && /EADDRINUSE/.test(err.message));
    } finally {
      other.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is started again on a fresh port', async () => {
    const tried: number[] = [];
    const result = await onFreshPort(async (port) => {
      tried.push(port);
      if (tried.length < 3) throw new PortTakenError(`port ${port} taken`);
      return port;
    });
    assert.equal(tried.length, 3);
    assert.equal(new Set(tried).size, 3);
    assert.equal(result, tried[2]);
    await assert.rejects(onFreshPort(async () => { throw new Error('something else'); }), /something else/);
  });
});
