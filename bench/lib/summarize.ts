// From rounds of samples to the figures the tables show, and the targets checked on them.
import type { RoundSample, Row } from './rows.ts';
import type { RowResult, Verdict } from './results.ts';
import { median, spread } from './stats.ts';

export function summarizeRow(row: Row, rounds: RoundSample[]): RowResult {
  const base: RowResult = {
    id: row.id, group: row.group, label: row.label, status: 'ok', rounds, failures: 0, verdicts: [], notes: [],
    ...(row.server ? { server: row.server.name } : {}),
  };
  if (row.unavailable) return { ...base, status: 'n/a', reason: row.unavailable };
  if (rounds.length === 0) return { ...base, status: 'n/a', reason: 'no round completed' };
  const perCpu = rounds.filter((r) => r.serverCpuSeconds !== undefined && r.serverCpuSeconds > 0).map((r) => r.ok / r.serverCpuSeconds!);
  return {
    ...base,
    rate: spread(rounds.map((r) => r.rate)),
    p50Ms: spread(rounds.map((r) => r.p50Ms)),
    p99Ms: spread(rounds.map((r) => r.p99Ms)),
    ...(perCpu.length ? { perServerCpuSecond: median(perCpu) } : {}),
    failures: rounds.reduce((s, r) => s + r.failures, 0),
  };
}

/** Median over rounds of row/reference for the same round (drift between rounds cancels out). */
export function roundRatio(row: RowResult, reference: RowResult, pick: (r: RoundSample) => number): number | undefined {
  const ratios = row.rounds.flatMap((r) => {
    const ref = reference.rounds.find((x) => x.round === r.round);
    return ref && pick(ref) > 0 ? [pick(r) / pick(ref)] : [];
  });
  return ratios.length ? median(ratios) : undefined;
}

export function addApiRatios(rows: RowResult[]): void {
  const a = rows.find((r) => r.id === 'a' && r.status === 'ok');
  if (!a) return;
  for (const r of rows) {
    if (r.status !== 'ok') continue;
    const rate = roundRatio(r, a, (s) => s.rate);
    const p50 = roundRatio(r, a, (s) => s.p50Ms);
    const p99 = roundRatio(r, a, (s) => s.p99Ms);
    const perCpu = roundRatio(r, a, (s) => (s.serverCpuSeconds ? s.ok / s.serverCpuSeconds : 0));
    if (rate !== undefined && p50 !== undefined && p99 !== undefined) r.ratioToA = { rate, p50, p99, ...(perCpu !== undefined ? { perServerCpuSecond: perCpu } : {}) };
  }
}

function atLeast(target: string, value: number | undefined, min: number): Verdict {
  return value === undefined ? { target } : { target, met: value >= min };
}

/** The targets for the API rows: ratios of requests per second to (a), and (d) to (f). */
export function apiVerdicts(rows: RowResult[]): void {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const ratioOf = (id: string) => byId.get(id)?.ratioToA?.rate;
  const set = (id: string, verdicts: Verdict[]) => {
    const r = byId.get(id);
    if (r) r.verdicts = verdicts;
  };
  set('b', [atLeast('≥ 0.90 × (a)', ratioOf('b'), 0.9)]);
  set('c', [atLeast('≥ 0.85 × (a)', ratioOf('c'), 0.85)]);
  const d = byId.get('d');
  const f = byId.get('f');
  const dOverF = d?.status === 'ok' && f?.status === 'ok' ? roundRatio(d, f, (s) => s.rate) : undefined;
  set('d', [atLeast('≥ 0.45 × (a)', ratioOf('d'), 0.45), atLeast('≥ 2.5 × (f)', dOverF, 2.5)]);
  if (d && dOverF !== undefined) d.notes.push(`(d) ÷ (f) = ${dOverF.toFixed(2)} (median of per-round ratios)`);
}
