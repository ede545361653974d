import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, bool, int, list, loadConfig, oneOf, origin, port, str, url } from '../src/index.ts';

const schema = {
  PORT: port({ doc: 'port', default: '4400' }),
  ISSUER: url({ doc: 'issuer' }),
  MODE: oneOf(['dev', 'prod'] as const, { doc: 'profile', default: 'dev' }),
  FLAG: bool({ doc: 'flag', default: 'false' }),
  TTL: int({ doc: 'ttl', default: '300', min: 1, max: 3600 }),
  ORIGINS: list(origin, { doc: 'origins', what: 'origins', default: 'http://localhost:4200' }),
  SECRET: str({ doc: 'secret', minLength: 8, secret: true, default: 'dev-secret-value' }),
};

test('defaults fill what the environment leaves out, with types', () => {
  const cfg = loadConfig(schema, { ISSUER: 'http://localhost:4400' });
  assert.deepEqual(cfg, {
    PORT: 4400, ISSUER: 'http://localhost:4400', MODE: 'dev', FLAG: false, TTL: 300,
    ORIGINS: ['http://localhost:4200'], SECRET: 'dev-secret-value',
  });
});

test('every bad value is reported at once, naming the variable and what was expected', () => {
  let err: unknown;
  try {
    loadConfig(schema, { PORT: '70000', MODE: 'staging', FLAG: 'yes', TTL: '1.5', ORIGINS: 'http://a.test/path', SECRET: 'short' });
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof ConfigError);
  const text = err.problems.join('\n');
  assert.match(text, /PORT="70000" is invalid.*integer from 0 to 65535/);
  assert.match(text, /ISSUER is required/);
  assert.match(text, /MODE="staging" is invalid.*one of dev, prod/);
  assert.match(text, /FLAG="yes" is invalid.*true or false/);
  assert.match(text, /TTL="1.5" is invalid/);
  assert.match(text, /ORIGINS=.*is invalid.*origin/);
  assert.match(text, /SECRET=\(hidden\) is invalid/);
  assert.doesNotMatch(text, /short/);
  assert.equal(err.problems.length, 7);
});
