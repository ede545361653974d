// Every variable of every app, through the app's own reader: the value classes that @suite/config
// refuses are refused for each of them, and a mistyped name with the app's prefix stops the app.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, type Schema } from '@suite/config';
import { apiSchema, readApiConfig, API_PREFIXES } from '../apps/api/src/config.ts';
import { bffSchema, readBffConfig, BFF_PREFIXES } from '../apps/bff/src/config.ts';
import { idpSchema, readIdpConfig, IDP_PREFIXES } from '../apps/idp/src/config.ts';
import { readSpaConfig, spaSchema, SPA_PREFIXES } from '../apps/spa/server/config.ts';

type Reader = (env: Record<string, string | undefined>) => unknown;
const apps: Array<{ app: string; schema: Schema; read: Reader; prefixes: readonly string[] }> = [
  { app: 'idp', schema: idpSchema, read: readIdpConfig, prefixes: IDP_PREFIXES },
  { app: 'api', schema: apiSchema, read: readApiConfig, prefixes: API_PREFIXES },
  { app: 'bff', schema: bffSchema, read: readBffConfig, prefixes: BFF_PREFIXES },
  { app: 'spa', schema: spaSchema, read: readSpaConfig, prefixes: SPA_PREFIXES },
];

function problems(read: Reader, env: Record<string, string>): string {
  try {
    read(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.join('\n');
    throw err;
  }
  return '';
}

test('every variable refuses a value with a trailing line break or only white space, and never shows a secret', () => {
  for (const { schema, read } of apps) {
    for (const [name, f] of Object.entries(schema)) {
      const text = `${problems(read, { [name]: 'Value-of-the-variable-1234\n' })}\n${problems(read, { [name]: '  ' })}`;
      assert.match(text, new RegExp(`^${name}=.* is invalid: white space or a line break around it`, 'm'), name);
      assert.match(text, new RegExp(`^${name}=.* is invalid: only white space`, 'm'), name);
      if (f.secret) assert.doesNotMatch(text, /Value-of-the-variable/, name);
    }
  }
});

test('every URL variable refuses credentials, a query and a fragment', () => {
  let urls = 0;
  for (const { schema, read } of apps) {
    for (const [name, f] of Object.entries(schema)) {
      if (!f.expected.includes('http://')) continue;
      urls++;
      for (const [value, why] of [['http://user:pw@localhost:4400', 'has credentials'], ['http://localhost:4400/?tenant=a', 'has a query'], ['http://localhost:4400/#a', 'has a fragment']]) {
        const text = problems(read, { [name]: value! });
        assert.match(text, new RegExp(`^${name}=.* is invalid: ${why}`, 'm'), `${name}=${value}`);
        assert.doesNotMatch(text, /user:pw/);
      }
    }
  }
  assert.equal(urls, 9);
});

test('a mistyped name with the app\'s prefix stops every app, naming the variable it resembles', () => {
  for (const { app, schema, read, prefixes } of apps) {
    const own = Object.keys(schema).filter((name) => prefixes.some((p) => name.startsWith(p)));
    assert.ok(own.length > 5, app);
    for (const name of own) {
      // The last letter but one dropped: IDP_PROFILE -> IDP_PROFIE.
      const typo = name.slice(0, -2) + name.slice(-1);
      assert.match(problems(read, { [typo]: '1' }), new RegExp(`^${typo} is not a setting of this app \\(did you mean ${name}\\?\\)`, 'm'), `${app}: ${typo}`);
    }
    // Another app's variables are not this app's business (npm start gives every app one environment).
    const others = apps.filter((a) => a.app !== app).flatMap((a) => Object.keys(a.schema)).filter((n) => !prefixes.some((p) => n.startsWith(p)));
    assert.equal(problems(read, Object.fromEntries(others.map((n) => [n, 'anything']))), '', app);
  }
});

test('on Kubernetes, the service-link variables of Services named like an app\'s prefix do not stop it; a link that takes the name of a setting does, naming the cure', () => {
  /** What Kubernetes puts into every pod of the namespace for a Service `name` on port 8080. */
  const serviceLinks = (name: string) => {
    const v = name.toUpperCase().replaceAll('-', '_');
    return { [`${v}_SERVICE_HOST`]: '10.96.0.7', [`${v}_SERVICE_PORT`]: '8080', [`${v}_PORT`]: 'tcp://10.96.0.7:8080', [`${v}_PORT_8080_TCP`]: 'tcp://10.96.0.7:8080', [`${v}_PORT_8080_TCP_PROTO`]: 'tcp', [`${v}_PORT_8080_TCP_PORT`]: '8080', [`${v}_PORT_8080_TCP_ADDR`]: '10.96.0.7' };
  };
  for (const { app, schema, read, prefixes } of apps) {
    // Services such as "idp-admin" or "auth": every prefix of the app, none of them a setting's name.
    const env = Object.assign({}, ...prefixes.map((p) => serviceLinks(`${p}admin`)), serviceLinks('auth'));
    assert.equal(problems(read, env), '', app);
    // A Service named after the app itself sets <APP>_PORT, which is a setting.
    const portSetting = Object.keys(schema).find((n) => prefixes.some((p) => n === `${p}PORT`));
    assert.ok(portSetting, app);
    const service = portSetting.slice(0, -'_PORT'.length).toLowerCase();
    assert.match(problems(read, { ...env, ...serviceLinks(service) }), new RegExp(`^${portSetting}=.* is invalid.*a Service named "${service}" \\(a service link\\).*enableServiceLinks: false`, 'm'), app);
  }
});

test('port 0 needs the URL that would otherwise be built from the port', () => {
  assert.match(problems(readIdpConfig, { IDP_PORT: '0' }), /IDP_PORT=0 \(any free port\) needs IDP_ISSUER/);
  assert.match(problems(readBffConfig, { BFF_PORT: '0' }), /BFF_PORT=0 \(any free port\) needs BFF_PUBLIC_URL/);
  assert.match(problems(readSpaConfig, { SPA_PORT: '0' }), /SPA_PORT=0 \(any free port\) needs SPA_PUBLIC_URL/);
  assert.equal(problems(readIdpConfig, { IDP_PORT: '0', IDP_ISSUER: 'http://localhost:4400' }), '');
});

test('a variable of a mode not chosen (a store\'s settings) is refused when set, and accepted with its mode', () => {
  let rules = 0;
  for (const { schema, read } of apps) {
    for (const [name, f] of Object.entries(schema)) {
      if (!f.appliesWhen) continue;
      rules++;
      const [variable, value] = f.appliesWhen;
      const other = (schema[variable]!.expected.match(/^one of (.*)$/)![1]!.split(', ')).find((v) => v !== value)!;
      // A value it takes: its default, or (unset by default: chosen by profile) its first allowed one.
      const given = f.default || f.expected.match(/^one of ([^,;]+)/)![1]!;
      assert.match(problems(read, { [variable]: other, [name]: given }), new RegExp(`^${name} is set, but applies only with ${variable}=${value} \\(${variable} is ${other}\\)`, 'm'), name);
      assert.doesNotMatch(problems(read, { [variable]: value, [name]: given }), new RegExp(name), name);
      assert.doesNotMatch(problems(read, { [variable]: other }), new RegExp(name), `${name} left unset`);
    }
  }
  // IDP_REDIS_URL, IDP_REDIS_DURABILITY_CHECK, IDP_DATA_DIR_MIN_FREE_MB, IDP_SQLITE_SYNCHRONOUS, BFF_SQLITE_SYNCHRONOUS,
  // BFF_REDIS_URL, BFF_REDIS_DURABILITY_CHECK.
  assert.equal(rules, 7);
});

test('every origin variable refuses a path and takes a trailing slash; the IdP\'s issuer is one (it serves at its root)', () => {
  let origins = 0;
  for (const { schema, read } of apps) {
    for (const [name, f] of Object.entries(schema)) {
      if (!f.expected.includes('origin (')) continue;
      origins++;
      assert.match(problems(read, { [name]: 'https://example.com/tenant' }), new RegExp(`^${name}=.* is invalid: has a path`, 'm'), name);
      assert.equal(problems(read, { [name]: 'https://example.com/' }), '', name);
    }
  }
  assert.equal(origins, 4);
});

test('a signing-key activation delay shorter than the key reload interval stops the IdP', () => {
  assert.match(problems(readIdpConfig, { IDP_KEY_RELOAD_INTERVAL: '60' }), /IDP_KEY_ACTIVATION_DELAY=45 is shorter than IDP_KEY_RELOAD_INTERVAL=60/);
  assert.match(problems(readIdpConfig, { IDP_KEY_RELOAD_INTERVAL: '10', IDP_KEY_ACTIVATION_DELAY: '9' }), /IDP_KEY_ACTIVATION_DELAY=9 is shorter/);
  assert.equal(problems(readIdpConfig, { IDP_KEY_RELOAD_INTERVAL: '10', IDP_KEY_ACTIVATION_DELAY: '10' }), '');
});

test('an empty value is refused where the variable has a default or is required, and means unset where it is optional', () => {
  for (const { schema, read } of apps) {
    for (const [name, f] of Object.entries(schema)) {
      const text = problems(read, { [name]: '' });
      if (f.default === '') assert.doesNotMatch(text, new RegExp(name), `${name} is optional`);
      else assert.match(text, new RegExp(`^${name} is empty: give ${f.expected.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}, or unset it`, 'm'), name);
    }
  }
  // IDP_PROFILE=${PROFILE} with PROFILE unset must not mean development.
  assert.match(problems(readIdpConfig, { IDP_PROFILE: '' }), /IDP_PROFILE is empty: give one of development, production, or unset it for the default/);
});
