// `node bench/profile-api.ts [--paths a,b,c,d] [--seconds 8] [--out DIR] [--no-profile] [--pin CPU]`: CPU profiles of the
// API rows under the bench's own load. Each server is started as the bench starts it, with
// `--cpu-prof`, warmed up, loaded with autocannon (10 connections, the same tokens as the bench),
// then stopped so that it writes its profile. `--pin 1` moves each server (every thread) to that
// core with `taskset`; run the script itself pinned to another (`taskset -c 0 node …`) so that the
// load generator and the server never share a core (bench/README.md, "How far one run can be
// trusted"). The profiles open in Chrome DevTools; the summary printed (bench/lib/profile.ts) is
// what bench/README.md's cost tables are made of.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { killAll, killChildrenOnExit } from './lib/children.ts';
import { CLOCK_TICKS } from './lib/host-cpu.ts';
import { mintAccessTokens, startIdp } from './lib/idp.ts';
import { runHttpLoad } from './lib/load.ts';
import { summarizeProfile } from './lib/profile.ts';
import { primeRow, rowAuthorizations, startApiRow, type ApiRowId } from './suites/api.ts';

const { values: args } = parseArgs({
  options: {
    paths: { type: 'string', default: 'a,b,c,d' },
    seconds: { type: 'string', default: '8' },
    out: { type: 'string', default: join(import.meta.dirname, 'results', 'profiles') },
    // --no-profile: the CPU figures alone, without the profiler's own cost.
    profile: { type: 'boolean', default: true },
    pin: { type: 'string' },
  },
  allowNegative: true,
});
const paths = args.paths!.split(',').map((s) => s.trim()) as ApiRowId[];
const seconds = Number(args.seconds);
const outDir = resolve(args.out!);
mkdirSync(outDir, { recursive: true });
const log = (line: string) => process.stderr.write(`[profile] ${line}\n`);

/** User and system CPU seconds of a process, and its context switches (voluntary + not). */
function usage(pid: number): { user: number; system: number; switches: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const count = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return { user: Number(fields[11]) / CLOCK_TICKS, system: Number(fields[12]) / CLOCK_TICKS, switches: count('voluntary_ctxt_switches') + count('nonvoluntary_ctxt_switches') };
}

killChildrenOnExit();
const idp = await startIdp('IdP (RS256)', { IDP_ACCESS_TOKEN_TTL: '3600', IDP_SIGNING_ALG: 'RS256' });
try {
  const tokens = await mintAccessTokens(idp, 1000);
  for (const id of paths) {
    const dir = join(outDir, `tmp-${id}`);
    mkdirSync(dir, { recursive: true });
    // A 100 µs sampling interval: a request costs tens of microseconds.
    const started = await startApiRow(id, idp.issuer, args.profile ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${dir} --cpu-prof-interval=100` } : {});
    let cpuMicrosPerRequest: number;
    try {
      if (args.pin !== undefined) execFileSync('taskset', ['-a', '-cp', args.pin, String(started.server.pid)], { stdio: 'ignore' });
      const load = { url: started.url, connections: 10, authorizations: rowAuthorizations(id, tokens) };
      await primeRow(started.server, id, tokens);
      const before = usage(started.server.pid);
      const warm = await runHttpLoad({ ...load, seconds: 2 });
      const sample = await runHttpLoad({ ...load, seconds });
      const after = usage(started.server.pid);
      const requests = warm.ok + sample.ok;
      const micros = (seconds: number) => (1e6 * seconds / requests).toFixed(1);
      cpuMicrosPerRequest = 1e6 * (after.user + after.system - before.user - before.system) / requests;
      log(`(${id}): ${Math.round(sample.rate)} req/s; CPU per request ${cpuMicrosPerRequest.toFixed(1)} µs: user ${micros(after.user - before.user)}, system ${micros(after.system - before.system)}; ${((after.switches - before.switches) / requests).toFixed(2)} context switches per request`);
    } finally {
      await started.stop();
    }
    if (!args.profile) continue;
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error(`(${id}) wrote no profile`);
    const target = join(outDir, `${id}.cpuprofile`);
    renameSync(join(dir, file), target);
    process.stdout.write(`\n### (${id})\n\n${summarizeProfile(target, cpuMicrosPerRequest)}\n`);
  }
} finally {
  await idp.stop();
  killAll();
}
