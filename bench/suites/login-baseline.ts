// The baseline the browser login round trip is judged against, measured in the same run against
// the same IdP and API: the same protocol without a browser (authorize → login page → form post →
// code → token request, PKCE, then GET /api/UserOne with the access token), one login at a time.
// It moves with the machine as the browser row does, so their ratio says what the SPA and the
// browser add, not how fast the machine is.
import type { Idp } from '../lib/idp.ts';
import { loginDemoUser } from '../lib/idp.ts';
import { median } from '../lib/stats.ts';

export interface LoginBaseline {
  samplesMs: number[];
  medianMs: number;
}

export async function measureLoginBaseline(idp: Idp, apiUrl: string, runs: number): Promise<LoginBaseline> {
  const once = async () => {
    const started = performance.now();
    const { accessToken } = await loginDemoUser(idp);
    const res = await fetch(`${apiUrl}/api/UserOne`, { headers: { authorization: `Bearer ${accessToken}` } });
    const body = await res.text();
    if (res.status !== 200 || !body.includes('user one data')) throw new Error(`the API answered ${res.status} to a fresh token`);
    return performance.now() - started;
  };
  // The first login warms the connections and the IdP's caches, as the browser row's first run does: discarded.
  await once();
  const samplesMs: number[] = [];
  for (let i = 0; i < runs; i++) samplesMs.push(await once());
  return { samplesMs, medianMs: median(samplesMs) };
}
