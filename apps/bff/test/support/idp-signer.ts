// Signs tokens with the test IdP's own signing key, read from its data directory, so that a
// hostile test can forge a logout token that differs from a real one in exactly one claim.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importJWK, SignJWT, type JWTPayload } from 'jose';
import { openSqliteStore } from '../../../idp/src/storage/sqlite-store.ts';
import type { IdpProcess } from '../../../../tests/support/idp-process.ts';

export const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** The registered clients with the bff client's back-channel logout URI moved to `origin`. */
export function clientsWithBackchannelAt(origin: string): string {
  const doc = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', '..', 'idp', 'config', 'clients.json'), 'utf8'));
  const bff = doc.clients.find((c: { client_id: string }) => c.client_id === 'bff');
  bff.backchannel_logout_uri = `${origin}/bff/backchannel`;
  const file = join(mkdtempSync(join(tmpdir(), 'bff-test-clients-')), 'clients.json');
  writeFileSync(file, JSON.stringify(doc));
  return file;
}

export interface IdpSigner {
  /** A logout token as the IdP makes one for the bff client, with `claims` merged and `drop` removed. */
  logoutToken(o?: { claims?: JWTPayload; drop?: string[]; typ?: string }): Promise<string>;
}

/** `now`: the clock of the BFF under test (milliseconds), so that the tokens are fresh to it. */
export async function idpSigner(idp: IdpProcess, now: () => number = Date.now): Promise<IdpSigner> {
  const store = openSqliteStore({ dataDir: idp.dataDir, synchronous: 'NORMAL', sweepIntervalSeconds: 0 });
  const [active] = (await store.listSigningKeys()).filter((k) => k.retiredAt === null);
  await store.close();
  if (!active) throw new Error('the IdP has no active signing key');
  const key = await importJWK(active.jwk, active.alg);
  let n = 0;
  return {
    async logoutToken(o = {}) {
      const iat = Math.floor(now() / 1000);
      const claims: JWTPayload = {
        iss: idp.issuer, aud: 'bff', iat, exp: iat + 120, jti: `forged-${process.pid}-${++n}-${iat}`,
        sub: 'auth0|alice', events: { [BACKCHANNEL_EVENT]: {} }, ...o.claims,
      };
      for (const name of o.drop ?? []) delete claims[name];
      return new SignJWT(claims).setProtectedHeader({ alg: active.alg, kid: active.kid, typ: o.typ ?? 'logout+jwt' }).sign(key);
    },
  };
}
