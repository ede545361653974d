// User enumeration by time: a wrong password for a known user and any password for an unknown
// username must cost the same Argon2id checks, whatever parameters the users file's hashes were
// made with (decision 0056): one check of those parameters, or one of each when the file mixes
// several. The check's parameters are read from the hashes
// the user directory checks, not from a clock.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { argon2Sync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PASSWORD_HASH } from '../src/defaults.ts';
import { verifyPassword } from '../src/password-hash.ts';
import { loadUsers } from '../src/users.ts';

interface Params { memory: number; passes: number; parallelism: number; saltLength: number; tagLength: number }

/** A PHC string of `password` made with these parameters, as another tool or an older default would. */
function hashWith(password: string, p: Params): string {
  const nonce = randomBytes(p.saltLength);
  const tag = argon2Sync('argon2id', { message: Buffer.from(password), nonce, memory: p.memory, passes: p.passes, parallelism: p.parallelism, tagLength: p.tagLength });
  return `$argon2id$v=19$m=${p.memory},t=${p.passes},p=${p.parallelism}$${nonce.toString('base64url')}$${tag.toString('base64url')}`;
}

/** What a check of this hash costs: its parameters, salt and tag lengths; not its salt or tag. */
function costOf(phc: string): string {
  const [, , , params, salt, tag] = phc.split('$');
  return `${params} salt=${Buffer.from(salt!, 'base64url').length} tag=${Buffer.from(tag!, 'base64url').length}`;
}

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'idp-check-cost-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Loads a users file of these hashes; answers the cost of the hash each authentication checked. */
function directory(hashes: string[]) {
  const file = join(dir, `users-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify({ users: hashes.map((passwordHash, i) => ({ sub: `sub-${i}`, username: `user${i}`, passwordHash })) }));
  const checked: string[] = [];
  const users = loadUsers(file, { verify: (password, phc) => { checked.push(costOf(phc)); return verifyPassword(password, phc); } });
  return {
    async costOfChecking(username: string, password: string): Promise<{ cost: string; signedIn: boolean }> {
      const before = checked.length;
      const user = await users.authenticate(username, password);
      const costs = checked.slice(before);
      assert.equal(costs.length, new Set(hashes.map(costOf)).size, 'every attempt checks one hash of each cost of the file');
      return { cost: costs.join(' + '), signedIn: user !== undefined };
    },
  };
}

const DEFAULTS: Params = { memory: PASSWORD_HASH.memoryKiB, passes: PASSWORD_HASH.passes, parallelism: PASSWORD_HASH.parallelism, saltLength: PASSWORD_HASH.saltLength, tagLength: PASSWORD_HASH.tagLength };

describe('an unknown username costs one check at the parameters of the users\' hashes', () => {
  const sets: Array<[string, Params]> = [
    ['the current defaults', DEFAULTS],
    ['one pass, more memory', { ...DEFAULTS, memory: 23 * 1024, passes: 1 }],
    ['more passes, less memory, two lanes', { memory: 8 * 1024, passes: 4, parallelism: 2, saltLength: 16, tagLength: 32 }],
    ['another tool\'s salt and tag lengths', { ...DEFAULTS, saltLength: 32, tagLength: 16 }],
  ];
  for (const [what, params] of sets) {
    test(`users hashed with ${what}`, async () => {
      const users = directory([hashWith('pw-0', params), hashWith('pw-1', params)]);
      const known = await users.costOfChecking('user0', 'wrong');
      const unknown = await users.costOfChecking('nobody', 'wrong');
      const right = await users.costOfChecking('user1', 'pw-1');
      assert.equal(unknown.cost, known.cost);
      assert.equal(right.cost, known.cost);
      assert.deepEqual([known.signedIn, unknown.signedIn, right.signedIn], [false, false, true]);
    });
  }

  // A file mixing costs (hashes made before the defaults were raised, or imported): one check per
  // cost of the file for every attempt, the user's own hash for its cost, decoys for the others,
  // in one order. Checking only the user's own hash told the users of the less common costs apart
  // from an unknown name (and from each other) by the time of one failed login.
  test('users hashed with two parameter sets: every attempt, any user or an unknown name, checks one hash of each set, in one order', async () => {
    const older = { ...DEFAULTS, memory: 8 * 1024, passes: 3 };
    const users = directory([hashWith('a', older), hashWith('b', DEFAULTS), hashWith('c', older)]);
    const unknown = await users.costOfChecking('nobody', 'x');
    assert.equal(unknown.cost.split(' + ').length, 2);
    for (const [username, password, signedIn] of [['user0', 'x', false], ['user1', 'x', false], ['user2', 'x', false], ['user1', 'b', true], ['user2', 'c', true]] as const) {
      const attempt = await users.costOfChecking(username, password);
      assert.deepEqual(attempt, { cost: unknown.cost, signedIn }, `${username} with ${password}`);
    }
  });

  test('three parameter sets, one user each: the right password signs in whatever its set, each attempt costs the same', async () => {
    const sets = [DEFAULTS, { ...DEFAULTS, memory: 8 * 1024, passes: 3 }, { ...DEFAULTS, saltLength: 32, tagLength: 16 }];
    const users = directory(sets.map((p, i) => hashWith(`pw-${i}`, p)));
    const unknown = await users.costOfChecking('nobody', 'pw-0');
    for (let i = 0; i < sets.length; i++) {
      assert.deepEqual(await users.costOfChecking(`user${i}`, `pw-${i}`), { cost: unknown.cost, signedIn: true });
      assert.deepEqual(await users.costOfChecking(`user${i}`, `pw-${(i + 1) % sets.length}`), { cost: unknown.cost, signedIn: false }, 'another user\'s password is checked only against this user\'s hash');
    }
  });
});
