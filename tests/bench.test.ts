// The benchmark harness: its pieces on their own, then `npm run bench -- --quick` once, end to
// end, against the real IdP, API and peers. No timing thresholds: only that every row is there,
// measured (numbers > 0) or marked n/a with a reason, and that the outputs parse.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { signalTree } from '../scripts/bounded-step.ts';
import { freePort, startServer, startServerOnFreshPort } from '../bench/lib/children.ts';
import { listensOn } from '../scripts/ports.ts';
import type { BenchResults, RowResult } from '../bench/lib/results.ts';
import type { ServerProcess } from '../bench/lib/children.ts';
import { findOnPath, pinningPlan, pinningText } from '../bench/lib/pinning.ts';
import { apiProcessesText } from '../bench/lib/report.ts';
import { processInRound, rowProcesses, sampleRow, type RoundSample, type Row } from '../bench/lib/rows.ts';
import { median, percentile, spread } from '../bench/lib/stats.ts';
import { readProfile } from '../bench/lib/profile.ts';
import { addApiRatios, apiVerdicts, memoryResults, noteProcessSpread, summarizeRow } from '../bench/lib/summarize.ts';
import { API_ROWS, checkServer } from '../bench/suites/api.ts';
import { APACHE_ROW } from '../bench/suites/apache.ts';
import { BFF_ROWS } from '../bench/suites/bff.ts';
import { IDP_ROWS, meetsOwaspMinimum } from '../bench/suites/idp.ts';
import { initialScripts, SPA_ROWS } from '../bench/suites/spa.ts';

const root = join(import.meta.dirname, '..');

test('median, min–max and nearest-rank percentiles', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.deepEqual(spread([5, 1, 9]), { median: 5, min: 1, max: 9 });
  const samples = Array.from({ length: 100 }, (_, i) => 100 - i);
  assert.equal(percentile(samples, 50), 50);
  assert.equal(percentile(samples, 99), 99);
  assert.equal(percentile(samples, 100), 100);
  assert.ok(Number.isNaN(percentile([], 50)));
});

/** A row whose server served `rates[i]` requests in round i, on `cpu[i]` CPU-seconds (1 when not given). */
function fakeRow(id: string, rates: number[], cpu: number[] = rates.map(() => 1)): RowResult {
  const row: Row = { id, group: 'api', label: id, measure: () => Promise.reject(new Error('not used')) };
  const rounds: RoundSample[] = rates.map((rate, round) => ({ round, rate, p50Ms: 1, p99Ms: 2, ok: rate, failures: 0, seconds: 1, serverCpuSeconds: cpu[round]! }));
  return summarizeRow(row, rounds);
}

test('ratios to (a) are per-round medians and the targets follow the issue, on server CPU per request', () => {
  // (a) drifts from round to round; (b) keeps 0.95 of it in every round.
  const rows = [
    fakeRow('a', [100, 200, 300]),
    fakeRow('bound', [60, 120, 180]),
    fakeRow('b', [95, 190, 285]),
    // (c) serves 0.80 × (a)'s requests per second but on 0.9 of the CPU: 0.89 per server CPU-second.
    fakeRow('c', [80, 160, 240], [0.9, 0.9, 0.9]),
    // (d) is 0.5 × (a) per server CPU-s, within 0.10 of its bound's 0.6.
    fakeRow('d', [50, 100, 150]),
    fakeRow('f', [10, 20, 80]),
  ];
  addApiRatios(rows);
  apiVerdicts(rows);
  const [, , b, c, d] = rows;
  assert.equal(b!.ratioToA!.rate.toFixed(2), '0.95');
  assert.deepEqual(b!.verdicts, [{ target: '≥ 0.90 × (a) per server CPU-s', met: true }]);
  assert.equal(c!.ratioToA!.rate.toFixed(2), '0.80');
  assert.deepEqual(c!.verdicts, [{ target: '≥ 0.85 × (a) per server CPU-s', met: true }]);
  // (d) is 5, 5 and 1.9 × (f) per round: median 5.
  assert.deepEqual(d!.verdicts, [{ target: 'within 0.10 × (a) of (a′) per server CPU-s', met: true }, { target: '≥ 2.5 × (f) per server CPU-s', met: true }]);
});

test('(d) misses its targets when it falls more than 0.10 × (a) below its bound, or below 2.5 × (f), per server CPU-s', () => {
  // Same requests per second as above, but (d) burns 1.5 CPU-seconds per round: 0.33 × (a), and (f) 0.5.
  const rows = [fakeRow('a', [100, 200, 300]), fakeRow('bound', [60, 120, 180]), fakeRow('d', [50, 100, 150], [1.5, 1.5, 1.5]), fakeRow('f', [10, 20, 30], [0.5, 0.5, 0.5])];
  addApiRatios(rows);
  apiVerdicts(rows);
  assert.deepEqual(rows[2]!.verdicts.map((v) => v.met), [false, false]);
});

test('a row that could not run is n/a with its reason and meets no target', () => {
  const row: Row = { id: 'b', group: 'api', label: API_ROWS.b, unavailable: 'server did not start', measure: () => Promise.reject(new Error('x')) };
  const rows = [fakeRow('a', [100]), summarizeRow(row, [])];
  addApiRatios(rows);
  apiVerdicts(rows);
  assert.equal(rows[1]!.status, 'n/a');
  assert.equal(rows[1]!.reason, 'server did not start');
  assert.deepEqual(rows[1]!.verdicts, [{ target: '≥ 0.90 × (a) per server CPU-s' }]);
});

/** A server whose CPU time advances by `cpuPerSample` at every reading after the first. */
function fakeServer(name: string, cpuPerSample: number, rssMiB = 100): ServerProcess {
  let cpu = 0;
  return {
    name, url: 'http://127.0.0.1:1', port: 1, pid: 1, tail: () => '', stop: async () => {},
    rssBytes: () => rssMiB * 2 ** 20,
    cpuSeconds: () => (cpu += cpuPerSample) - cpuPerSample,
  };
}

test('round r measures every row on its process r mod n; a row of one process is itself', async () => {
  const served: number[] = [];
  const processes = [0, 1, 2].map((i) => ({
    server: fakeServer(`p${i}`, (i + 1) / 10),
    measure: async () => {
      served.push(i);
      return { rate: 100, p50Ms: 1, p99Ms: 2, ok: 100, failures: 0, seconds: 1 };
    },
  }));
  const row: Row = { id: 'b', group: 'api', label: 'b', ...processes[0]!, processes };
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6].map((r) => processInRound(row, r).index), [0, 1, 2, 0, 1, 2, 0]);
  const single: Row = { id: 'h', group: 'api', label: 'h', measure: () => Promise.reject(new Error('not used')) };
  assert.equal(processInRound(single, 5).process, single);
  assert.deepEqual(rowProcesses(single), [single]);
  assert.equal(rowProcesses(row).length, 3);
  // Each sample is taken on the round's process, and its CPU time read from that process.
  const samples = [];
  for (let round = 0; round < 4; round++) samples.push(await sampleRow(row, 1, round));
  assert.deepEqual(served, [0, 1, 2, 0]);
  assert.deepEqual(samples.map((x) => x.process), [0, 1, 2, 0]);
  assert.deepEqual(samples.map((x) => x.serverCpuSeconds!.toFixed(1)), ['0.1', '0.2', '0.3', '0.1']);
  assert.equal((await sampleRow(single, 1, 0).catch((err: Error) => err.message)), 'not used');
});

/** A row whose samples came from process `round mod processes`, serving `perCpu[i]` requests per CPU-second in round i. */
function rowOfProcesses(id: string, perCpu: number[], processes: number): RowResult {
  const row: Row = { id, group: 'api', label: id, measure: () => Promise.reject(new Error('not used')) };
  return summarizeRow(row, perCpu.map((ok, round) => ({ round, process: round % processes, rate: ok, p50Ms: 1, p99Ms: 2, ok, failures: 0, seconds: 1, serverCpuSeconds: 1 })));
}

test('a row of several processes: its figure is the median over rounds and processes, and each process is reported with its ratio to (a)\'s process of the same rounds', () => {
  // (a)'s process 1 is a quarter faster than its others; (b)'s processes are alike.
  const a = rowOfProcesses('a', [100, 125, 100, 100, 125, 100], 3);
  const b = rowOfProcesses('b', [90, 90, 90, 90, 90, 90], 3);
  assert.equal(a.perServerCpuSecond, 100);
  assert.deepEqual(a.processes!.map((p) => [p.index, p.rounds, p.perServerCpuSecond]), [[0, [0, 3], 100], [1, [1, 4], 125], [2, [2, 5], 100]]);
  const rows = [a, b];
  addApiRatios(rows);
  noteProcessSpread(rows);
  // Two of three pairs say 0.90, one 0.72: the median of per-round ratios is 0.90.
  assert.equal(b.ratioToA!.perServerCpuSecond!.toFixed(2), '0.90');
  assert.deepEqual(b.processes!.map((p) => p.perServerCpuSecondToA!.toFixed(2)), ['0.90', '0.72', '0.90']);
  assert.equal(a.processes![0]!.perServerCpuSecondToA, undefined, '(a) is not compared with itself');
  assert.match(a.notes[0]!, /process by process \(3, round r on process r mod 3\): 100 · 125 · 100, largest ÷ smallest 1\.25$/);
  assert.match(b.notes[0]!, /90 · 90 · 90, largest ÷ smallest 1\.00; ÷ \(a\)'s process of the same rounds: 0\.90 · 0\.72 · 0\.90$/);
  // A row of one process has no per-process figures to report.
  const single = fakeRow('c', [80, 80]);
  assert.equal(single.processes, undefined);
});

test('RSS of a row of several processes: their median and min–max; a lone server as it is', () => {
  const rows = memoryResults([
    [fakeServer('our API', 0, 150), fakeServer('our API', 0, 170), fakeServer('our API', 0, 160)],
    [fakeServer('IdP', 0, 250)],
    [],
  ]);
  assert.deepEqual(rows, [
    { server: 'our API', rssBytes: 160 * 2 ** 20, processes: 3, rssRangeBytes: { min: 150 * 2 ** 20, max: 170 * 2 ** 20 } },
    { server: 'IdP', rssBytes: 250 * 2 ** 20 },
  ]);
});

test('pinning: servers on the first core and the load generator on the second, or nothing pinned, with the reason, without taskset or a second core', () => {
  assert.deepEqual(pinningPlan({ requested: true, cores: 2, taskset: '/usr/bin/taskset' }), { pinned: true, taskset: '/usr/bin/taskset', serverCpus: '0', loadCpus: '1', allCpus: '0-1' });
  assert.deepEqual(pinningPlan({ requested: true, cores: 4, taskset: 'taskset' }), { pinned: true, taskset: 'taskset', serverCpus: '0', loadCpus: '1', allCpus: '0-3' });
  const noTaskset = pinningPlan({ requested: true, cores: 2, taskset: undefined });
  assert.deepEqual(noTaskset, { pinned: false, reason: 'not pinned: taskset (util-linux) is not installed' });
  assert.match(pinningText(pinningPlan({ requested: true, cores: 1, taskset: '/usr/bin/taskset' })), /^not pinned: 1 core/);
  assert.equal(pinningText(pinningPlan({ requested: false, cores: 2, taskset: '/usr/bin/taskset' })), 'servers and load generator not pinned to cores (--no-pin)');
  assert.match(pinningText(pinningPlan({ requested: true, cores: 2, taskset: 'taskset' })), /pinned to core 0 and the load generator to core 1/);
  // The method line says what was done.
  assert.match(apiProcessesText({ apiProcesses: 3, pinning: noTaskset.reason } as BenchResults['meta']['settings']), /^, 3 processes of the same server per row \(round r on process r mod 3.*, not pinned: taskset/);
  assert.equal(apiProcessesText({} as BenchResults['meta']['settings']), ', one process per row');
});

test('taskset is looked up on PATH as `command -v` does: an executable file, not a plain one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-path-'));
  try {
    writeFileSync(join(dir, 'plain'), '');
    writeFileSync(join(dir, 'tool'), '#!/bin/sh\n', { mode: 0o755 });
    assert.equal(findOnPath('tool', `/nonexistent:${dir}`), join(dir, 'tool'));
    assert.equal(findOnPath('plain', dir), undefined);
    assert.equal(findOnPath('tool', ''), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a CPU profile is shared out by category, the deepest claimed frame winning, between the first and last request', () => {
  const frame = (id: number, functionName: string, url: string, children: number[] = []) => ({ id, callFrame: { functionName, url, lineNumber: 0 }, children });
  const profile = {
    nodes: [
      frame(1, '(root)', '', [2, 3, 8]),
      frame(2, 'compileModule', 'node:internal/modules', []), // start-up: before the first request
      frame(3, 'parserOnIncoming', 'node:_http_server', [4, 7]),
      frame(4, 'verifyWithKey', 'file:///x/apps/api/src/verify-access-token.ts', [5, 6]),
      frame(5, 'verifyOneShot', 'node:internal/crypto/sig', []),
      frame(6, 'decodeJsonObject', 'file:///x/apps/api/src/verify-access-token.ts', []),
      frame(7, 'writeUtf8String', '', []),
      frame(8, '(idle)', '', []),
    ],
    // start-up, then requests (idle in between is not counted), then start-up-like work after the last request
    samples: [2, 2, 5, 5, 5, 8, 6, 4, 7, 3, 2],
    startTime: 0,
    timeDeltas: [100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100],
  };
  const dir = mkdtempSync(join(tmpdir(), 'bench-profile-'));
  try {
    const path = join(dir, 'x.cpuprofile');
    writeFileSync(path, JSON.stringify(profile));
    const summary = readProfile(path);
    assert.equal(summary.busy, 7);
    assert.deepEqual(Object.fromEntries(summary.byCategory), {
      'signature check (node:crypto.verify)': 3,
      'header and payload: base64url + JSON.parse': 1,
      'verifier: shape check, signature bytes, glue': 1,
      'socket write (kernel: loopback TCP, waking the client)': 1,
      'the rest: node:http, Fastify, the route, native code': 1,
    });
    // A time window instead (µs of the profile's clock, samples at 100, 200, … µs), with categories of one's own.
    const windowed = readProfile(path, { window: { startUs: 100, endUs: 300 }, categories: [{ label: 'start-up', claims: (f) => f.functionName === 'compileModule' }], rest: 'other' });
    assert.equal(windowed.busy, 3);
    assert.deepEqual(Object.fromEntries(windowed.byCategory), { 'start-up': 2, other: 1 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the OWASP Argon2id minimum is checked on every parameter', () => {
  assert.equal(meetsOwaspMinimum({ algorithm: 'argon2id', memoryKiB: 19456, passes: 2, parallelism: 1 }), true);
  assert.equal(meetsOwaspMinimum({ algorithm: 'argon2id', memoryKiB: 19455, passes: 2, parallelism: 1 }), false);
  assert.equal(meetsOwaspMinimum({ algorithm: 'argon2id', memoryKiB: 65536, passes: 1, parallelism: 1 }), false);
  assert.equal(meetsOwaspMinimum({ algorithm: 'argon2i', memoryKiB: 65536, passes: 3, parallelism: 1 }), false);
  assert.equal(meetsOwaspMinimum(undefined), false);
});

test('initial JavaScript: the scripts index.html loads and their static imports, not lazy chunks', () => {
  const dist = mkdtempSync(join(tmpdir(), 'bench-dist-'));
  try {
    mkdirSync(dist, { recursive: true });
    writeFileSync(join(dist, 'index.html'), '<html><head><link rel="modulepreload" href="chunk-PRE.js"></head><body><script src="main-ABC.js" type="module"></script></body></html>');
    writeFileSync(join(dist, 'main-ABC.js'), 'import{a}from"./chunk-ONE.js";import"./chunk-SIDE.js";const r=()=>import("./chunk-LAZY.js");');
    writeFileSync(join(dist, 'chunk-ONE.js'), 'export*from"./chunk-TWO.js";export const a=1;');
    writeFileSync(join(dist, 'chunk-TWO.js'), 'export const b=2;');
    writeFileSync(join(dist, 'chunk-SIDE.js'), 'console.log(1)');
    writeFileSync(join(dist, 'chunk-PRE.js'), 'export const p=3;');
    writeFileSync(join(dist, 'chunk-LAZY.js'), 'export const lazy=4;');
    assert.deepEqual(initialScripts(dist).sort(), ['chunk-ONE.js', 'chunk-PRE.js', 'chunk-SIDE.js', 'chunk-TWO.js', 'main-ABC.js']);
  } finally {
    rmSync(dist, { recursive: true, force: true });
  }
});

test('a server that does not enforce the token is refused before it is benchmarked as a protected row', async () => {
  const bare = await startServerOnFreshPort((port) => ({ name: 'bare Fastify', entry: join(root, 'bench', 'servers', 'bare-fastify.ts'), port, healthPath: '/healthz', env: { BENCH_PORT: String(port) } }));
  try {
    await checkServer(bare, undefined); // fine as the unprotected baseline
    await assert.rejects(checkServer(bare, 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlc2lnbmF0dXJl'), /answered 200 without a token/);
  } finally {
    await bare.stop();
  }
});

test("a server started on a port another process already serves is not taken for the bench's own", async () => {
  // Someone else's server on the reserved port, answering the health check as ours would.
  const foreign = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve));
  const port = (foreign.address() as AddressInfo).port;
  try {
    const started = startServer({ name: 'bare Fastify', entry: join(root, 'bench', 'servers', 'bare-fastify.ts'), port, healthPath: '/healthz', env: { BENCH_PORT: String(port) } });
    await assert.rejects(
      // Taken for ours (the defect): stopped, so that the failure is reported instead of a child left running.
      started.then(async (server) => { await server.stop(); return server; }),
      /bare Fastify exited .* before answering \/healthz/s,
    );
  } finally {
    await new Promise((resolve) => foreign.close(resolve));
  }
});

test('a server whose reserved port another process took first starts again on the next port (startServerOnFreshPort)', async () => {
  // Someone else's server on the first port, answering the health check as ours would.
  const foreign = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve));
  const ports = [(foreign.address() as AddressInfo).port, await freePort()];
  const tried: number[] = [];
  try {
    const server = await startServerOnFreshPort((port) => {
      tried.push(port);
      return { name: 'bare Fastify', entry: join(root, 'bench', 'servers', 'bare-fastify.ts'), port, healthPath: '/healthz', env: { BENCH_PORT: String(port) } };
    }, ports);
    try {
      assert.deepEqual(tried, ports);
      assert.equal(server.port, ports[1]);
      assert.equal(listensOn(server.pid, server.port), true);
    } finally {
      await server.stop();
    }
  } finally {
    await new Promise((resolve) => foreign.close(resolve));
  }
});

function runBench(args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // detached: its own process group, so that a hang kills the servers and browsers it started too.
    const child = spawn(process.execPath, [join(root, 'bench', 'run.ts'), ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    const timer = setTimeout(() => signalTree(child.pid!, 'SIGKILL'), timeoutMs);
    // 'close', not 'exit': at 'exit' the last of its output (the tables, the error) may still be
    // in the pipes.
    child.once('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

// The time limits are hang guards only, just above the bench's own watchdog (10 minutes for a quick
// run, about 2 minutes on a quiet machine here: a slower or busy CI machine must not fail it).
test('npm run bench -- --quick runs every row end to end and writes JSON, markdown and SVG', { timeout: 620_000 }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'bench-results-'));
  try {
    // --no-install: without apache2 and mod_auth_openidc (.ci/run installs them) row (i) is n/a,
    // which is allowed below; apt-get inside the bench would wait on a slow mirror, within this test.
    const { code, stdout, stderr } = await runBench(['--quick', '--no-install', '--out', out], 610_000);
    assert.equal(code, 0, `bench failed:\n${stderr.slice(-3000)}`);
    for (const label of [...Object.values(API_ROWS), ...Object.values(BFF_ROWS), APACHE_ROW, ...Object.values(IDP_ROWS), ...Object.values(SPA_ROWS)]) {
      assert.ok(stdout.includes(`| ${label} |`), `table row missing: ${label}`);
    }
    const results = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')) as BenchResults;
    assert.equal(results.meta.mode, 'quick');
    assert.deepEqual(results.api.map((r) => r.id), ['a', 'control', 'bound', 'b', 'c', 'd', 'e', 'f', 'g', 'proxy', 'h', 'i']);
    // Every API row of (a)–(g) ran on its own processes, each measured in its share of the rounds.
    const n = results.meta.settings.apiProcesses!;
    assert.ok(n >= 2, 'the quick run rotates over processes too');
    for (const row of results.api.filter((r) => Object.keys(API_ROWS).includes(r.id))) {
      assert.deepEqual(row.processes?.map((p) => p.index), [...Array(n).keys()], row.label);
      for (const p of row.processes!) assert.ok(p.perServerCpuSecond! > 0, `${row.label}: process ${p.index}`);
      assert.deepEqual(row.rounds.map((x) => x.process), row.rounds.map((x) => x.round % n), row.label);
    }
    assert.match(stdout, new RegExp(`${n} processes of the same server per row`));
    assert.ok(results.memory.some((m) => m.server === 'our API' && m.processes === n));
    assert.deepEqual(results.idp.map((r) => r.id), ['refreshRs256', 'refreshEs256', 'loginRs256', 'loginEs256']);
    // (i) needs Debian packages the bench installs only as root: n/a is allowed, with its reason.
    const apache = results.api.find((r) => r.id === 'i')!;
    assert.ok(apache.status === 'ok' || (apache.reason && apache.reason.length > 0), 'row (i) is n/a without a reason');
    // Every row that does not depend on another engineer's app in progress must have run.
    for (const row of [...results.api.filter((r) => r.id !== 'i' || r.status === 'ok'), ...results.idp]) {
      assert.equal(row.status, 'ok', `${row.label}: ${row.reason ?? ''}`);
      assert.equal(row.rounds.length, results.meta.settings.rounds, row.label);
      for (const figure of [row.rate!.median, row.rate!.min, row.p50Ms!.median, row.p99Ms!.median]) {
        assert.ok(figure > 0 && Number.isFinite(figure), `${row.label}: ${figure}`);
      }
      assert.equal(row.failures, 0, `${row.label}: failed requests`);
    }
    for (const row of results.api.filter((r) => r.id !== 'a')) {
      assert.ok(row.ratioToA!.rate > 0, row.label);
      assert.ok(row.verdicts.length === 0 || row.verdicts.every((v) => typeof v.met === 'boolean'), row.label);
    }
    for (const row of results.spa) {
      if (row.status === 'ok') assert.ok(row.value! > 0, row.label);
      else assert.ok(row.reason && row.reason.length > 0, `${row.label} is n/a without a reason`);
    }
    assert.ok(results.memory.length >= 7);
    for (const m of results.memory) assert.ok(m.rssBytes! > 0, `${m.server} has no RSS`);
    const svg = readFileSync(join(out, 'latest.svg'), 'utf8');
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.ok(svg.includes(API_ROWS.a));
    assert.equal(readFileSync(join(out, 'latest.md'), 'utf8'), stdout);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
