// Ports for servers tests and the bench start: a port handed out but not yet bound is not handed
// out again, whatever the OS offers.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { distinctPorts, freePort } from './support/ports.ts';

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
