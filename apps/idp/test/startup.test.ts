// Bad configuration stops the IdP with a message naming the variable; production refuses
// development conveniences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@suite/config';
import { loadClients } from '../src/clients.ts';
import { readIdpConfig } from '../src/config.ts';
import { loadUsers } from '../src/users.ts';
import { PRODUCTION_SECRETS, runIdpExpectingFailure } from '../../../tests/support/idp-process.ts';

test('a bad value names the variable and what was expected', async () => {
  const { code, output } = await runIdpExpectingFailure({ IDP_ACCESS_TOKEN_TTL: 'five minutes', IDP_SIGNING_ALG: 'HS256' });
  assert.equal(code, 2);
  assert.match(output, /IDP_ACCESS_TOKEN_TTL="five minutes" is invalid.*integer/);
  assert.match(output, /IDP_SIGNING_ALG="HS256" is invalid.*one of RS256, ES256/);
});

test('the production profile refuses demo users', async () => {
  const { code, output } = await runIdpExpectingFailure({ IDP_PROFILE: 'production', IDP_ISSUER: 'https://id.example.com', ...PRODUCTION_SECRETS });
  assert.equal(code, 2);
  assert.match(output, /refuses demo users/);
});

test('the production profile refuses the development client secret', async () => {
  const { code, output } = await runIdpExpectingFailure({ IDP_PROFILE: 'production', IDP_ISSUER: 'https://id.example.com', IDP_COOKIE_KEYS: PRODUCTION_SECRETS.IDP_COOKIE_KEYS });
  assert.equal(code, 2);
  assert.match(output, /client api: set API_CLIENT_SECRET/);
  const bff = await runIdpExpectingFailure({ IDP_PROFILE: 'production', IDP_ISSUER: 'https://id.example.com', IDP_COOKIE_KEYS: PRODUCTION_SECRETS.IDP_COOKIE_KEYS, API_CLIENT_SECRET: PRODUCTION_SECRETS.API_CLIENT_SECRET });
  assert.match(bff.output, /client bff: set BFF_CLIENT_SECRET/);
  const service = await runIdpExpectingFailure({ IDP_PROFILE: 'production', IDP_ISSUER: 'https://id.example.com', IDP_COOKIE_KEYS: PRODUCTION_SECRETS.IDP_COOKIE_KEYS, API_CLIENT_SECRET: PRODUCTION_SECRETS.API_CLIENT_SECRET, BFF_CLIENT_SECRET: PRODUCTION_SECRETS.BFF_CLIENT_SECRET });
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
  const production = { IDP_PROFILE: 'production', IDP_ISSUER: 'https://id.example.com', API_CLIENT_SECRET: PRODUCTION_SECRETS.API_CLIENT_SECRET, BFF_CLIENT_SECRET: PRODUCTION_SECRETS.BFF_CLIENT_SECRET, SERVICE_CLIENT_SECRET: PRODUCTION_SECRETS.SERVICE_CLIENT_SECRET };
  const short = await runIdpExpectingFailure({ ...production, IDP_COOKIE_KEYS: `${PRODUCTION_SECRETS.IDP_COOKIE_KEYS},short-cookie-key` });
  assert.equal(short.code, 2);
  assert.match(short.output, /IDP_COOKIE_KEYS=\(hidden\) is invalid: item 2 is not valid \(shorter than 32 characters\)/);
  const empty = await runIdpExpectingFailure({ ...production, IDP_COOKIE_KEYS: `${PRODUCTION_SECRETS.IDP_COOKIE_KEYS},` });
  assert.match(empty.output, /IDP_COOKIE_KEYS=\(hidden\) is invalid: item 2 is empty/);
  assert.doesNotMatch(short.output + empty.output, new RegExp(`${PRODUCTION_SECRETS.IDP_COOKIE_KEYS}|short-cookie-key`));
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

/** The shipped clients file, changed by `edit`, loaded with `env` in the production profile (or development). */
function loadEdited(env: Record<string, string>, edit: (doc: { clients: Array<Record<string, unknown>> }) => void = () => {}, production = true) {
  const dir = mkdtempSync(join(tmpdir(), 'idp-client-secrets-'));
  try {
    const doc = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'config', 'clients.json'), 'utf8'));
    edit(doc);
    const file = join(dir, 'clients.json');
    writeFileSync(file, JSON.stringify(doc));
    return loadClients(file, env, production);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('production refuses a client secret too weak to withstand online guessing, naming its variable and never its value', () => {
  // The token, revocation and introspection endpoints count no failed attempts: the secret's strength is the defence.
  const strong = { API_CLIENT_SECRET: PRODUCTION_SECRETS.API_CLIENT_SECRET, BFF_CLIENT_SECRET: PRODUCTION_SECRETS.BFF_CLIENT_SECRET, SERVICE_CLIENT_SECRET: PRODUCTION_SECRETS.SERVICE_CLIENT_SECRET };
  assert.equal(loadEdited(strong).clients.find((c) => c.client_id === 'service')?.client_secret, strong.SERVICE_CLIENT_SECRET);
  const weak: Array<[string, RegExp]> = [
    ['canary-31-characters-0123456789', /client service: SERVICE_CLIENT_SECRET is too weak to be a client secret: it has 31 characters, at least 32 are needed/],
    ['canary'.repeat(6), /SERVICE_CLIENT_SECRET is too weak .*: it is made of 5 different characters, at least 8 are needed/],
    ['m'.repeat(64), /SERVICE_CLIENT_SECRET is too weak .*: it is made of 1 different characters/],
  ];
  for (const [secret, message] of weak) {
    assert.throws(() => loadEdited({ ...strong, SERVICE_CLIENT_SECRET: secret }), (err: Error) => {
      assert.match(err.message, message);
      assert.ok(!err.message.includes(secret.slice(0, 12)), err.message);
      return true;
    }, secret);
  }
  // Development keeps the development secrets' floor of 16 characters (they are published anyway).
  assert.throws(() => loadEdited({ SERVICE_CLIENT_SECRET: 'canary-15-chars' }, undefined, false), /SERVICE_CLIENT_SECRET is too weak .*: it has 15 characters, at least 16 are needed/);
  assert.ok(loadEdited({ SERVICE_CLIENT_SECRET: 'canary-16-chars!' }, undefined, false));
});

test('production refuses a development secret of the clients file in any variable, and one secret for two clients', () => {
  const strong = { API_CLIENT_SECRET: PRODUCTION_SECRETS.API_CLIENT_SECRET, BFF_CLIENT_SECRET: PRODUCTION_SECRETS.BFF_CLIENT_SECRET, SERVICE_CLIENT_SECRET: PRODUCTION_SECRETS.SERVICE_CLIENT_SECRET };
  // A development secret as long as a production one, copied into a variable from the file or .env.example.
  const published = `dev-service-secret-${randomBytes(12).toString('hex')}`;
  const withLongDevSecret = (doc: { clients: Array<Record<string, unknown>> }) => {
    doc.clients.find((c) => c['client_id'] === 'service')!['dev_client_secret'] = published;
  };
  assert.throws(() => loadEdited({ ...strong, SERVICE_CLIENT_SECRET: published }, withLongDevSecret), (err: Error) => {
    assert.match(err.message, /client service: SERVICE_CLIENT_SECRET holds a development secret of the clients file/);
    assert.ok(!err.message.includes(published));
    return true;
  });
  assert.throws(() => loadEdited({ ...strong, BFF_CLIENT_SECRET: published }, withLongDevSecret), /client bff: BFF_CLIENT_SECRET holds a development secret/);
  assert.throws(() => loadEdited({ ...strong, BFF_CLIENT_SECRET: strong.API_CLIENT_SECRET }), /client bff: its secret is also client api's/);
  // Development runs on the published secrets, shared or not.
  assert.ok(loadEdited({ BFF_CLIENT_SECRET: 'dev-api-secret-change-me' }, undefined, false));
});

test('production refuses a cookie key of few different characters', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'idp-users-'));
  try {
    const usersFile = join(dir, 'users.json');
    writeFileSync(usersFile, JSON.stringify({ ...JSON.parse(readFileSync(join(import.meta.dirname, '..', 'config', 'demo-users.json'), 'utf8')), demo: false }));
    const { code, output } = await runIdpExpectingFailure({ ...PRODUCTION_SECRETS, IDP_PROFILE: 'production', IDP_ISSUER: 'https://id.example.com', IDP_USERS_FILE: usersFile, IDP_COOKIE_KEYS: `${PRODUCTION_SECRETS.IDP_COOKIE_KEYS},${'k'.repeat(40)}` });
    assert.equal(code, 2);
    assert.match(output, /IDP_COOKIE_KEYS item 2 is too weak to sign cookies: it is made of 1 different characters/);
    assert.doesNotMatch(output, /kkkk/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
