// The browserless figure printed beside the login round trips, measured in the same turns against
// the same IdP and API: the same protocol without a browser (authorize → login page → form post →
// code → token request, PKCE, then GET /api/UserOne with the access token), one login at a time.
// It moves with the machine as the browser rows do, so the ratio says what the browser and the
// app add on top of the protocol (information: the target compares with the peers).
import type { Idp } from '../lib/idp.ts';
import { loginDemoUser } from '../lib/idp.ts';
import type { Contender } from './browser-login.ts';

export const BROWSERLESS_ID = 'browserless';

export function browserlessLogin(idp: Idp, apiUrl: string): Contender {
  return {
    id: BROWSERLESS_ID,
    async once() {
      const started = performance.now();
      const { accessToken } = await loginDemoUser(idp);
      const res = await fetch(`${apiUrl}/api/UserOne`, { headers: { authorization: `Bearer ${accessToken}` } });
      const body = await res.text();
      if (res.status !== 200 || !body.includes('user one data')) throw new Error(`the API answered ${res.status} to a fresh token`);
      return { totalMs: performance.now() - started };
    },
  };
}
