// The set-up most IdP test files share: one IdP in process for the whole file (SQLite in a data
// directory of its own, the demo users) and the `spa` client configured against it by
// openid-client. `idp` and `spa` are live bindings: set once the file's `before` hook has run.
//
//   import { idp, inProcessIdpWithSpa, spa } from '../../../tests/support/idp-with-spa.ts';
//   inProcessIdpWithSpa();
import { after, before } from 'node:test';
import type * as oidc from 'openid-client';
import { startIdpInProcess, type IdpEnv, type InProcessIdp } from './idp-in-process.ts';
import { rpConfig } from './oidc-rp.ts';

export let idp: InProcessIdp;
export let spa: oidc.Configuration;

/** Registers the file's hooks: the IdP started (with `env`) and `spa` configured before its tests, the IdP closed after them. */
export function inProcessIdpWithSpa(env: IdpEnv = {}): void {
  before(async () => {
    idp = await startIdpInProcess(env);
    spa = await rpConfig(idp.issuer, 'spa');
  });
  after(async () => idp?.close());
}
