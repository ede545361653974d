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
import { loadUsers, UsersFileError } from '../src/users.ts';

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
});
