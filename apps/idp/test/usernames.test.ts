// Usernames are one key however they are written (decision 0045): a name typed decomposed
// (e + U+0308) or in full width (an input method's ｚｏｅ), with surrounding spaces or in upper
// case, is the user of the users file, and its failures count against that user's limits; a users
// file naming one key twice stops the start.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import { startIdpInProcess, type InProcessIdp } from '../../../tests/support/idp-in-process.ts';
import { authorizationRequest, followIdpRedirects, rpConfig, submitLogin, userAgent } from '../../../tests/support/oidc-rp.ts';
import { hashPassword } from '../src/password-hash.ts';
import { USERS_FILE_CHECK_INTERVAL_MS } from '../src/defaults.ts';
import { loadUsers, UsersFileError, watchUsersFile } from '../src/users.ts';

/** The users file's spelling: composed (NFC), lower case. */
const ZOE = 'zo\u00eb';
const PASSWORD = 'zoe-password-1';

let dir: string;
let idp: InProcessIdp;
let spa: oidc.Configuration;

function usersFile(name: string, users: Array<{ sub: string; username: string; passwordHash: string }>): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify({ demo: true, users }));
  return file;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'idp-usernames-'));
  const passwordHash = await hashPassword(PASSWORD);
  const file = usersFile('users.json', [{ sub: 'auth0|zoe', username: ZOE, passwordHash }, { sub: 'auth0|zoe-plain', username: 'zoe', passwordHash }]);
  idp = await startIdpInProcess({ IDP_USERS_FILE: file, IDP_LOGIN_MAX_FAILURES_PER_USER_AND_IP: '2' });
  spa = await rpConfig(idp.issuer, 'spa');
});
after(async () => {
  await idp?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Submits the login form once; the `sub` signed in, or the page's status. */
async function signIn(username: string, password: string): Promise<{ status: number; sub?: string }> {
  const ua = userAgent();
  const req = await authorizationRequest(spa);
  const page = await followIdpRedirects(ua, idp.issuer, req.url);
  const res = await submitLogin(ua, idp.issuer, page, username, password);
  const location = res.headers.get('location');
  if (!location?.includes('code=')) {
    await res.arrayBuffer();
    return { status: res.status };
  }
  const tokens = await oidc.authorizationCodeGrant(spa, new URL(location), { pkceCodeVerifier: req.verifier, expectedState: req.state });
  return { status: res.status, sub: tokens.claims()?.sub };
}

describe('a username at the login form', () => {
  const spellings = {
    'composed, as in the users file': ZOE,
    decomposed: 'zoe\u0308',
    'in upper case, decomposed': 'ZOE\u0308',
    'in full width': '\uff5a\uff4f\u00eb',
    'in full width, upper case, decomposed': '\uff3a\uff2f\uff25\u0308',
    'with surrounding spaces, ideographic included': ` \u3000${ZOE} `,
  };
  for (const [how, username] of Object.entries(spellings)) {
    test(`${how}, signs in as the user of that name`, async () => {
      assert.deepEqual(await signIn(username, PASSWORD), { status: 303, sub: 'auth0|zoe' });
    });
  }

  test('without its diacritic is another user, and a different name is no user', async () => {
    assert.deepEqual(await signIn('ZOE', PASSWORD), { status: 303, sub: 'auth0|zoe-plain' });
    assert.equal((await signIn('zo\u00e9', PASSWORD)).status, 401);
  });

  test('counts its failures against that user whatever the spelling: the limit binds across spellings', async () => {
    assert.equal((await signIn('zoe\u0308', 'wrong-1')).status, 401);
    assert.equal((await signIn('\uff5a\uff4f\u00eb', 'wrong-2')).status, 401);
    assert.equal((await signIn(`${ZOE.toUpperCase()} `, PASSWORD)).status, 429, 'the third attempt from this address is refused, right password or not');
    assert.deepEqual(await signIn('zoe', PASSWORD), { status: 303, sub: 'auth0|zoe-plain' }, 'the other user is not limited');
  });
});

describe('the users file', () => {
  const pairs: Array<[string, string]> = [
    [ZOE, 'zoe\u0308'],
    ['alice', '\uff41\uff4c\uff49\uff43\uff45'],
    ['alice', ' Alice'],
  ];
  for (const [first, second] of pairs) {
    test(`naming ${JSON.stringify(first)} and ${JSON.stringify(second)} is refused: one username twice`, async () => {
      const passwordHash = await hashPassword('x');
      const file = usersFile('twice.json', [{ sub: 'auth0|one', username: first, passwordHash }, { sub: 'auth0|two', username: second, passwordHash }]);
      assert.throws(() => loadUsers(file), (err: Error) => err instanceof UsersFileError && err.message.includes('is the same as'));
    });
  }

  test('a username of white space only is refused', async () => {
    const file = usersFile('blank.json', [{ sub: 'auth0|blank', username: ' \u3000', passwordHash: await hashPassword('x') }]);
    assert.throws(() => loadUsers(file), UsersFileError);
  });

  // Two entries that are one name to a reader and two keys to the IdP: an operator granting or
  // removing "alice" may act on the other entry, and a user may be shown as someone else.
  const lookAlikes: Array<[string, string, RegExp]> = [
    ['a Cyrillic а among Latin letters', '\u0430lice', /mixes letters of the Cyrillic and Latin scripts/],
    ['a Greek ο among Latin letters', 'b\u03bfb', /mixes letters of the Latin and Greek scripts/],
    ['a zero-width space', 'ali\u200bce', /invisible, formatting or unassigned character U\+200B/],
    ['a soft hyphen', 'al\u00adice', /U\+00AD/],
    ['a right-to-left override', 'ecila\u202e', /U\+202E/],
    ['a zero-width joiner', 'ali\u200dce', /U\+200D/],
    ['a variation selector', 'alice\ufe0f', /U\+FE0F/],
  ];
  for (const [what, username, said] of lookAlikes) {
    test(`a username with ${what} beside "alice" is refused, naming why`, async () => {
      const passwordHash = await hashPassword('x');
      const file = usersFile('look-alike.json', [{ sub: 'auth0|alice', username: 'alice', passwordHash }, { sub: 'auth0|other', username, passwordHash }]);
      assert.throws(() => loadUsers(file), (err: Error) => err instanceof UsersFileError && said.test(err.message) && err.message.includes('users[1].username'));
    });
  }

  test('names of one script, with accents, in full width, or with Han and kana beside Latin letters, are taken', async () => {
    const passwordHash = await hashPassword('x');
    const names = ['zo\u00eb', '\u0437\u043e\u044f', '\u03b6\u03c9\u03ae', '\u5c71\u7530taro', 'jean-luc', 'o\'brien', 'mar\u00eda jos\u00e9'];
    const file = usersFile('one-script.json', names.map((username, i) => ({ sub: `auth0|${i}`, username, passwordHash })));
    const users = loadUsers(file);
    for (const name of names) assert.equal(users.registeredUsername(name), name);
  });
});

describe('the users file changed while the IdP runs', () => {
  const clock = { t: 1_000_000, now() { return this.t; } };
  const events: Array<[string, Record<string, unknown>]> = [];
  const write = (file: string, users: unknown, demo = false) => writeFileSync(file, JSON.stringify({ demo, users }));

  test('is read again within USERS_FILE_CHECK_INTERVAL_MS: a removed user and an old password stop signing in, a new user signs in', async () => {
    const file = join(dir, 'changing.json');
    const [oldHash, newHash] = [await hashPassword('old-password'), await hashPassword('new-password')];
    write(file, [{ sub: 'auth0|ann', username: 'ann', passwordHash: oldHash }, { sub: 'auth0|leaver', username: 'leaver', passwordHash: oldHash }]);
    const users = watchUsersFile(file, { now: () => clock.now(), onChange: (e, f) => events.push([e, f]) });
    assert.ok(await users.authenticate('leaver', 'old-password'));

    write(file, [{ sub: 'auth0|ann', username: 'ann', passwordHash: newHash }, { sub: 'auth0|new', username: 'newcomer', passwordHash: newHash }]);
    assert.ok(await users.authenticate('leaver', 'old-password'), 'not looked at before the interval');
    clock.t += USERS_FILE_CHECK_INTERVAL_MS;
    assert.equal(await users.authenticate('leaver', 'old-password'), undefined, 'a removed user no longer signs in');
    assert.equal(users.findBySub('auth0|leaver'), undefined, 'nor is found for his refresh tokens');
    assert.equal(await users.authenticate('ann', 'old-password'), undefined, 'an old password no longer signs in');
    assert.equal((await users.authenticate('ann', 'new-password'))?.sub, 'auth0|ann');
    assert.equal((await users.authenticate('newcomer', 'new-password'))?.sub, 'auth0|new');
    assert.deepEqual(events.map(([e]) => e), ['users_file_reloaded']);
  });

  test('a changed file that does not load, or is refused, is not taken: the previous users stay, the problem told once per change', async () => {
    const file = join(dir, 'broken.json');
    const passwordHash = await hashPassword('ann-password');
    write(file, [{ sub: 'auth0|ann', username: 'ann', passwordHash }]);
    events.length = 0;
    const users = watchUsersFile(file, { now: () => clock.now(), onChange: (e, f) => events.push([e, f]), refuse: (u) => (u.demo ? 'the production profile refuses demo users' : undefined) });
    writeFileSync(file, '{"users": [{"sub": "auth0|ann", "username": "ann"');
    clock.t += USERS_FILE_CHECK_INTERVAL_MS;
    assert.equal((await users.authenticate('ann', 'ann-password'))?.sub, 'auth0|ann', 'a half-written file changes nothing');
    clock.t += USERS_FILE_CHECK_INTERVAL_MS;
    await users.authenticate('ann', 'ann-password');
    write(file, [{ sub: 'auth0|ann', username: 'ann', passwordHash }, { sub: 'auth0|demo', username: 'demo', passwordHash }], true);
    clock.t += USERS_FILE_CHECK_INTERVAL_MS;
    assert.equal(await users.authenticate('demo', 'ann-password'), undefined, 'demo users refused');
    assert.deepEqual(events.map(([e, f]) => [e, String(f['reason']).includes('refuses demo users') || String(f['reason']).includes('cannot read users file')]), [['users_file_refused', true], ['users_file_refused', true]]);
  });
});
