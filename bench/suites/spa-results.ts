// The SPA rows as they appear in the results: the measurements of spa.ts checked against the
// issue's targets, or "n/a (reason)" when a part of the system is missing.
import type { ServerProcess } from '../lib/children.ts';
import type { Idp } from '../lib/idp.ts';
import type { SpaResult, Verdict } from '../lib/results.ts';
import { TARGETS } from '../lib/summarize.ts';
import { firstLine } from '../lib/rows.ts';
import { measureLoginBaseline, type LoginBaseline } from './login-baseline.ts';
import { measureBrowserLogins, measureInitialJs, measureLoginRoundTrip, SPA_ROWS, type BrowserLogins } from './spa.ts';

export interface SpaRowsOptions {
  idp: Idp;
  spaPort: number;
  /** Our API for the browser row (b's process), if it runs. */
  ourApi: ServerProcess | undefined;
  browserRuns: number;
  allowBuild: boolean;
  /** The BFF serving the SPA build, for the BFF-mode round trip; or why there is none. */
  bff: { appUrl?: string; unavailable: string };
}

const LOGIN_ROUND_TRIP_TARGET = `median ≤ ${TARGETS.loginRoundTripOverBaseline.toFixed(1)} × browserless login + API call, same run`;

/** The login round trip judged against the same run's browserless baseline; not judged without one. */
export function loginRoundTripVerdict(medianMs: number, baselineMedianMs: number | undefined): Verdict {
  if (baselineMedianMs === undefined || !(baselineMedianMs > 0)) return { target: LOGIN_ROUND_TRIP_TARGET };
  return { target: LOGIN_ROUND_TRIP_TARGET, met: medianMs / baselineMedianMs <= TARGETS.loginRoundTripOverBaseline };
}

/** The SPA rows as results, and the SPA server the browser row started (to stop and weigh). */
export async function spaResults(opts: SpaRowsOptions): Promise<{ rows: SpaResult[]; spaServer?: ServerProcess }> {
  const { idp, spaPort, ourApi } = opts;
  const apiUrl = ourApi ? `http://localhost:${ourApi.port}` : undefined;
  const trip = apiUrl
    ? await measureLoginRoundTrip({ idp, spaPort, apiUrl, runs: opts.browserRuns, allowBuild: opts.allowBuild })
      .catch((err: unknown) => `browser row failed: ${firstLine(err)}`)
    : 'our API did not run, so the SPA has nothing to show';
  // Measured right after the browser row, on the same IdP and API, so both see the same machine.
  const baseline = apiUrl && typeof trip !== 'string'
    ? await measureLoginBaseline(idp, apiUrl, opts.browserRuns).catch((err: unknown) => `browserless baseline failed: ${firstLine(err)}`)
    : undefined;
  const tripRow = roundTripRow('loginRoundTrip', trip, baseline);
  // The same measurement through the BFF serving the same build (BFF mode), after the token-mode one.
  const bffTrip = opts.bff.appUrl
    ? await measureBrowserLogins(opts.bff.appUrl, idp.tokenEndpoint, opts.browserRuns).catch((err: unknown) => `browser row failed: ${firstLine(err)}`)
    : opts.bff.unavailable;
  const bffRow = roundTripRow('bffLoginRoundTrip', bffTrip, baseline);
  if (tripRow.status === 'ok' && bffRow.status === 'ok') bffRow.notes.push(`token mode in the same run: ${tripRow.value!.toFixed(0)} ms`);

  const sizeTarget = `≤ ${TARGETS.initialJsGzipBytes / 1000} kB gzip`;
  const size = await measureInitialJs().catch((err: unknown) => `could not read the build: ${firstLine(err)}`);
  const served = typeof trip === 'string' ? undefined : trip.served;
  let sizeRow: SpaResult;
  if (typeof size === 'string') {
    sizeRow = { id: 'initialJs', label: SPA_ROWS.initialJs, status: 'n/a', reason: size, unit: 'bytes', verdicts: [{ target: sizeTarget }], notes: [] };
  } else {
    const notes = size.stale ? ['measured on a build older than the SPA sources'] : [];
    if (served) notes.push(`the SPA server sends it as ${(served.bytes / 1000).toFixed(1)} kB (${served.encodings.join(', ')}) to a browser that accepts br and gzip`);
    sizeRow = {
      id: 'initialJs', label: SPA_ROWS.initialJs, status: 'ok', value: size.gzipBytes, unit: 'bytes',
      display: `${(size.gzipBytes / 1000).toFixed(1)} kB gzip (${(size.bytes / 1000).toFixed(1)} kB raw, ${size.files.length} file${size.files.length === 1 ? '' : 's'})`,
      details: { ...size, ...(served ? { served } : {}) },
      verdicts: [{ target: sizeTarget, met: size.gzipBytes <= TARGETS.initialJsGzipBytes }],
      notes,
    };
  }
  return { rows: [sizeRow, tripRow, bffRow], ...(typeof trip !== 'string' ? { spaServer: trip.spaServer } : {}) };
}

/** A login-round-trip row: the median against the same run's browserless baseline, the phases in a note; or n/a (reason). */
function roundTripRow(id: 'loginRoundTrip' | 'bffLoginRoundTrip', trip: BrowserLogins | string, baseline: LoginBaseline | string | undefined): SpaResult {
  const label = SPA_ROWS[id];
  if (typeof trip === 'string') return { id, label, status: 'n/a', reason: trip, unit: 'ms', verdicts: [{ target: LOGIN_ROUND_TRIP_TARGET }], notes: [] };
  const sorted = [...trip.samplesMs].sort((a, b) => a - b);
  const p = trip.phasesMs;
  const at = (v: number | undefined) => (v === undefined ? '?' : `${v.toFixed(0)} ms`);
  const base = typeof baseline === 'object' ? baseline : undefined;
  const overBaseline = base && base.medianMs > 0 ? trip.medianMs / base.medianMs : undefined;
  return {
    id, label, status: 'ok', value: trip.medianMs, unit: 'ms',
    display: `${trip.medianMs.toFixed(0)} ms median of ${sorted.length} (${sorted[0]!.toFixed(0)}–${sorted.at(-1)!.toFixed(0)})` +
      (base ? `; ${overBaseline?.toFixed(2) ?? '?'} × browserless (${base.medianMs.toFixed(0)} ms)` : ''),
    details: {
      samplesMs: trip.samplesMs, phasesMs: trip.phasesMs, typicalTimeline: trip.typicalTimeline, failedRuns: trip.failedRuns,
      ...(base ? { baseline: base, overBaseline } : {}),
    },
    verdicts: [loginRoundTripVerdict(trip.medianMs, base?.medianMs)],
    notes: [...(trip.failedRuns.length ? [`${trip.failedRuns.length} run(s) failed and were repeated: ${trip.failedRuns[0]}`] : []),
      ...(typeof baseline === 'string' ? [baseline] : []),
      `median time after the form submission: form answered (password verified) ${at(p.formAnswered)}, back at the app ${at(p.backAtSpa)}, tokens ${at(p.tokens)}, API answered ${at(p.api)}, on screen ${at(p.onScreen)}`],
  };
}
