// Bad configuration stops the IdP with a message naming the variable; production refuses
// development conveniences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@suite/config';
import { loadClients } from '../src/clients.ts';
import { readIdpConfig } from '../src/config.ts';
import { loadUsers } from '../src/users.ts';
import { runIdpExpectingFailure } from '../../../tests/support/idp-process.ts';

test('a bad value names the variable and what was expected', async () => {
  const { code, output } = await runIdpExpectingFailure({ IDP_ACCESS_TOKEN_TTL: 'five minutes', IDP_SIGNING_ALG: 'HS256' });
  assert.equal(code, 2);
  assert.match(output, /IDP_ACCESS_TOKEN_TTL="five minutes" is invalid.*integer/);
  assert.match(output, /IDP_SIGNING_ALG="HS256" is invalid.*one of RS256, ES256/);
});

test('the production profile refuses demo users', async () => {
  const { code, output } = await runIdpExpectingFailure({ IDP_PROFILE: 'production', IDP_ISSUER: 'https://id.example.com', IDP_COOKIE_KEYS: 'k'.repeat(32), API_CLIENT_SECRET: 's'.repeat(32), BFF_CLIENT_SECRET: 'b'.repeat(32), SERVICE_CLIENT_SECRET: 'm'.repeat(32) });
  assert.equal(code, 2);
  assert.match(output, /refuses demo users/);
});

test('the production profile refuses the development client secret', async () => {
  const { code, output } = await runIdpExpectingFailure({ IDP_PROFILE: 'production', IDP_ISSUER: 'https://id.example.com', IDP_COOKIE_KEYS: 'k'.repeat(32) });
  assert.equal(code, 2);
  assert.match(output, /client api: set API_CLIENT_SECRET/);
  const bff = await runIdpExpectingFailure({ IDP_PROFILE: 'production', IDP_ISSUER: 'https://id.example.com', IDP_COOKIE_KEYS: 'k'.repeat(32), API_CLIENT_SECRET: 's'.repeat(32) });
  assert.match(bff.output, /client bff: set BFF_CLIENT_SECRET/);
  const service = await runIdpExpectingFailure({ IDP_PROFILE: 'production', IDP_ISSUER: 'https://id.example.com', IDP_COOKIE_KEYS: 'k'.repeat(32), API_CLIENT_SECRET: 's'.repeat(32), BFF_CLIENT_SECRET: 'b'.repeat(32) });
  assert.match(service.output, /client service: set SERVICE_CLIENT_SECRET/);
});

test('a clients file that cannot be read is reported', async () => {
  const { code, output } = await runIdpExpectingFailure({ IDP_CLIENTS_FILE: '/nonexistent/clients.json' });
  assert.equal(code, 2);
  assert.match(output, /cannot read clients file/);
});

test('an issuer the IdP cannot serve at its own root is refused, naming IDP_ISSUER', () => {
  // Discovery and every endpoint are served at the root: an issuer with a path would be discovered
  // at <path>/.well-known/openid-configuration (404), and its endpoints would not be under it.
  for (const issuer of [
    'https://id.example.com/tenant', 'https://id.example.com/tenant/', 'https://id.example.com/?x=1', 'https://id.example.com/#f',
    'https://user:pass@id.example.com', 'https://ID.example.com', 'https://id.example.com:443', 'http://localhost:4400//',
  ]) {
    assert.throws(() => readIdpConfig({ IDP_ISSUER: issuer }), (err: Error) => {
      assert.ok(err instanceof ConfigError, issuer);
      assert.match(err.message, /IDP_ISSUER=.* is invalid: .*origin/, issuer);
      return true;
    }, issuer);
  }
  for (const issuer of ['https://id.example.com', 'https://id.example.com/', 'http://localhost:4400', 'http://127.0.0.1:4400/']) {
    assert.equal(readIdpConfig({ IDP_ISSUER: issuer }).issuer, issuer);
  }
});

test('a mistyped variable stops the start instead of leaving its setting at the default, naming the one it resembles', async () => {
  // IDP_PROFLE=production would otherwise run the development profile: demo users, development secrets.
  const { code, output } = await runIdpExpectingFailure({ IDP_PROFLE: 'production' });
  assert.equal(code, 2);
  assert.match(output, /IDP_PROFLE is not a setting of this app \(did you mean IDP_PROFILE\?\)/);
  assert.doesNotMatch(output, /"listening"|\n\s+at /);
});

test('every cookie key must be long enough, and none may be empty; no key is shown', async () => {
  const production = { IDP_PROFILE: 'production', IDP_ISSUER: 'https://id.example.com', API_CLIENT_SECRET: 's'.repeat(32), BFF_CLIENT_SECRET: 'b'.repeat(32), SERVICE_CLIENT_SECRET: 'm'.repeat(32) };
  const short = await runIdpExpectingFailure({ ...production, IDP_COOKIE_KEYS: `${'k'.repeat(32)},short-cookie-key` });
  assert.equal(short.code, 2);
  assert.match(short.output, /IDP_COOKIE_KEYS=\(hidden\) is invalid: item 2 is not valid \(shorter than 32 characters\)/);
  const empty = await runIdpExpectingFailure({ ...production, IDP_COOKIE_KEYS: `${'k'.repeat(32)},` });
  assert.match(empty.output, /IDP_COOKIE_KEYS=\(hidden\) is invalid: item 2 is empty/);
  assert.doesNotMatch(short.output + empty.output, /kkkk|short-cookie-key/);
});

test('a clients or users file that is not valid JSON is reported by where it breaks, never quoted (it holds secrets and hashes)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'idp-json-files-'));
  try {
    // V8 quotes the text around an unexpected token: a secret written without its quotes, a hash before a missing comma.
    const cases: Array<[string, string, (file: string) => unknown]> = [
      ['clients.json', '{"resources": [], "clients": [{"client_id": "partner", "client_secret": canary-secret-1}]}', (f) => loadClients(f, {}, false)],
      ['clients-2.json', '{"resources": [], "clients": [{"client_id": "partner", "client_secret": "canary-secret-2" "x": 1}]}', (f) => loadClients(f, {}, false)],
      ['users.json', '{"users": [{"username": "carol", "passwordHash": $argon2id$canary-hash-3}]}', loadUsers],
    ];
    for (const [name, text, load] of cases) {
      const file = join(dir, name);
      writeFileSync(file, text);
      assert.throws(() => load(file), (err: Error) => {
        assert.match(err.message, new RegExp(`cannot read (clients|users) file ${file.replace(/[/.]/g, '\\$&')}: not valid JSON`), err.message);
        assert.doesNotMatch(err.message, /canary/, err.message);
        return true;
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
