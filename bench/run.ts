// `npm run bench [-- --quick] [-- --out DIR]`: starts every server as its own process, measures
// all rows in interleaved rounds, prints markdown tables, and writes JSON, markdown and an SVG
// chart to bench/results/. See bench/README.md for what each row means.
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, release, totalmem, type } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort, killAll, killChildrenOnExit, ownCpuSeconds, readMachineBusySeconds, type ServerProcess } from './lib/children.ts';
import { clientsFileWithSpaOrigin, startIdp, type Idp } from './lib/idp.ts';
import { markdown, svgChart } from './lib/report.ts';
import type { BenchResults, MemoryResult, RowResult, SpaResult } from './lib/results.ts';
import { sampleRow, type RoundSample, type Row } from './lib/rows.ts';
import { addApiRatios, apiVerdicts, summarizeRow } from './lib/summarize.ts';
import { firstLine, setupApiSuite, type ApiSuite } from './suites/api.ts';
import { demoUserHashParams, meetsOwaspMinimum, OWASP_ARGON2ID_MINIMUM, setupIdpRows } from './suites/idp.ts';
import { measurePrimitives } from './suites/primitives.ts';
import { buildSpaIfStale, measureInitialJs, measureLoginRoundTrip, SPA_ROWS } from './suites/spa.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
    rounds: { type: 'string' },
    seconds: { type: 'string' },
  },
});

const quick = args.quick!;
const settings = {
  rounds: Number(args.rounds ?? (quick ? 2 : 5)),
  secondsPerRound: Number(args.seconds ?? (quick ? 1 : 3)),
  warmupSeconds: quick ? 1 : 2,
  connections: 10,
  refreshClients: 10,
  loginClients: 4,
  distinctTokens: 1000,
  browserRuns: quick ? 3 : 10,
};
/** Hard ceiling on the whole run: whatever hangs, the bench ends and takes its children with it. */
const BUDGET_MS = quick ? 170_000 : 20 * 60_000;
const outDir = resolve(args.out ?? join(import.meta.dirname, 'results'));
const TARGETS = {
  refreshPerCore: 480,
  loginsPerCore: 20,
  initialJsGzipBytes: 100_000,
  loginRoundTripMs: 250,
} as const;

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

killChildrenOnExit();
const watchdog = setTimeout(() => {
  log(`time budget of ${BUDGET_MS / 1000} s exceeded; stopping every server`);
  killAll();
  process.exit(1);
}, BUDGET_MS);
watchdog.unref();

const started = performance.now();
const stops: (() => Promise<void>)[] = [];
const memoryOf: ServerProcess[] = [];

async function main(): Promise<BenchResults> {
  log(`${quick ? 'quick' : 'full'} run: ${settings.rounds} round(s) × ${settings.secondsPerRound} s per row`);
  // A full run measures the current SPA: rebuild a stale build now, before anything is timed.
  const spaBuildProblem = quick ? undefined : await buildSpaIfStale((line) => log(`SPA: ${line}`));
  if (spaBuildProblem) log(spaBuildProblem);
  const idpEnv = { IDP_ACCESS_TOKEN_TTL: '3600' };
  const spaPort = await freePort();
  const spaOrigin = `http://localhost:${spaPort}`;
  const clients = clientsFileWithSpaOrigin(spaOrigin);
  stops.push(async () => clients.dispose());
  const [rs256, es256] = await Promise.all([
    startIdp('IdP (RS256)', { ...idpEnv, IDP_SIGNING_ALG: 'RS256', IDP_CLIENTS_FILE: clients.path }),
    startIdp('IdP (ES256)', { ...idpEnv, IDP_SIGNING_ALG: 'ES256' }),
  ]);
  stops.push(() => rs256.stop(), () => es256.stop());

  log('minting tokens and starting the API servers');
  const api: ApiSuite = await setupApiSuite({ jwtIdp: rs256, spaOrigin, connections: settings.connections, distinctTokens: settings.distinctTokens });
  stops.push(() => api.stop());
  log('preparing refresh-token chains');
  const idpRows = await setupIdpRows(rs256, es256, { refreshClients: settings.refreshClients, loginClients: settings.loginClients });
  const rows: Row[] = [...api.rows, ...idpRows];
  const runnable = rows.filter((r) => !r.unavailable);

  log('warm-up');
  for (const row of runnable) await row.measure(settings.warmupSeconds);
  const samples = new Map<string, RoundSample[]>(rows.map((r) => [r.id, []]));
  const errors = new Map<string, string>();
  const machineBefore = readMachineBusySeconds();
  const ownBefore = ownCpuSeconds();
  const roundsStarted = performance.now();
  for (let round = 0; round < settings.rounds; round++) {
    log(`round ${round + 1}/${settings.rounds}`);
    // Each round starts one row later, so no row always follows the same neighbour.
    const order = runnable.map((_, i) => runnable[(i + round) % runnable.length]!);
    for (const row of order) {
      try {
        samples.get(row.id)!.push(await sampleRow(row, settings.secondsPerRound, round));
      } catch (err) {
        errors.set(row.id, firstLine(err));
      }
    }
  }
  const machineAfter = readMachineBusySeconds();
  const ownAfter = ownCpuSeconds();
  const roundsSeconds = (performance.now() - roundsStarted) / 1000;
  const foreignCpuShare = machineBefore !== undefined && machineAfter !== undefined
    ? Math.max(0, (machineAfter - machineBefore - (ownAfter - ownBefore)) / (roundsSeconds * availableParallelism()))
    : undefined;
  for (const row of rows) if (row.server && !memoryOf.includes(row.server)) memoryOf.push(row.server);
  if (api.opaqueIdp) memoryOf.push(api.opaqueIdp.server);

  const results = rows.map((row) => {
    const result = summarizeRow(row, samples.get(row.id)!);
    const error = errors.get(row.id);
    if (error && result.status === 'ok') result.notes.push(`a round failed: ${error}`);
    if (error && result.status === 'n/a') result.reason = error;
    return result;
  });
  const apiResults = results.filter((r) => r.group === 'api');
  addApiRatios(apiResults);
  apiVerdicts(apiResults);
  const idpResults = results.filter((r) => r.group === 'idp');
  idpVerdicts(idpResults);

  log('reference figures: signature checks on one core');
  const primitives = await measurePrimitives(quick ? 0.5 : 2);
  noteSignatureBound(apiResults, primitives.find((p) => p.id === 'nodeVerify')?.perSecond);
  log('SPA rows');
  const spa = await spaRows(rs256, spaPort, api.ourApi);
  return {
    meta: {
      date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
      mode: quick ? 'quick' : 'full',
      machine: {
        cpu: cpus()[0]?.model.trim() ?? 'unknown CPU',
        cores: availableParallelism(),
        memoryGiB: Math.round(totalmem() / 2 ** 30),
        os: `${type()} ${release()}`,
        node: process.versions.node,
      },
      settings,
      ...(foreignCpuShare !== undefined ? { foreignCpuShare } : {}),
      wallSeconds: (performance.now() - started) / 1000,
    },
    api: apiResults,
    idp: idpResults,
    spa,
    primitives,
    memory: memoryOf.map((s): MemoryResult => {
      const rssBytes = s.rssBytes();
      return { server: s.name, ...(rssBytes !== undefined ? { rssBytes } : {}) };
    }),
  };
}

/**
 * What (d) could reach at best: the bare route's CPU per request plus one node:crypto signature
 * check and nothing else. Written next to (d) so a miss can be read against it.
 */
function noteSignatureBound(rows: RowResult[], checksPerSecond: number | undefined): void {
  const a = rows.find((r) => r.id === 'a')?.perServerCpuSecond;
  const d = rows.find((r) => r.id === 'd');
  if (!a || !d || !checksPerSecond || d.status !== 'ok') return;
  const bound = 1 / (1 / a + 1 / checksPerSecond);
  const spent = d.perServerCpuSecond ? 1e6 / d.perServerCpuSecond - 1e6 / a : undefined;
  d.notes.push(`bare route + one RS256 check and nothing else would do ${Math.round(bound).toLocaleString('en-US')} per CPU-second, ${(bound / a).toFixed(2)} × (a)` +
    (spent !== undefined ? `; (d) spends ${spent.toFixed(0)} µs of CPU per request on top of the bare route, ${(1e6 / checksPerSecond).toFixed(0)} µs of it the signature check` : ''));
}

function idpVerdicts(rows: RowResult[]): void {
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

async function spaRows(idp: Idp, spaPort: number, ourApi: ServerProcess | undefined): Promise<SpaResult[]> {
  // The browser row first: in a full run the SPA server rebuilds a stale build, which the size row then measures.
  const tripTarget = `median ≤ ${TARGETS.loginRoundTripMs} ms`;
  const trip = ourApi
    ? await measureLoginRoundTrip({ idp, spaPort, apiUrl: `http://localhost:${ourApi.port}`, runs: settings.browserRuns, allowBuild: !quick })
      .catch((err: unknown) => `browser row failed: ${firstLine(err)}`)
    : 'our API did not run, so the SPA has nothing to show';
  let tripRow: SpaResult;
  if (typeof trip === 'string') {
    tripRow = { id: 'loginRoundTrip', label: SPA_ROWS.loginRoundTrip, status: 'n/a', reason: trip, unit: 'ms', verdicts: [{ target: tripTarget }], notes: [] };
  } else {
    memoryOf.push(trip.spaServer);
    stops.push(() => trip.spaServer.stop());
    const sorted = [...trip.samplesMs].sort((a, b) => a - b);
    const p = trip.phasesMs;
    const at = (v: number | undefined) => (v === undefined ? '?' : `${v.toFixed(0)} ms`);
    tripRow = {
      id: 'loginRoundTrip', label: SPA_ROWS.loginRoundTrip, status: 'ok', value: trip.medianMs, unit: 'ms',
      display: `${trip.medianMs.toFixed(0)} ms median of ${sorted.length} (${sorted[0]!.toFixed(0)}–${sorted.at(-1)!.toFixed(0)})`,
      details: { samplesMs: trip.samplesMs, phasesMs: trip.phasesMs, typicalTimeline: trip.typicalTimeline },
      verdicts: [{ target: tripTarget, met: trip.medianMs <= TARGETS.loginRoundTripMs }],
      notes: [`median time after the form submission: form answered (password verified) ${at(p.formAnswered)}, back at the SPA ${at(p.backAtSpa)}, tokens ${at(p.tokens)}, API answered ${at(p.api)}, on screen ${at(p.onScreen)}`],
    };
  }

  const sizeTarget = `≤ ${TARGETS.initialJsGzipBytes / 1000} kB gzip`;
  const size = await measureInitialJs().catch((err: unknown) => `could not read the build: ${firstLine(err)}`);
  const sizeRow: SpaResult = typeof size === 'string'
    ? { id: 'initialJs', label: SPA_ROWS.initialJs, status: 'n/a', reason: size, unit: 'bytes', verdicts: [{ target: sizeTarget }], notes: [] }
    : {
      id: 'initialJs', label: SPA_ROWS.initialJs, status: 'ok', value: size.gzipBytes, unit: 'bytes',
      display: `${(size.gzipBytes / 1000).toFixed(1)} kB gzip (${(size.bytes / 1000).toFixed(1)} kB raw, ${size.files.length} file${size.files.length === 1 ? '' : 's'})`,
      details: size,
      verdicts: [{ target: sizeTarget, met: size.gzipBytes <= TARGETS.initialJsGzipBytes }],
      notes: size.stale ? ['measured on a build older than the SPA sources'] : [],
    };
  if (sizeRow.status === 'ok' && typeof trip !== 'string') {
    sizeRow.notes.push(trip.servedCompressed ? 'the SPA server sends it compressed' : 'the SPA server sends JavaScript uncompressed: the bytes on the wire are the raw size');
  }
  return [sizeRow, tripRow];
}

function write(results: BenchResults): string[] {
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

let exitCode = 0;
try {
  const results = await main();
  process.stdout.write(markdown(results));
  const files = write(results);
  log(`wrote ${files.join(', ')} (and latest.*) in ${Math.round((performance.now() - started) / 1000)} s`);
} catch (err) {
  log(`failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  exitCode = 1;
} finally {
  await Promise.all(stops.reverse().map((stop) => stop().catch(() => {})));
  killAll();
}
process.exit(exitCode);
