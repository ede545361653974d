// Markdown tables and a hand-written SVG bar chart of one run's results, and the files they go to.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchResults, RowResult, SpaResult, Verdict } from './results.ts';
import type { RoundSample } from './rows.ts';
import type { Spread } from './stats.ts';

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => (n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n.toFixed(0));
const ratio = (n: number) => n.toFixed(2);
const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');

function spreadText(s: Spread | undefined, fmt: (n: number) => string): string {
  if (!s || Number.isNaN(s.median)) return '—';
  return s.min === s.max ? fmt(s.median) : `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})`;
}

function verdictText(verdicts: Verdict[]): [string, string] {
  if (verdicts.length === 0) return ['—', '—'];
  const target = verdicts.map((v) => v.target).join('; ');
  const met = verdicts.some((v) => v.met === undefined) ? 'n/a'
    : verdicts.every((v) => v.met) ? 'yes' : '**no**';
  return [target, met];
}

function table(header: string[], rows: string[][]): string {
  return [
    `| ${header.join(' | ')} |`,
    // Figures right-aligned; the row name, the target and the verdict read as text.
    `| ${header.map((h, i) => (i === 0 || h === 'target' || h === 'met?' ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n');
}

function naRow(r: RowResult, width: number): string[] {
  const [target, met] = verdictText(r.verdicts);
  return [r.label, `n/a (${r.reason ?? 'not measured'})`, ...Array(width - 4).fill(''), target, met];
}

function failureNote(r: RowResult): string {
  return r.failures > 0 ? ` ⚠ ${r.failures} failed` : '';
}

export function apiTable(rows: RowResult[]): string {
  const header = ['API row', 'req/s median (min–max)', '÷ (a)', 'p50 ms', '÷ (a)', 'p99 ms', '÷ (a)', 'req per server CPU-s', '÷ (a)', 'target', 'met?'];
  const ofA = (r: RowResult, pick: (x: NonNullable<RowResult['ratioToA']>) => number | undefined) => {
    const v = r.ratioToA ? pick(r.ratioToA) : undefined;
    return v === undefined ? '—' : ratio(v);
  };
  return table(header, rows.map((r) => {
    if (r.status !== 'ok') return naRow(r, header.length);
    const [target, met] = verdictText(r.verdicts);
    return [
      r.label,
      spreadText(r.rate, int) + failureNote(r),
      ofA(r, (x) => x.rate),
      spreadText(r.p50Ms, ms),
      ofA(r, (x) => x.p50),
      spreadText(r.p99Ms, ms),
      ofA(r, (x) => x.p99),
      r.perServerCpuSecond !== undefined ? int(r.perServerCpuSecond) : '—',
      ofA(r, (x) => x.perServerCpuSecond),
      target,
      met,
    ];
  }));
}

export function primitivesTable(results: BenchResults): string {
  return table(['reference: in the bench process, on an idle system under test', 'per CPU-second'], results.primitives.map((p) => [p.label, int(p.perSecond)]));
}

export function idpTable(rows: RowResult[]): string {
  const header = ['IdP row', 'per second median (min–max)', 'p50 ms', 'p99 ms', 'per IdP CPU-second', 'target', 'met?'];
  return table(header, rows.map((r) => {
    if (r.status !== 'ok') return naRow(r, header.length);
    const [target, met] = verdictText(r.verdicts);
    return [
      r.label,
      spreadText(r.rate, (n) => n.toFixed(n < 100 ? 1 : 0)) + failureNote(r),
      spreadText(r.p50Ms, ms),
      spreadText(r.p99Ms, ms),
      r.perServerCpuSecond !== undefined ? r.perServerCpuSecond.toFixed(r.perServerCpuSecond < 100 ? 1 : 0) : '—',
      target,
      met,
    ];
  }));
}

export function spaTable(rows: SpaResult[]): string {
  return table(['SPA row', 'value', 'target', 'met?'], rows.map((r) => {
    const [target, met] = verdictText(r.verdicts);
    return [r.label, r.status === 'ok' ? (r.display ?? String(r.value)) : `n/a (${r.reason ?? 'not measured'})`, target, met];
  }));
}

export function memoryTable(results: BenchResults): string {
  const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
  return table(['server', 'RSS after its load, MiB (several processes: their median, min–max)'], results.memory.map((m) => [
    m.processes ? `${m.server} (${m.processes} processes)` : m.server,
    m.rssBytes === undefined ? 'n/a'
      : m.rssRangeBytes && mib(m.rssRangeBytes.min) !== mib(m.rssRangeBytes.max) ? `${mib(m.rssBytes)} (${mib(m.rssRangeBytes.min)}–${mib(m.rssRangeBytes.max)})`
      : mib(m.rssBytes),
  ]));
}

function discardedSamples(results: BenchResults, pick: (x: RoundSample) => number | undefined): number {
  return [...results.api, ...results.idp].reduce((sum, r) => sum + r.rounds.reduce((n, x) => n + (pick(x) ?? 0), 0), 0);
}

const percent = (share: number) => `${(share * 100).toFixed(share < 0.1 ? 1 : 0)}%`;

/** The method line's account of disturbance: what was measured again, and what the samples that stand had. */
export function disturbanceText(results: BenchResults): string {
  const { meta } = results;
  const s = meta.settings;
  const parts: string[] = [];
  if (s.retriesWhenDisturbed > 0) {
    parts.push(`A sample during which other processes took more than ${percent(s.maxForeignCpuShare)} of the CPU, or the host stole more than ${percent(s.maxStealShare)} of its CPU time, was measured again, up to ${s.retriesWhenDisturbed} times: ` +
      `${discardedSamples(results, (x) => x.discarded)} sample(s) were, ${discardedSamples(results, (x) => x.discardedForSteal)} of them for steal.`);
  }
  if (meta.foreignCpuShare !== undefined) {
    parts.push(`Other processes used ${percent(meta.foreignCpuShare)} of the machine's CPU during the samples that stand${meta.foreignCpuShare > 0.05 ? ' (a disturbed run: compare the per-CPU-second columns)' : ''}.`);
  }
  if (meta.steal) {
    parts.push(`The host stole ${percent(meta.steal.meanShare)} of the CPU time during the samples that stand (worst sample ${percent(meta.steal.maxShare)})` +
      `${meta.steal.maxShare > s.maxStealShare ? ': a noisy host, the ratios of its samples are suspect' : ''}.`);
  }
  return parts.map((p) => ` ${p}`).join('');
}

/** The method line's account of the API rows' processes and of pinning. */
export function apiProcessesText(s: BenchResults['meta']['settings']): string {
  const n = s.apiProcesses ?? 1;
  const processes = n > 1
    ? `, ${n} processes of the same server per row (round r on process r mod ${n}, the row's figures medians over rounds and so over processes)`
    : ', one process per row';
  return processes + (s.pinning ? `, ${s.pinning}` : '');
}

export function markdown(results: BenchResults): string {
  const { meta } = results;
  const s = meta.settings;
  const notes = [...results.api, ...results.idp, ...results.spa].flatMap((r) => r.notes.map((n) => `- ${r.label}: ${n}`));
  return [
    `## Benchmark results (${meta.mode}, ${meta.date})`,
    '',
    `Machine: ${meta.machine.cpu}, ${meta.machine.cores} cores, ${meta.machine.memoryGiB} GiB, ${meta.machine.os}, Node ${meta.machine.node}. ` +
      `Load generator and servers share these cores, on loopback.`,
    `Method: ${s.rounds} interleaved round(s) of ${s.secondsPerRound} s per row after a ${s.warmupSeconds} s warm-up; ` +
      `API rows: autocannon, ${s.connections} connections${apiProcessesText(s)}; refresh rows: ${s.refreshClients} rotating refresh-token chains; ` +
      `login rows: ${s.loginClients} concurrent browserless users; ratios are medians of per-round ratios to (a). Run took ${Math.round(meta.wallSeconds)} s.` +
      disturbanceText(results),
    '',
    apiTable(results.api),
    '',
    idpTable(results.idp),
    '',
    spaTable(results.spa),
    '',
    memoryTable(results),
    '',
    primitivesTable(results),
    ...(notes.length ? ['', 'Notes:', ...notes] : []),
    '',
  ].join('\n');
}

const escapeXml = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

/** Horizontal bars (median) with min–max whiskers, one panel per group. */
export function svgChart(results: BenchResults): string {
  const panels: { title: string; rows: RowResult[]; unit: string }[] = [
    { title: 'GET /api/UserOne, requests per second', rows: results.api.filter((r) => r.status === 'ok'), unit: 'req/s' },
    { title: 'IdP operations per second', rows: results.idp.filter((r) => r.status === 'ok'), unit: '/s' },
  ];
  const width = 1000;
  const labelWidth = 460;
  const barMax = width - labelWidth - 120;
  const rowHeight = 26;
  let y = 40;
  const parts: string[] = [];
  parts.push(`<text x="10" y="22" font-size="15" font-weight="bold">${escapeXml(`Benchmark (${results.meta.mode}, ${results.meta.date}, ${results.meta.machine.cores} cores): bars are medians, lines min–max`)}</text>`);
  for (const panel of panels) {
    parts.push(`<text x="10" y="${y + 14}" font-size="13" font-weight="bold">${escapeXml(panel.title)}</text>`);
    y += 24;
    const max = Math.max(1, ...panel.rows.map((r) => r.rate?.max ?? 0));
    for (const r of panel.rows) {
      const scale = (v: number) => (v / max) * barMax;
      const m = r.rate!;
      const barY = y + 4;
      parts.push(`<text x="${labelWidth - 8}" y="${y + 17}" font-size="12" text-anchor="end">${escapeXml(r.label)}</text>`);
      parts.push(`<rect x="${labelWidth}" y="${barY}" width="${scale(m.median).toFixed(1)}" height="${rowHeight - 10}" fill="${r.id === 'a' ? '#9aa5b1' : '#3b82c4'}"/>`);
      parts.push(`<line x1="${(labelWidth + scale(m.min)).toFixed(1)}" x2="${(labelWidth + scale(m.max)).toFixed(1)}" y1="${barY + 8}" y2="${barY + 8}" stroke="#222" stroke-width="1.5"/>`);
      parts.push(`<text x="${(labelWidth + scale(m.max) + 6).toFixed(1)}" y="${y + 17}" font-size="12">${escapeXml(`${Math.round(m.median).toLocaleString('en-US')} ${panel.unit}`)}</text>`);
      y += rowHeight;
    }
    y += 16;
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

/** Writes bench-<time>.{json,md,svg} and latest.* to `outDir`; returns the timestamped paths. */
export function writeResults(outDir: string, results: BenchResults): string[] {
  mkdirSync(outDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  const md = markdown(results);
  const files: [string, string][] = [
    [`bench-${stamp}.json`, JSON.stringify(results, null, 2) + '\n'],
    [`bench-${stamp}.md`, md],
    [`bench-${stamp}.svg`, svgChart(results)],
  ];
  for (const [name, content] of files) {
    writeFileSync(join(outDir, name), content);
    writeFileSync(join(outDir, name.replace(`bench-${stamp}`, 'latest')), content);
  }
  return files.map(([name]) => join(outDir, name));
}
