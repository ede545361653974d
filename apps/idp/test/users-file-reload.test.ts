// The users file edited while the IdP runs (decision 0078): the IdP reads it again when it
// changes, so that removing a user or changing a password takes effect without a restart; a
// removed user's refresh tokens stop working too (oidc-provider finds no account for them).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as oidc from 'openid-client';
import { startIdpInProcess, type InProcessIdp } from '../../../tests/support/idp-in-process.ts';
import { closedIfOpened } from '../../../tests/support/closed-if-opened.ts';
import { PRODUCTION_SECRETS } from '../../../tests/support/idp-process.ts';
import { ManualClock } from '../../../tests/support/manual-clock.ts';
import { login, rpConfig } from '../../../tests/support/oidc-rp.ts';
import { USERS_FILE_CHECK_INTERVAL_MS } from '../src/defaults.ts';
import { hashPassword } from '../src/password-hash.ts';

let dir: string;
let file: string;
let idp: InProcessIdp;
const clock = new ManualClock();
const users = async (entries: Array<[sub: string, username: string, password: string]>) =>
  writeFileSync(file, JSON.stringify({ users: await Promise.all(entries.map(async ([sub, username, password]) => ({ sub, username, passwordHash: await hashPassword(password), apiScopes: ['auth0-user-api-spa'] }))) }));

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'idp-users-reload-'));
  file = join(dir, 'users.json');
  await users([['auth0|stays', 'stays', 'stays-password'], ['auth0|leaves', 'leaves', 'leaves-password']]);
  idp = await startIdpInProcess({ IDP_USERS_FILE: file }, { clock });
});
after(async () => {
  await idp?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a user removed from the file signs in no more, and his refresh token is refused; a changed password takes effect', async () => {
  const spa = await rpConfig(idp.issuer, 'spa');
  const leaver = await login(spa, 'leaves', 'leaves-password');
  await users([['auth0|stays', 'stays', 'changed-password']]);
  clock.advance(USERS_FILE_CHECK_INTERVAL_MS);

  await assert.rejects(oidc.refreshTokenGrant(spa, leaver.tokens.refresh_token!), (err: oidc.ResponseBodyError) => err.error === 'invalid_grant');
  await assert.rejects(login(spa, 'leaves', 'leaves-password'));
  await assert.rejects(login(spa, 'stays', 'stays-password'));
  assert.ok((await login(spa, 'stays', 'changed-password')).tokens.access_token);
  assert.ok(idp.logs.some((l) => JSON.parse(l).event === 'users_file_reloaded'));
});

test('the users file\'s mode: writable by every user refused in production, by its group or readable by every user a warning; a demo file may be read', async (t) => {
  const { usersFileModeProblem } = await import('../src/users.ts');
  const { chmodSync } = await import('node:fs');
  t.after(() => chmodSync(file, 0o600));
  const cases: Array<[number, boolean, { writable: boolean; said: RegExp } | undefined]> = [
    [0o600, false, undefined],
    [0o640, false, undefined],
    [0o644, true, undefined],
    [0o644, false, { writable: false, said: /mode 0644\) is readable by every user of the machine/ }],
    [0o660, false, { writable: false, said: /mode 0660\) is writable by its group/ }],
    [0o646, true, { writable: true, said: /mode 0646\) is writable by every user of the machine: whoever can write it can add a user/ }],
  ];
  for (const [mode, demo, expected] of cases) {
    chmodSync(file, mode);
    const found = usersFileModeProblem(file, demo);
    assert.equal(found?.writable, expected?.writable, mode.toString(8));
    if (expected) assert.match(found!.problem, expected.said);
  }
});

test('a production IdP does not start on a users file every user of the machine can write, naming it', async (t) => {
  const { chmodSync } = await import('node:fs');
  const { createIdp, StartupError } = await import('../src/app.ts');
  const { readIdpConfig } = await import('../src/config.ts');
  const { createLogger } = await import('../src/log.ts');
  t.after(() => chmodSync(file, 0o600));
  chmodSync(file, 0o666);
  const env = {
    IDP_PROFILE: 'production', IDP_ISSUER: 'https://id.example.com', IDP_USERS_FILE: file, IDP_DATA_DIR: join(dir, 'production-data'),
    ...PRODUCTION_SECRETS,
  };
  await assert.rejects(closedIfOpened(createIdp(readIdpConfig(env), { env: { ...process.env, ...env }, logger: createLogger('silent') }), (opened) => opened.close()), (err: Error) => err instanceof StartupError && /writable by every user of the machine/.test(err.message));
});
