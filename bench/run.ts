// `npm run bench [-- --quick] [-- --out DIR]`: starts every server as its own process, measures
// all rows in interleaved rounds, prints markdown tables, and writes JSON, markdown and an SVG
// chart to bench/results/. See bench/README.md for what each row means.
import { availableParallelism, cpus, release, totalmem, type } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { candidatePorts, killAll, killChildrenOnExit, type ServerProcess } from './lib/children.ts';
import { benchClientsFile, startIdp } from './lib/idp.ts';
import { markdown, writeResults } from './lib/report.ts';
import type { BenchResults } from './lib/results.ts';
import { loadGeneratorAffinity, findOnPath, pinningPlan, pinningText } from './lib/pinning.ts';
import { firstLine, rowProcesses, undisturbedSample, type RoundSample, type Row } from './lib/rows.ts';
import { mean } from './lib/stats.ts';
import { addApiRatios, apiVerdicts, idpVerdicts, memoryResults, noteSignatureBound, noteProcessSpread, summarizeRow } from './lib/summarize.ts';
import { setupApiSuite, type ApiSuite } from './suites/api.ts';
import { APACHE_REDIRECT_PATH, setupApacheRow } from './suites/apache.ts';
import { setupBareProxyRow, setupBffRow } from './suites/bff.ts';
import { setupIdpRows } from './suites/idp.ts';
import { measurePrimitives } from './suites/primitives.ts';
import { spaResults } from './suites/spa-results.ts';
import { buildSpaIfStale } from './suites/spa.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    only: { type: 'string' },
    'browser-runs': { type: 'string' },
    'api-processes': { type: 'string' },
    warmup: { type: 'string' },
    // Each API row's server on one core, the load generator on the other (taskset): with a long
    // enough warm-up, rounds spread far less (bench/README.md, decision 0025). --no-pin: neither.
    pin: { type: 'boolean', default: true },
    // --no-install: never run apt-get for row (i) (npm test's run: a test must not wait for a mirror).
    install: { type: 'boolean', default: true },
  },
  allowNegative: true,
});

const quick = args.quick!;
const apiProcesses = Number(args['api-processes'] ?? (quick ? 2 : 3));
if (!Number.isInteger(apiProcesses) || apiProcesses < 1) throw new Error(`--api-processes must be a whole number ≥ 1, not ${args['api-processes']}`);
const pinning = pinningPlan({ requested: args.pin!, cores: availableParallelism(), taskset: findOnPath('taskset') });
const settings = {
  // A multiple of the processes per API row, so that each process serves as many rounds.
  rounds: Number(args.rounds ?? (quick ? 2 : 9)),
  secondsPerRound: Number(args.seconds ?? (quick ? 1 : 2)),
  // Per process. A server keeps getting cheaper per request for seconds after its first load: after
  // 1 s of warm-up, quick runs' later rounds measured (a) 1.2–2.3 × cheaper than their first ones
  // (more so pinned, its whole process on one core); after 4 s, pinned, 0.93–1.19 ×.
  warmupSeconds: Number(args.warmup ?? (quick ? 1 : 4)),
  connections: 10,
  /** Processes of the same server per API row; round r measures each row's process r mod n. */
  apiProcesses,
  /** How the API rows' servers and the load generator are placed on the cores. */
  pinning: pinningText(pinning),
  refreshClients: 10,
  loginClients: 4,
  distinctTokens: 1000,
  browserRuns: Number(args['browser-runs'] ?? (quick ? 3 : 10)),
  retriesWhenDisturbed: quick ? 0 : 2,
  /** Above this share of the machine's CPU taken by other processes, a sample is measured again. */
  maxForeignCpuShare: 0.1,
  /**
   * Above this share of a sample's CPU time stolen by the host (a noisy neighbour on the
   * hypervisor), the sample is measured again: steal slows the server and the load generator
   * unevenly, so it would show in the ratios instead of in the table.
   */
  maxStealShare: 0.05,
};
/**
 * Hard ceiling on the whole run: whatever hangs, the bench ends and takes its children with it.
 * A hang guard, not a speed check: a quick run takes about 2 minutes here and 3.5 with apt-get,
 * and a machine 2.5 times slower (issue 12's) must still finish it, in `npm test` too.
 */
const BUDGET_MS = quick ? 10 * 60_000 : 20 * 60_000;
/**
 * `--only a,b,h,spa`: time only these rows (ids as in the tables' labels; `spa` for the browser
 * rows), for working on one path; the others are reported n/a. Never for a published table.
 */
const only = args.only ? new Set(args.only.split(',').map((s) => s.trim()).filter(Boolean)) : undefined;
const selected = (id: string) => !only || only.has(id);
/** A full run, or one that names the browser rows, measures the current SPA: a stale build is rebuilt first. */
const buildsSpa = !quick || only?.has('spa') === true;
const outDir = resolve(args.out ?? join(import.meta.dirname, 'results'));

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
/** Every server whose RSS is reported, the processes of one row together. */
const memoryOf: ServerProcess[][] = [];

async function main(): Promise<BenchResults> {
  log(`${quick ? 'quick' : 'full'} run: ${settings.rounds} round(s) × ${settings.secondsPerRound} s per row; ${apiProcesses} process(es) per API row; ${settings.pinning}`);
  // Rebuild a stale SPA now, before anything is timed.
  const spaBuildProblem = buildsSpa ? await buildSpaIfStale((line) => log(`SPA: ${line}`)) : undefined;
  if (spaBuildProblem) log(spaBuildProblem);
  const idpEnv = { IDP_ACCESS_TOKEN_TTL: '3600' };
  // Registered at the IdP before they start: a few ports each, of which each takes the first that
  // no other process took first.
  const bffPorts = await candidatePorts();
  const apachePorts = await candidatePorts();
  const clients = benchClientsFile({
    bffRedirectUris: [...bffPorts.map((port) => `http://localhost:${port}/bff/callback`), ...apachePorts.map((port) => `http://localhost:${port}${APACHE_REDIRECT_PATH}`)],
  });
  stops.push(async () => clients.dispose());
  const [rs256, es256] = await Promise.all([
    startIdp('IdP (RS256)', { ...idpEnv, IDP_SIGNING_ALG: 'RS256', IDP_CLIENTS_FILE: clients.path }),
    startIdp('IdP (ES256)', { ...idpEnv, IDP_SIGNING_ALG: 'ES256' }),
  ]);
  stops.push(() => rs256.stop(), () => es256.stop());

  log('minting tokens and starting the API servers');
  // Rows left out by --only are not started; (b)'s API stays when a row in front of it is timed.
  const behindB = ['proxy', 'h', 'i'].some(selected);
  const api: ApiSuite = await setupApiSuite({
    jwtIdp: rs256, connections: settings.connections, distinctTokens: settings.distinctTokens, processes: apiProcesses, pinning,
    skip: (id) => !selected(id) && !(id === 'b' && behindB),
  });
  stops.push(() => api.stop());
  log('starting the BFF and the bare proxy in front of the API');
  const bffOptions = { idp: rs256, bffPorts, ourApi: api.ourApi, connections: settings.connections };
  const [bff, bareProxy] = await Promise.all([setupBffRow(bffOptions), setupBareProxyRow(bffOptions)]);
  stops.push(() => bff.stop(), () => bareProxy.stop());
  log('starting Apache httpd + mod_auth_openidc in front of the API');
  const apache = await setupApacheRow({ idp: rs256, ports: apachePorts, ourApi: api.ourApi, connections: settings.connections, install: args.install! }, log);
  stops.push(() => apache.stop());
  log('preparing refresh-token chains');
  const idpRows = await setupIdpRows(rs256, es256, { refreshClients: settings.refreshClients, loginClients: settings.loginClients });
  const rows: Row[] = [...api.rows, bareProxy.row, bff.row, apache.row, ...idpRows];
  for (const row of rows) if (!selected(row.id) && !row.unavailable) row.unavailable = 'not selected (--only)';
  const runnable = rows.filter((r) => !r.unavailable);

  const pinLoadGenerator = loadGeneratorAffinity(pinning);
  log('warm-up');
  for (const row of runnable) {
    pinLoadGenerator(row.pinned === true);
    for (const p of rowProcesses(row)) await p.measure(settings.warmupSeconds);
  }
  const samples = new Map<string, RoundSample[]>(rows.map((r) => [r.id, []]));
  const errors = new Map<string, string>();
  for (let round = 0; round < settings.rounds; round++) {
    log(`round ${round + 1}/${settings.rounds}`);
    // Each round starts one row later, so no row always follows the same neighbour.
    const order = runnable.map((_, i) => runnable[(i + round) % runnable.length]!);
    for (const row of order) {
      try {
        pinLoadGenerator(row.pinned === true);
        samples.get(row.id)!.push(await undisturbedSample(row, settings.secondsPerRound, round, settings, settings.retriesWhenDisturbed));
      } catch (err) {
        errors.set(row.id, firstLine(err));
      }
    }
  }
  pinLoadGenerator(false);
  // How disturbed the samples that stand were (the ones measured again are not counted).
  const kept = [...samples.values()].flat();
  const foreignCpuShare = mean(kept.map((x) => x.foreignCpuShare));
  const stealShare = mean(kept.map((x) => x.stealShare));
  const maxStealShare = kept.some((x) => x.stealShare !== undefined) ? Math.max(...kept.map((x) => x.stealShare ?? 0)) : undefined;
  for (const row of rows) {
    if (row.unavailable) continue;
    const servers = rowProcesses(row).flatMap((p) => (p.server ? [p.server] : []));
    if (servers.length && !memoryOf.some((group) => group.includes(servers[0]!))) memoryOf.push(servers);
  }
  if (api.opaqueIdp) memoryOf.push([api.opaqueIdp.server]);

  const results = rows.map((row) => {
    const result = summarizeRow(row, samples.get(row.id)!);
    const error = errors.get(row.id);
    if (error && result.status === 'ok') result.notes.push(`a round failed: ${error}`);
    if (error && result.status === 'n/a') result.reason = error;
    return result;
  });
  const apiResults = results.filter((r) => r.group === 'api');
  addApiRatios(apiResults);
  noteProcessSpread(apiResults);
  apiVerdicts(apiResults);
  const idpResults = results.filter((r) => r.group === 'idp');
  idpVerdicts(idpResults);

  log('reference figures: signature checks on one core');
  const primitives = await measurePrimitives(quick ? 0.5 : 2);
  noteSignatureBound(apiResults, primitives.find((p) => p.id === 'nodeVerify')?.perSecond);
  const meta = (): BenchResults['meta'] => ({
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
    ...(stealShare !== undefined && maxStealShare !== undefined ? { steal: { meanShare: stealShare, maxShare: maxStealShare } } : {}),
    wallSeconds: (performance.now() - started) / 1000,
  });
  const memory = () => memoryResults(memoryOf);
  if (!selected('spa')) return { meta: meta(), api: apiResults, idp: idpResults, spa: [], primitives, memory: memory() };
  log('SPA rows');
  const spa = await spaResults({ browserRuns: settings.browserRuns, allowBuild: buildsSpa, log });
  stops.push(spa.stop);
  if (spa.spaServer) memoryOf.push([spa.spaServer]);
  return { meta: meta(), api: apiResults, idp: idpResults, spa: spa.rows, primitives, memory: memory() };
}

let exitCode = 0;
try {
  const results = await main();
  process.stdout.write(markdown(results));
  const files = writeResults(outDir, results);
  log(`wrote ${files.join(', ')} (and latest.*) in ${Math.round((performance.now() - started) / 1000)} s`);
} catch (err) {
  log(`failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  exitCode = 1;
} finally {
  await Promise.all(stops.reverse().map((stop) => stop().catch(() => {})));
  killAll();
}
process.exit(exitCode);
