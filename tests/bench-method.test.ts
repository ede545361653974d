// How the bench judges its own samples and the login round trip: host CPU steal parsed from
// /proc/stat, the decision to measure a sample again (same retry budget as in-machine
// disturbance), the login round trip as a ratio to the same run's faster peer, and ours beside the
// Angular bound.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseProcStat, stealShare } from '../bench/lib/host-cpu.ts';
import { disturbanceText, markdown } from '../bench/lib/report.ts';
import type { BenchResults } from '../bench/lib/results.ts';
import { disturbance, retryWhileDisturbed, type RoundSample } from '../bench/lib/rows.ts';
import { TARGETS } from '../bench/lib/summarize.ts';
import { fasterPeerRatio, loginRoundTripVerdict, overAngularBound } from '../bench/suites/spa-results.ts';
import { SPA_ROWS } from '../bench/suites/spa.ts';

const LIMITS = { maxForeignCpuShare: 0.1, maxStealShare: 0.05 };

test('/proc/stat: busy, steal and total from the aggregate cpu line, guest time not counted twice', () => {
  const text = [
    //   user nice system idle iowait irq softirq steal guest guest_nice
    'cpu  1000 100 300 5000 200 10 40 350 400 50',
    'cpu0 500 50 150 2500 100 5 20 175 200 25',
    'intr 12345',
  ].join('\n');
  assert.deepEqual(parseProcStat(text), { busySeconds: 14.5, stealSeconds: 3.5, totalSeconds: 70 });
});

test('/proc/stat: a kernel without the steal column reads as no steal; no cpu line is unknown', () => {
  assert.deepEqual(parseProcStat('cpu  100 0 100 800 0 0 0\n'), { busySeconds: 2, stealSeconds: 0, totalSeconds: 10 });
  assert.equal(parseProcStat('cpu0 100 0 100 800\nintr 1\n'), undefined);
  assert.equal(parseProcStat('cpu  a b c d\n'), undefined);
  assert.equal(parseProcStat(''), undefined);
});

test('the steal share is the stolen part of the CPU time that passed between two readings', () => {
  const before = parseProcStat('cpu  1000 0 0 1000 0 0 0 100 0 0')!;
  const after = parseProcStat('cpu  1150 0 0 1030 0 0 0 120 0 0')!;
  assert.equal(stealShare(before, after)!.toFixed(3), '0.100');
  assert.equal(stealShare(after, after), undefined, 'no time passed: unknown, not zero');
});

test('a sample is disturbed by other processes or by steal above its limit, never by an unknown figure', () => {
  assert.equal(disturbance({ foreignCpuShare: 0.02, stealShare: 0.01 }, LIMITS), undefined);
  assert.equal(disturbance({ foreignCpuShare: 0.02, stealShare: 0.05 }, LIMITS), undefined, 'at the limit stands');
  assert.equal(disturbance({ foreignCpuShare: 0.02, stealShare: 0.06 }, LIMITS), 'host steal');
  assert.equal(disturbance({ foreignCpuShare: 0.2, stealShare: 0.3 }, LIMITS), 'other processes');
  assert.equal(disturbance({}, LIMITS), undefined);
});

function samples(...shares: [foreign: number, steal: number][]): () => Promise<RoundSample> {
  let i = 0;
  return async () => {
    const [foreignCpuShare, steal] = shares[i++]!;
    return { round: 0, rate: i, p50Ms: 1, p99Ms: 1, ok: i, failures: 0, seconds: 1, foreignCpuShare, stealShare: steal };
  };
}

test('a sample with steal above the limit is measured again, and the first undisturbed one stands', async () => {
  const sample = await retryWhileDisturbed(samples([0, 0.2], [0.3, 0], [0, 0.01], [0, 0.5]), LIMITS, 3);
  assert.equal(sample.rate, 3, 'the third attempt, the first undisturbed one');
  assert.equal(sample.discarded, 2);
  assert.equal(sample.discardedForSteal, 1);
});

test('steal shares the retry budget with in-machine disturbance; the last attempt stands when it runs out', async () => {
  const sample = await retryWhileDisturbed(samples([0.3, 0], [0, 0.2], [0, 0.2], [0, 0]), LIMITS, 2);
  assert.equal(sample.rate, 3);
  assert.equal(sample.stealShare, 0.2, 'still stolen, and reported as such');
  assert.equal(sample.discarded, 2);
  assert.equal(sample.discardedForSteal, 1);
  const quick = await retryWhileDisturbed(samples([0, 0.9]), LIMITS, 0);
  assert.equal(quick.discarded, undefined, 'no budget (--quick): measured once');
});

test('the login round trip is judged against the faster peer of the same run, run by run, not in milliseconds', () => {
  const k = TARGETS.loginRoundTripOverFasterPeer;
  // The peers take turns with ours: run 2 was slow for everyone (another process), and the per-run
  // ratio cancels it. oidc-client-ts has the lower median, so it is the one compared with.
  const auth0 = { id: 'auth0-spa-js', samplesMs: [300, 900, 310] };
  const oidc = { id: 'oidc-client-ts', samplesMs: [200, 600, 210] };
  const ratio = fasterPeerRatio([220, 660, 231], [auth0, oidc]);
  assert.equal(ratio?.peer, 'oidc-client-ts');
  assert.equal(ratio?.peerMedianMs, 210);
  assert.equal(ratio?.ratio.toFixed(2), '1.10');
  assert.equal(loginRoundTripVerdict(ratio?.ratio).met, false);
  assert.equal(loginRoundTripVerdict(k).met, true, 'at the limit meets it');
  assert.equal(loginRoundTripVerdict(k + 0.01).met, false);
  assert.match(loginRoundTripVerdict(1).target, /× the faster peer, same run/);
  assert.equal(fasterPeerRatio([100, 100], [{ id: 'x', samplesMs: [100] }]), undefined, 'a peer that missed runs is not compared with');
  assert.equal(loginRoundTripVerdict(undefined).met, undefined, 'no peer: not judged');
});

test('our round trips are set beside the Angular bound run by run', () => {
  // Run 2 slow for everyone: the per-run ratio cancels it, as for the peers.
  const bound = [250, 750, 260];
  const over = overAngularBound([400, 1200, 390], bound);
  assert.equal(over?.ratio.toFixed(2), '1.60');
  assert.match(over!.note, /÷ the Angular bound = 1\.60 \(260 ms; a minimal Angular app \+ oidc-client-ts/);
  assert.equal(overAngularBound([400, 1200], bound), undefined, 'runs missing: not compared');
  assert.match(SPA_ROWS.oidcClientTsAngular, /^bound: a minimal Angular 22 app \+ oidc-client-ts/);
});

test('the method line reports the steal of the samples that stand and how many samples were measured again for it', () => {
  const sample = (discarded?: number, discardedForSteal?: number): RoundSample => ({
    round: 0, rate: 1, p50Ms: 1, p99Ms: 1, ok: 1, failures: 0, seconds: 1, stealShare: 0.02,
    ...(discarded ? { discarded } : {}), ...(discardedForSteal ? { discardedForSteal } : {}),
  });
  const row = (id: string, rounds: RoundSample[]) => ({ id, group: 'api' as const, label: id, status: 'ok' as const, rounds, failures: 0, verdicts: [], notes: [] });
  const results: BenchResults = {
    meta: {
      date: '2026-12-01 17:00 UTC', mode: 'full', wallSeconds: 1,
      machine: { cpu: 'cpu', cores: 2, memoryGiB: 1, os: 'Linux', node: '24' },
      settings: { rounds: 1, secondsPerRound: 1, warmupSeconds: 1, connections: 1, refreshClients: 1, loginClients: 1, distinctTokens: 1, browserRuns: 1, retriesWhenDisturbed: 2, ...LIMITS },
      foreignCpuShare: 0.01,
      steal: { meanShare: 0.021, maxShare: 0.08 },
    },
    api: [row('a', [sample(2, 1)]), row('b', [sample(1, 1)])],
    idp: [], spa: [], memory: [], primitives: [],
  };
  const text = disturbanceText(results);
  assert.match(text, /or the host stole more than 5\.0% of its CPU time, was measured again, up to 2 times: 3 sample\(s\) were, 2 of them for steal\./);
  assert.match(text, /The host stole 2\.1% of the CPU time during the samples that stand \(worst sample 8\.0%\): a noisy host/);
  assert.ok(markdown(results).includes(text), 'on the method line');
  const calm = disturbanceText({ ...results, meta: { ...results.meta, steal: { meanShare: 0, maxShare: 0.01 } } });
  assert.doesNotMatch(calm, /noisy host/);
});
