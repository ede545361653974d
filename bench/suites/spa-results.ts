// The SPA rows as they appear in the results: the initial JavaScript of the build, and the login
// round trips of our SPA (token mode and BFF mode), of two peers, and of the bound (a minimal
// Angular app doing what the oidc-client-ts page does), measured in turns against the same system
// (login-system.ts); ours judged against the faster peer of the same run and set beside the bound;
// "n/a (reason)" when a part of the system is missing.
//
// The bound answers for the login round trip what (a′) and (h′) answer for the API rows: what
// anything of that kind reaches on this machine in the same run. A vanilla page has no framework
// to compile, bootstrap and render on the return page; any Angular app has, and this one has
// nothing else.
import { ANGULAR_PEER, type PeerPages } from '../../tests/support/peers/server.ts';
import type { ServerProcess } from '../lib/children.ts';
import type { SpaResult, Verdict } from '../lib/results.ts';
import { firstLine } from '../lib/rows.ts';
import { median } from '../lib/stats.ts';
import { TARGETS } from '../lib/summarize.ts';
import { breakdownText, browserLogin, launchBenchBrowser, measureInTurns, type BrowserApp, type Contender, type ContenderResult } from './browser-login.ts';
import { BROWSERLESS_ID, browserlessLogin } from './login-baseline.ts';
import { startLoginSystem } from './login-system.ts';
import { initialJsOf, measureInitialJs, servedInitialJs, SPA_ROWS, type ServedJs } from './spa.ts';

export interface SpaRowsOptions {
  browserRuns: number;
  allowBuild: boolean;
  log: (line: string) => void;
}

type RoundTripId = 'loginRoundTrip' | 'bffLoginRoundTrip' | 'auth0SpaJs' | 'oidcClientTs' | 'oidcClientTsAngular';
const PEERS = ['auth0SpaJs', 'oidcClientTs'] as const;
const PEER_NAMES: Record<(typeof PEERS)[number], string> = { auth0SpaJs: '@auth0/auth0-spa-js', oidcClientTs: 'oidc-client-ts' };
const BOUND = 'oidcClientTsAngular';
const BOUND_NAME = 'the Angular bound';

const LOGIN_ROUND_TRIP_TARGET = `median ≤ ${TARGETS.loginRoundTripOverFasterPeer.toFixed(1)} × the faster peer, same run`;

/** Our round trip over the faster peer's (the lower median), as the median of per-run ratios. */
export function fasterPeerRatio(ours: readonly number[], peers: readonly { id: string; samplesMs: readonly number[] }[]):
  { peer: string; peerMedianMs: number; ratio: number } | undefined {
  const usable = peers.filter((p) => p.samplesMs.length === ours.length && ours.length > 0);
  if (usable.length === 0) return undefined;
  const faster = usable.reduce((best, p) => (median(p.samplesMs) < median(best.samplesMs) ? p : best));
  const ratio = median(ours.map((v, run) => v / faster.samplesMs[run]!));
  return { peer: faster.id, peerMedianMs: median(faster.samplesMs), ratio };
}

/**
 * Ours over the Angular bound of the same run, as the median of per-run ratios (runs in turns):
 * information beside the target, which stays the faster peer's.
 */
export function overAngularBound(ours: readonly number[], bound: readonly number[]): { ratio: number; note: string } | undefined {
  const r = fasterPeerRatio(ours, [{ id: BOUND_NAME, samplesMs: bound }]);
  if (!r) return undefined;
  return { ratio: r.ratio, note: `÷ ${BOUND_NAME} = ${r.ratio.toFixed(2)} (${r.peerMedianMs.toFixed(0)} ms; a minimal Angular app + oidc-client-ts, median of per-run ratios)` };
}

/** The login round trip judged against the faster peer of the same run; not judged without one. */
export function loginRoundTripVerdict(ratioToFasterPeer: number | undefined): Verdict {
  if (ratioToFasterPeer === undefined || !Number.isFinite(ratioToFasterPeer)) return { target: LOGIN_ROUND_TRIP_TARGET };
  return { target: LOGIN_ROUND_TRIP_TARGET, met: ratioToFasterPeer <= TARGETS.loginRoundTripOverFasterPeer };
}

export interface SpaRows {
  rows: SpaResult[];
  /** The SPA server of the browser rows (to weigh), if it ran. */
  spaServer?: ServerProcess;
  stop(): Promise<void>;
}

export async function spaResults(opts: SpaRowsOptions): Promise<SpaRows> {
  const system = await startLoginSystem({ allowBuild: opts.allowBuild, log: opts.log });
  const stop = async () => { if (typeof system !== 'string') await system.stop(); };
  const measured = new Map<string, ContenderResult | string>();
  let served: ServedJs | undefined;
  if (typeof system === 'string') {
    for (const id of [...Object.keys(PEER_NAMES), BOUND, 'loginRoundTrip', 'bffLoginRoundTrip', BROWSERLESS_ID]) measured.set(id, system);
  } else {
    if (typeof system.spa !== 'string') served = await servedInitialJs(system.spa.server.url).catch(() => undefined);
    const browser = await launchBenchBrowser();
    try {
      const tokenEndpoint = system.idp.tokenEndpoint;
      const apps: (BrowserApp | [string, string])[] = [
        typeof system.spa === 'string' ? ['loginRoundTrip', system.spa] : { id: 'loginRoundTrip', url: system.spa.url, tokenEndpoint },
        typeof system.bff === 'string' ? ['bffLoginRoundTrip', system.bff] : { id: 'bffLoginRoundTrip', url: system.bff.url, tokenEndpoint },
        ...PEERS.map((id): BrowserApp | [string, string] => (typeof system.peers === 'string' ? [id, system.peers]
          : { id, url: id === 'auth0SpaJs' ? system.peers.auth0SpaJs : system.peers.oidcClientTs, readySelector: 'body[data-ready="true"]', tokenEndpoint })),
        boundApp(system.peers, tokenEndpoint),
      ];
      const contenders: Contender[] = [browserlessLogin(system.idp, `http://localhost:${system.api.port}`)];
      for (const app of apps) {
        if (Array.isArray(app)) measured.set(app[0], app[1]);
        else if (typeof browser === 'string') measured.set(app.id, browser);
        else contenders.push(browserLogin(browser, app, system.servers));
      }
      opts.log(`login round trips: ${contenders.map((c) => c.id).join(', ')}, ${opts.browserRuns} runs each, in turns`);
      for (const [id, result] of await measureInTurns(contenders, opts.browserRuns)) measured.set(id, result);
    } catch (err) {
      for (const id of ['loginRoundTrip', 'bffLoginRoundTrip', ...PEERS, BOUND]) if (!measured.has(id)) measured.set(id, `browser rows failed: ${firstLine(err)}`);
    } finally {
      if (typeof browser !== 'string') await browser.close().catch(() => {});
    }
  }

  const peerResults = PEERS.flatMap((id) => {
    const r = measured.get(id);
    return r && typeof r !== 'string' ? [{ ...r, id: PEER_NAMES[id] }] : [];
  });
  const baseline = measured.get(BROWSERLESS_ID);
  const rows = [
    await initialJsRow(served),
    roundTripRow('loginRoundTrip', measured.get('loginRoundTrip')!, peerResults, baseline),
    roundTripRow('bffLoginRoundTrip', measured.get('bffLoginRoundTrip')!, peerResults, baseline),
    ...PEERS.map((id) => roundTripRow(id, measured.get(id)!, [], baseline)),
    boundRow(measured.get(BOUND)!, peerResults, baseline),
  ];
  const ours = rows[1]!;
  if (ours.status === 'ok' && rows[2]!.status === 'ok') rows[2]!.notes.push(`token mode in the same run: ${ours.value!.toFixed(0)} ms`);
  const bound = measured.get(BOUND);
  for (const row of [rows[1]!, rows[2]!]) {
    const trip = measured.get(row.id);
    const over = typeof trip === 'object' && typeof bound === 'object' ? overAngularBound(trip.samplesMs, bound.samplesMs) : undefined;
    if (over) {
      row.notes.push(over.note);
      row.details = { ...(row.details as object), overAngularBound: over.ratio };
    }
  }
  return { rows, ...(typeof system !== 'string' && typeof system.spa !== 'string' ? { spaServer: system.spa.server } : {}), stop };
}

function boundApp(peers: PeerPages | string, tokenEndpoint: string): BrowserApp | [string, string] {
  if (typeof peers === 'string') return [BOUND, peers];
  if (typeof peers.oidcClientTsAngular !== 'string') return [BOUND, peers.oidcClientTsAngular.unavailable];
  return { id: BOUND, url: peers.oidcClientTsAngular, readySelector: 'body[data-ready="true"]', tokenEndpoint };
}

/** The bound's row: a peer row (not judged) with its ratio to the faster peer and its bundle's size. */
function boundRow(trip: ContenderResult | string, peers: { id: string; samplesMs: number[] }[], baseline: ContenderResult | string | undefined): SpaResult {
  const row = roundTripRow(BOUND, trip, peers, baseline);
  if (row.status !== 'ok') return row;
  const size = initialJsOf(ANGULAR_PEER.distDir);
  row.notes.push(`its production build (AOT, zoneless, no router, no HttpClient, no source maps): ${(size.gzipBytes / 1000).toFixed(1)} kB gzip (${(size.bytes / 1000).toFixed(1)} kB raw, ${size.files.length} file${size.files.length === 1 ? '' : 's'}) of initial JavaScript, oidc-client-ts included`);
  row.details = { ...(row.details as object), initialJs: size };
  return row;
}

async function initialJsRow(served: ServedJs | undefined): Promise<SpaResult> {
  const sizeTarget = `≤ ${TARGETS.initialJsGzipBytes / 1000} kB gzip`;
  const size = await measureInitialJs().catch((err: unknown) => `could not read the build: ${firstLine(err)}`);
  if (typeof size === 'string') {
    return { id: 'initialJs', label: SPA_ROWS.initialJs, status: 'n/a', reason: size, unit: 'bytes', verdicts: [{ target: sizeTarget }], notes: [] };
  }
  const notes = size.stale ? ['measured on a build older than the SPA sources'] : [];
  if (served) notes.push(`the SPA server sends it as ${(served.bytes / 1000).toFixed(1)} kB (${served.encodings.join(', ')}) to a browser that accepts br and gzip`);
  return {
    id: 'initialJs', label: SPA_ROWS.initialJs, status: 'ok', value: size.gzipBytes, unit: 'bytes',
    display: `${(size.gzipBytes / 1000).toFixed(1)} kB gzip (${(size.bytes / 1000).toFixed(1)} kB raw, ${size.files.length} file${size.files.length === 1 ? '' : 's'})`,
    details: { ...size, ...(served ? { served } : {}) },
    verdicts: [{ target: sizeTarget, met: size.gzipBytes <= TARGETS.initialJsGzipBytes }],
    notes,
  };
}

/**
 * A login-round-trip row: the median and the steps; ours judged against the faster peer (`peers`
 * empty: a peer row, not judged), the browserless figure beside it; or n/a (reason).
 */
function roundTripRow(id: RoundTripId, trip: ContenderResult | string, peers: { id: string; samplesMs: number[] }[], baseline: ContenderResult | string | undefined): SpaResult {
  const label = SPA_ROWS[id];
  const judged = id === 'loginRoundTrip' || id === 'bffLoginRoundTrip';
  const verdicts = judged ? [loginRoundTripVerdict(undefined)] : [];
  if (typeof trip === 'string') return { id, label, status: 'n/a', reason: trip, unit: 'ms', verdicts, notes: [] };
  const sorted = [...trip.samplesMs].sort((a, b) => a - b);
  const base = typeof baseline === 'object' ? baseline : undefined;
  const overBaseline = base && base.medianMs > 0 ? trip.medianMs / base.medianMs : undefined;
  const vsPeer = fasterPeerRatio(trip.samplesMs, peers);
  return {
    id, label, status: 'ok', value: trip.medianMs, unit: 'ms',
    display: `${trip.medianMs.toFixed(0)} ms median of ${sorted.length} (${sorted[0]!.toFixed(0)}–${sorted.at(-1)!.toFixed(0)})` +
      (vsPeer ? `; ${vsPeer.ratio.toFixed(2)} × ${vsPeer.peer} (${vsPeer.peerMedianMs.toFixed(0)} ms)` : '') +
      (base ? `; ${overBaseline?.toFixed(1) ?? '?'} × browserless (${base.medianMs.toFixed(0)} ms)` : ''),
    details: {
      samplesMs: trip.samplesMs, breakdownMs: trip.breakdown, typicalTimeline: trip.typicalTimeline, failedRuns: trip.failedRuns,
      ...(vsPeer ? { fasterPeer: vsPeer } : {}),
      ...(base ? { browserless: { samplesMs: base.samplesMs, medianMs: base.medianMs }, overBrowserless: overBaseline } : {}),
    },
    verdicts: judged ? [loginRoundTripVerdict(vsPeer?.ratio)] : [],
    notes: [
      ...(trip.failedRuns.length ? [`${trip.failedRuns.length} run(s) failed and were repeated: ${trip.failedRuns[0]}`] : []),
      ...(judged && typeof baseline === 'string' ? [`browserless figure: ${baseline}`] : []),
      ...(vsPeer ? [`÷ ${vsPeer.peer} = ${vsPeer.ratio.toFixed(2)} (median of per-run ratios; runs in turns)`] : []),
      breakdownText(trip.breakdown),
    ],
  };
}
