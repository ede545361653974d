// Which clients' tokens the reference policy accepts: development trusts the SPA, the BFF and
// Swagger UI's client unless told otherwise; production trusts only the clients it is given, and says so.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '@suite/config';
import { readApiConfig } from '../src/config.ts';

test('development default: the SPA, the BFF and the Swagger UI client (whatever its id)', () => {
  assert.deepEqual(readApiConfig({}).AUTH_ALLOWED_CLIENTS, ['spa', 'bff', 'swagger']);
  assert.deepEqual(readApiConfig({ API_SWAGGER_CLIENT_ID: 'explorer' }).AUTH_ALLOWED_CLIENTS, ['spa', 'bff', 'explorer']);
});

test('an explicit list replaces the default entirely, in either profile', () => {
  assert.deepEqual(readApiConfig({ AUTH_ALLOWED_CLIENTS: 'spa' }).AUTH_ALLOWED_CLIENTS, ['spa']);
  assert.deepEqual(readApiConfig({ API_PROFILE: 'production', AUTH_ALLOWED_CLIENTS: 'Xk3aSpa, bff' }).AUTH_ALLOWED_CLIENTS, ['Xk3aSpa', 'bff']);
});

test('production without AUTH_ALLOWED_CLIENTS refuses to start, naming the variable', () => {
  assert.throws(() => readApiConfig({ API_PROFILE: 'production' }), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /AUTH_ALLOWED_CLIENTS is required in the production profile/);
    return true;
  });
});

test('an unknown profile is refused', () => {
  assert.throws(() => readApiConfig({ API_PROFILE: 'staging' }), /API_PROFILE="staging" is invalid/);
});
