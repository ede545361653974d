// `npm start`: every app comes up healthy, the banner names the URLs and demo users, and Ctrl-C
// (SIGINT) stops everything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apps } from '../scripts/apps.ts';
import { freePort } from './support/ports.ts';

test('npm start brings every app up, prints the banner, and SIGINT stops them all', { timeout: 300_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'start-test-'));
  const env: Record<string, string> = { IDP_DATA_DIR: join(dataDir, 'idp'), API_DATA_DIR: join(dataDir, 'api'), BFF_DATA_DIR: join(dataDir, 'bff') };
  for (const app of apps) env[app.portVar] = String(await freePort());
  env['IDP_ISSUER'] = `http://localhost:${env['IDP_PORT']}`;
  env['AUTH_AUTHORITY'] = env['IDP_ISSUER'];
  env['SPA_AUTHORITY'] = env['IDP_ISSUER'];
  env['SPA_API_URL'] = `http://localhost:${env['API_PORT']}`;
  env['BFF_AUTHORITY'] = env['IDP_ISSUER'];
  env['BFF_API_URL'] = `http://localhost:${env['API_PORT']}`;
  const child = spawn(process.execPath, [join(import.meta.dirname, '..', 'scripts', 'start.ts')], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (b: Buffer) => { output += b.toString(); });
  child.stderr.on('data', (b: Buffer) => { output += b.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  try {
    const deadline = Date.now() + 240_000;
    while (!output.includes('All apps are up') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 200));
    assert.match(output, /All apps are up/, output.slice(-2000));
    assert.match(output, /alice \/ demo-alice/);
    assert.match(output, /bob {3}\/ demo-bob/);
    assert.match(output, new RegExp(`Identity provider\\s+http://localhost:${env['IDP_PORT']}`));
    const started = apps.filter((a) => existsSync(join(import.meta.dirname, '..', 'apps', a.name, a.entry)));
    assert.ok(started.some((a) => a.name === 'idp'));
    for (const app of started) {
      const health = await fetch(`http://127.0.0.1:${env[app.portVar]}${app.healthPath}`);
      assert.equal(health.status, 200, `${app.name} is healthy`);
    }
    child.kill('SIGINT');
    assert.equal(await exited, 0);
    for (const app of started) {
      await assert.rejects(fetch(`http://127.0.0.1:${env[app.portVar]}${app.healthPath}`), `${app.name} is stopped`);
    }
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
});
