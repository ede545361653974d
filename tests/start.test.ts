// `npm start`: every app comes up healthy, the banner names the URLs and demo users, and Ctrl-C
// (SIGINT) stops everything. A port reserved for an app that another process took before the app
// listened is neither taken for the app nor fatal: the system starts again on a fresh set of ports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { apps } from '../scripts/apps.ts';
import { startAllApps, type AppPorts, type StartedApps } from './support/npm-start.ts';
import { freePort } from '../scripts/ports.ts';

const present = apps.filter((a) => existsSync(join(import.meta.dirname, '..', 'apps', a.name, a.entry)));

/** Each app's data in `dataDir`, and every app pointed at the IdP and the API on this attempt's ports. */
function envFor(dataDir: string): (ports: AppPorts) => Record<string, string> {
  return (ports) => {
    const idp = `http://localhost:${ports['IDP_PORT']}`;
    const api = `http://localhost:${ports['API_PORT']}`;
    return {
      IDP_DATA_DIR: join(dataDir, 'idp'), API_DATA_DIR: join(dataDir, 'api'), BFF_DATA_DIR: join(dataDir, 'bff'),
      IDP_ISSUER: idp, AUTH_AUTHORITY: idp, SPA_AUTHORITY: idp, SPA_API_URL: api, BFF_AUTHORITY: idp, BFF_API_URL: api,
    };
  };
}

async function healthStatus(ports: AppPorts, app: (typeof apps)[number]): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${ports[app.portVar]}${app.healthPath}`);
  await res.arrayBuffer();
  return res.status;
}

test('npm start brings every app up, prints the banner, and SIGINT stops them all', { timeout: 300_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'start-test-'));
  let started: StartedApps | undefined;
  try {
    started = await startAllApps({ env: envFor(dataDir) });
    const { ports, output, exited } = started;
    assert.match(output(), /alice \/ demo-alice/);
    assert.match(output(), /bob {3}\/ demo-bob/);
    assert.match(output(), new RegExp(`Identity provider\\s+http://localhost:${ports['IDP_PORT']}`));
    assert.ok(present.some((a) => a.name === 'idp'));
    for (const app of present) assert.equal(await healthStatus(ports, app), 200, `${app.name} is healthy`);
    started.child.kill('SIGINT');
    assert.equal(await exited, 0);
    for (const app of present) {
      await assert.rejects(fetch(`http://127.0.0.1:${ports[app.portVar]}${app.healthPath}`), `${app.name} is stopped`);
    }
  } finally {
    await started?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test("npm start on reserved ports of which another process took one, answering the app's health check there: that server is not taken for the app, and every app starts again on a fresh set of ports", { timeout: 300_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'start-test-'));
  // The other process: here this one, listening on the port reserved first (the IdP's) and
  // answering 200 on every path. It counts npm start's health checks once every other app is up.
  let othersUp = false;
  let checksWhileOthersUp = 0;
  const other = createServer((req, res) => {
    if (othersUp && req.url === '/healthz') checksWhileOthersUp++;
    res.end('not ours');
  });
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
  const taken = (other.address() as AddressInfo).port;
  const handedOut: number[] = [];
  const takePort = async () => {
    const port = handedOut.length === 0 ? taken : await freePort();
    handedOut.push(port);
    return port;
  };
  // The IdP is held before it listens (a preloaded module waits for a file) until npm start has
  // asked the other server for the IdP's health while every other app was up: had it taken that
  // answer for the IdP's, it would have announced the system up by then, on the taken port.
  const releaseIdp = join(dataDir, 'release-idp');
  const holdIdp = join(dataDir, 'hold-idp.mjs');
  writeFileSync(holdIdp, [
    "import { existsSync } from 'node:fs';",
    "import { setTimeout as sleep } from 'node:timers/promises';",
    `if (process.cwd().endsWith('${join('apps', 'idp')}')) while (!existsSync(${JSON.stringify(releaseIdp)})) await sleep(20);`,
  ].join('\n'));
  const env = envFor(dataDir);
  const others = apps.filter((a) => a.portVar !== 'IDP_PORT' && present.includes(a));
  let finished = false;
  const release = (async () => {
    while (!finished && handedOut.length < apps.length) await sleep(20);
    const ports: AppPorts = Object.fromEntries(apps.map((a, i) => [a.portVar, handedOut[i]!]));
    while (!finished && !othersUp) {
      othersUp = (await Promise.all(others.map((a) => healthStatus(ports, a).catch(() => 0)))).every((status) => status === 200);
      if (!othersUp) await sleep(50);
    }
    while (!finished && checksWhileOthersUp === 0) await sleep(20);
    if (!finished) writeFileSync(releaseIdp, '');
  })();
  let started: StartedApps | undefined;
  try {
    started = await startAllApps({
      env: (ports) => ({ ...env(ports), NODE_OPTIONS: `${process.env['NODE_OPTIONS'] ?? ''} --import=${pathToFileURL(holdIdp).href}`.trim() }),
      takePort,
    });
    assert.equal(apps[0]!.portVar, 'IDP_PORT');
    assert.equal(handedOut.length, 2 * apps.length, 'a first set of ports, then a fresh one');
    assert.ok(!Object.values(started.ports).includes(taken), 'no app on the taken port');
    assert.match(started.output(), new RegExp(`Identity provider\\s+http://localhost:${started.ports['IDP_PORT']}`));
    for (const app of present) assert.equal(await healthStatus(started.ports, app), 200, `${app.name} is healthy`);
  } finally {
    finished = true;
    await release;
    await started?.stop();
    other.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
