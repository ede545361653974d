// From rounds of samples to the figures the tables show, and the issue's targets checked on them.
import { demoUserHashParams, meetsOwaspMinimum, OWASP_ARGON2ID_MINIMUM } from '../suites/idp.ts';
import type { ServerProcess } from './children.ts';
import type { RoundSample, Row } from './rows.ts';
import type { MemoryResult, ProcessResult, RowResult, Verdict } from './results.ts';
import { median, spread } from './stats.ts';

/** The issue's targets that are not ratios between API rows. */
export const TARGETS = {
  refreshPerCore: 480,
  loginsPerCore: 20,
  initialJsGzipBytes: 100_000,
  /**
   * Our SPA's browser login round trip (token mode and BFF mode) over the faster of two peers
   * (@auth0/auth0-spa-js, oidc-client-ts) doing the same round trip in the same run: a ratio, so
   * it holds on a slower machine as on a faster one (the former "≤ 250 ms" held on one, not the other).
   */
  loginRoundTripOverFasterPeer: 1.0,
} as const;

export function summarizeRow(row: Row, rounds: RoundSample[]): RowResult {
  const base: RowResult = {
    id: row.id, group: row.group, label: row.label, status: 'ok', rounds, failures: 0, verdicts: [], notes: [],
    ...(row.server ? { server: row.server.name } : {}),
  };
  if (row.unavailable) return { ...base, status: 'n/a', reason: row.unavailable };
  if (rounds.length === 0) return { ...base, status: 'n/a', reason: 'no round completed' };
  const perCpu = perServerCpuFigures(rounds);
  const processes = processResults(rounds);
  return {
    ...base,
    rate: spread(rounds.map((r) => r.rate)),
    p50Ms: spread(rounds.map((r) => r.p50Ms)),
    p99Ms: spread(rounds.map((r) => r.p99Ms)),
    // The median over every round, and so over the row's processes, each serving its share of rounds.
    ...(perCpu.length ? { perServerCpuSecond: median(perCpu) } : {}),
    ...(processes ? { processes } : {}),
    failures: rounds.reduce((s, r) => s + r.failures, 0),
  };
}

/** Requests per server CPU-second of the samples that have a CPU reading. */
function perServerCpuFigures(rounds: readonly RoundSample[]): number[] {
  return rounds.filter((r) => r.serverCpuSeconds !== undefined && r.serverCpuSeconds > 0).map((r) => r.ok / r.serverCpuSeconds!);
}

/** Each process's rounds and median, for a row whose samples say which process served them. */
export function processResults(rounds: readonly RoundSample[]): ProcessResult[] | undefined {
  if (!rounds.some((r) => r.process !== undefined)) return undefined;
  const indexes = [...new Set(rounds.map((r) => r.process ?? 0))].sort((x, y) => x - y);
  return indexes.map((index) => {
    const own = rounds.filter((r) => (r.process ?? 0) === index);
    const perCpu = perServerCpuFigures(own);
    return { index, rounds: own.map((r) => r.round), ...(perCpu.length ? { perServerCpuSecond: median(perCpu) } : {}) };
  });
}

/**
 * Median over rounds of row/reference for the same round (drift between rounds cancels out). In
 * a round every API row is on its process of the same index, so each ratio compares processes of
 * equal standing; `onlyRounds` restricts it to some rounds (one process's).
 */
export function roundRatio(row: RowResult, reference: RowResult, pick: (r: RoundSample) => number, onlyRounds?: readonly number[]): number | undefined {
  const ratios = row.rounds.flatMap((r) => {
    if (onlyRounds && !onlyRounds.includes(r.round)) return [];
    const ref = reference.rounds.find((x) => x.round === r.round);
    return ref && pick(ref) > 0 ? [pick(r) / pick(ref)] : [];
  });
  return ratios.length ? median(ratios) : undefined;
}

/** Successful requests per CPU-second of the server in one sample (0 without a CPU reading). */
const perServerCpu = (s: RoundSample) => (s.serverCpuSeconds ? s.ok / s.serverCpuSeconds : 0);

const int = (n: number) => Math.round(n).toLocaleString('en-US');

/**
 * For every API row served by several processes: each process's requests per server CPU-second
 * and its ratio to (a)'s process of the same rounds, in the JSON and in a note, so that a reader
 * sees whether the processes of one server disagree (the figure in the table is the median over all).
 */
export function noteProcessSpread(rows: RowResult[]): void {
  const a = rows.find((r) => r.id === 'a' && r.status === 'ok');
  for (const r of rows) {
    if (r.status !== 'ok' || !r.processes || r.processes.length < 2) continue;
    for (const p of r.processes) {
      const toA = a && r !== a ? roundRatio(r, a, perServerCpu, p.rounds) : undefined;
      if (toA !== undefined) p.perServerCpuSecondToA = toA;
    }
    const figures = r.processes.flatMap((p) => (p.perServerCpuSecond !== undefined ? [p.perServerCpuSecond] : []));
    if (figures.length < 2) continue;
    const ratios = r.processes.flatMap((p) => (p.perServerCpuSecondToA !== undefined ? [p.perServerCpuSecondToA.toFixed(2)] : []));
    r.notes.push(`per server CPU-s, process by process (${r.processes.length}, round r on process r mod ${r.processes.length}): ${figures.map(int).join(' · ')}, ` +
      `largest ÷ smallest ${(Math.max(...figures) / Math.min(...figures)).toFixed(2)}` +
      (ratios.length === r.processes.length ? `; ÷ (a)'s process of the same rounds: ${ratios.join(' · ')}` : ''));
  }
}

/** RSS after the load of each group of processes (a row's): the median over them, with min–max. */
export function memoryResults(groups: readonly (readonly Pick<ServerProcess, 'name' | 'rssBytes'>[])[]): MemoryResult[] {
  return groups.flatMap((group) => {
    if (group.length === 0) return [];
    const rss = group.flatMap((s) => {
      const bytes = s.rssBytes();
      return bytes !== undefined ? [bytes] : [];
    });
    const result: MemoryResult = { server: group[0]!.name, ...(rss.length ? { rssBytes: median(rss) } : {}) };
    if (group.length > 1) {
      result.processes = group.length;
      if (rss.length) result.rssRangeBytes = { min: Math.min(...rss), max: Math.max(...rss) };
    }
    return [result];
  });
}

export function addApiRatios(rows: RowResult[]): void {
  const a = rows.find((r) => r.id === 'a' && r.status === 'ok');
  if (!a) return;
  for (const r of rows) {
    if (r.status !== 'ok') continue;
    const rate = roundRatio(r, a, (s) => s.rate);
    const p50 = roundRatio(r, a, (s) => s.p50Ms);
    const p99 = roundRatio(r, a, (s) => s.p99Ms);
    const perCpu = roundRatio(r, a, perServerCpu);
    if (rate !== undefined && p50 !== undefined && p99 !== undefined) r.ratioToA = { rate, p50, p99, ...(perCpu !== undefined ? { perServerCpuSecond: perCpu } : {}) };
  }
}

function atLeast(target: string, value: number | undefined, min: number): Verdict {
  return value === undefined ? { target } : { target, met: value >= min };
}

/** How far (d) may fall below its bound (a′), in units of (a), per server CPU-second. */
export const SIGNATURE_BOUND_MARGIN = 0.1;

/**
 * The issue's targets for our API's rows, all on the server's CPU per request (requests per server
 * CPU-second), the figure other work on the machine disturbs least: (b) and (c) against (a), and
 * (d) against its bound (a′), measured in the same run, and against (f).
 */
export function apiVerdicts(rows: RowResult[]): void {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const perCpuRatioOf = (id: string) => byId.get(id)?.ratioToA?.perServerCpuSecond;
  const set = (id: string, verdicts: Verdict[]) => {
    const r = byId.get(id);
    if (r) r.verdicts = verdicts;
  };
  set('b', [atLeast('≥ 0.90 × (a) per server CPU-s', perCpuRatioOf('b'), 0.9)]);
  set('c', [atLeast('≥ 0.85 × (a) per server CPU-s', perCpuRatioOf('c'), 0.85)]);
  const d = byId.get('d');
  const f = byId.get('f');
  const dRatio = perCpuRatioOf('d');
  const boundRatio = perCpuRatioOf('bound');
  const dOverF = d?.status === 'ok' && f?.status === 'ok' ? roundRatio(d, f, perServerCpu) : undefined;
  set('d', [
    atLeast(`within ${SIGNATURE_BOUND_MARGIN.toFixed(2)} × (a) of (a′) per server CPU-s`, dRatio !== undefined && boundRatio !== undefined ? dRatio - boundRatio : undefined, -SIGNATURE_BOUND_MARGIN),
    atLeast('≥ 2.5 × (f) per server CPU-s', dOverF, 2.5),
  ]);
  if (d && dRatio !== undefined && boundRatio !== undefined) {
    d.notes.push(`per server CPU-s, (d) = ${dRatio.toFixed(2)} × (a) and its bound (a′) = ${boundRatio.toFixed(2)} × (a) (medians of per-round ratios)`);
  }
  if (d && dOverF !== undefined) d.notes.push(`(d) ÷ (f) = ${dOverF.toFixed(2)} per server CPU-s (median of per-round ratios)`);
  // The BFF against the API it fronts, called directly with a bearer token.
  const h = byId.get('h');
  const b = byId.get('b');
  const hOverB = h?.status === 'ok' && b?.status === 'ok' ? roundRatio(h, b, (s) => s.rate) : undefined;
  const i = byId.get('i');
  const hOverI = h?.status === 'ok' && i?.status === 'ok' ? roundRatio(h, i, (s) => s.rate) : undefined;
  set('h', [atLeast('≥ 0.50 × (b)', hOverB, 0.5), atLeast('≥ 1.0 × (i)', hOverI, 1)]);
  if (h && hOverI !== undefined) h.notes.push(`(h) ÷ (i) = ${hOverI.toFixed(2)} (median of per-round ratios)`);
  if (h && hOverB !== undefined) h.notes.push(`(h) ÷ (b) = ${hOverB.toFixed(2)} (median of per-round ratios)`);
  if (h?.perServerCpuSecond) h.notes.push(`the BFF's own CPU per request: ${(1e6 / h.perServerCpuSecond).toFixed(0)} µs (the API behind it is not counted)`);
  // What bounds (h): its transport alone (h′), and the API's own cost per request in (b).
  const proxy = byId.get('proxy');
  const micros = (r: RowResult | undefined) => (r?.status === 'ok' && r.perServerCpuSecond ? 1e6 / r.perServerCpuSecond : undefined);
  const [hMicros, proxyMicros, bMicros] = [micros(h), micros(proxy), micros(b)];
  if (h && hMicros !== undefined && proxyMicros !== undefined) {
    h.notes.push(`the bare proxy (h′) spends ${proxyMicros.toFixed(0)} µs of CPU per request${bMicros !== undefined ? ` (${(proxyMicros / bMicros).toFixed(1)} × the API's own ${bMicros.toFixed(0)} µs in (b))` : ''}; the BFF's checks and session add ${(hMicros - proxyMicros).toFixed(0)} µs`);
  }
  const proxyOverB = proxy?.status === 'ok' && b?.status === 'ok' ? roundRatio(proxy, b, (s) => s.rate) : undefined;
  if (proxy && proxyOverB !== undefined) proxy.notes.push(`(h′) ÷ (b) = ${proxyOverB.toFixed(2)} (median of per-round ratios): what (h) could reach with no work of its own`);
}

/**
 * The bound of (d) as the sum of its parts: the bare route's CPU per request plus one node:crypto
 * signature check measured in the bench process. Written next to (d) beside the measured bound
 * (a′), which also pays what a slower server pays per request on a shared machine
 * (bench/README.md, "What each API path costs").
 */
export function noteSignatureBound(rows: RowResult[], checksPerSecond: number | undefined): void {
  const a = rows.find((r) => r.id === 'a')?.perServerCpuSecond;
  const d = rows.find((r) => r.id === 'd');
  if (!a || !d || !checksPerSecond || d.status !== 'ok') return;
  const sum = 1 / (1 / a + 1 / checksPerSecond);
  const micros = (perSecond: number | undefined) => (perSecond ? 1e6 / perSecond - 1e6 / a : undefined);
  const spent = micros(d.perServerCpuSecond);
  const boundSpent = micros(rows.find((r) => r.id === 'bound' && r.status === 'ok')?.perServerCpuSecond);
  d.notes.push(`bare route + one RS256 check, added up: ${Math.round(sum).toLocaleString('en-US')} per CPU-second, ${(sum / a).toFixed(2)} × (a), ${(1e6 / checksPerSecond).toFixed(0)} µs over the bare route` +
    (boundSpent !== undefined ? `; measured as (a′): ${boundSpent.toFixed(0)} µs over the bare route` : '') +
    (spent !== undefined ? `; (d): ${spent.toFixed(0)} µs over the bare route` : ''));
}

export function idpVerdicts(rows: RowResult[]): void {
  const hash = demoUserHashParams();
  const owasp = meetsOwaspMinimum(hash);
  const hashText = hash ? `${hash.algorithm} m=${hash.memoryKiB} KiB, t=${hash.passes}, p=${hash.parallelism}` : 'unknown';
  for (const r of rows) {
    const perCore = r.perServerCpuSecond;
    if (r.id === 'refreshRs256' || r.id === 'refreshEs256') {
      r.verdicts = [{ target: `≥ ${TARGETS.refreshPerCore} per IdP CPU-second`, ...(perCore !== undefined ? { met: perCore >= TARGETS.refreshPerCore } : {}) }];
    } else {
      r.verdicts = [
        { target: `≥ ${TARGETS.loginsPerCore} per IdP CPU-second`, ...(perCore !== undefined ? { met: perCore >= TARGETS.loginsPerCore } : {}) },
        { target: `hash ≥ OWASP minimum (argon2id m=${OWASP_ARGON2ID_MINIMUM.memoryKiB} KiB, t=2, p=1)`, met: owasp },
      ];
      r.notes.push(`password hash verified at every login: ${hashText}`);
    }
  }
}
