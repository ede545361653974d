// `node bench/profile-idp.ts [--alg RS256,ES256] [--processes 1] [--seconds 8] [--out DIR] [--no-profile]`:
// where the CPU of one refresh grant goes, under the bench's own refresh load (10 rotating chains,
// bench/suites/idp.ts). Each IdP is started as the bench starts it, with `--cpu-prof`, signed into,
// warmed up, loaded, then stopped so that it writes its profile. The IdP's CPU is read per thread
// from /proc: the main thread (profiled: oidc-provider, Koa, the store, our code, and since
// decision 0024 the signatures), libuv's pool (where WebCrypto ran every signature before, unseen
// by the profile) and V8's helpers (GC, compilers). `--processes N` starts N IdPs of each
// algorithm in turn, to tell one process's figure from another's.
import { mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { killAll, killChildrenOnExit } from './lib/children.ts';
import { CLOCK_TICKS } from './lib/host-cpu.ts';
import { loginDemoUser, refreshGrant, startIdp } from './lib/idp.ts';
import { runWorkers } from './lib/load.ts';
import { file, summarizeProfile, type Category } from './lib/profile.ts';

const { values: args } = parseArgs({
  options: {
    alg: { type: 'string', default: 'RS256' },
    processes: { type: 'string', default: '1' },
    seconds: { type: 'string', default: '8' },
    out: { type: 'string', default: join(import.meta.dirname, 'results', 'profiles') },
    profile: { type: 'boolean', default: true },
  },
  allowNegative: true,
});
const algs = args.alg!.split(',').map((s) => s.trim());
const seconds = Number(args.seconds);
const outDir = resolve(args.out!);
mkdirSync(outDir, { recursive: true });
const log = (line: string) => process.stderr.write(`[profile] ${line}\n`);

const inPackage = (name: string) => (f: { url: string }) => f.url.includes(`/node_modules/${name}/`);
/** What a refresh grant's main-thread time buys, deepest claiming frame first. */
const IDP_CATEGORIES: Category[] = [
  { label: 'signatures: node:crypto (and jose, WebCrypto)', claims: (f) => inPackage('jose')(f) || f.url.startsWith('node:internal/crypto/') },
  { label: 'store: SQLite statements and the adapter', claims: (f) => f.url.includes('/apps/idp/src/storage/') },
  { label: 'JWT access-token records (access-tokens.ts)', claims: file('access-tokens.ts') },
  { label: 'logging (log.ts)', claims: file('log.ts') },
  { label: 'our Koa middleware and provider hooks', claims: (f) => f.url.includes('/apps/idp/src/') },
  { label: 'oidc-provider', claims: inPackage('oidc-provider') },
  { label: 'Koa, router, cookies', claims: (f) => /\/node_modules\/(koa|@koa|koa-compose|cookies|keygrip|http-errors|statuses|content-type|raw-body|accepts|vary)\//.test(f.url) },
  { label: 'argon2 (none expected)', claims: (f) => f.url.includes('argon2') },
  { label: 'garbage collection', claims: (f) => f.functionName === '(garbage collector)' },
  { label: 'socket write (kernel: loopback TCP)', claims: (f) => f.functionName === 'writeUtf8String' || f.functionName === 'writeBuffer' || f.functionName === 'writev' },
];
const REST = 'the rest: node:http, promises and timers, native code';

type ThreadGroup = string;
/** Node names its threads: MainThread, libuv-worker, V8Worker, and the profiler's own sampler. */
const groupOf = (comm: string): ThreadGroup =>
  comm === 'MainThread' ? 'main thread' : comm === 'libuv-worker' ? 'libuv pool' : comm === 'V8Worker' ? 'V8 helpers (GC, compilers)' : comm;

/** CPU seconds (user + system) per thread group of a process. */
function threadCpu(pid: number): Map<ThreadGroup, number> {
  const out = new Map<ThreadGroup, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cpu = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
      out.set(groupOf(comm), (out.get(groupOf(comm)) ?? 0) + cpu);
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

killChildrenOnExit();
try {
  for (const alg of algs) {
    for (let n = 1; n <= Number(args.processes); n++) {
      const id = `refresh${alg}-${n}`;
      const dir = join(outDir, `tmp-${id}`);
      mkdirSync(dir, { recursive: true });
      const idp = await startIdp(`IdP (${alg})`, {
        IDP_ACCESS_TOKEN_TTL: '3600', IDP_SIGNING_ALG: alg,
        ...(args.profile ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${dir} --cpu-prof-interval=100` } : {}),
      });
      let window: { startUs: number; endUs: number };
      let mainMicrosPerGrant: number;
      try {
        const chains = await Promise.all(Array.from({ length: 10 }, async () => ({ refreshToken: (await loginDemoUser(idp)).refreshToken })));
        const load = (s: number) => runWorkers(chains, s, async (chain) => { chain.refreshToken = (await refreshGrant(idp, chain.refreshToken)).refreshToken; });
        await load(2);
        const before = threadCpu(idp.server.pid);
        const startUs = monotonicUs();
        const sample = await load(seconds);
        window = { startUs, endUs: monotonicUs() };
        const after = threadCpu(idp.server.pid);
        const perGrant = (g: ThreadGroup) => 1e6 * ((after.get(g) ?? 0) - (before.get(g) ?? 0)) / sample.ok;
        const groups = [...after.keys()].map((g) => `${g} ${perGrant(g).toFixed(0)} µs`).join(', ');
        const total = [...after.keys()].reduce((sum, g) => sum + perGrant(g), 0);
        mainMicrosPerGrant = perGrant('main thread');
        log(`${id}: ${Math.round(sample.rate)} grants/s, p50 ${sample.p50Ms.toFixed(1)} ms, ${sample.failures} failed; CPU per grant ${total.toFixed(0)} µs (${Math.round(1e6 / total)} per CPU-second): ${groups}`);
      } finally {
        await idp.stop();
      }
      if (!args.profile) continue;
      const written = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
      if (!written) throw new Error(`${id} wrote no profile`);
      const target = join(outDir, `${id}.cpuprofile`);
      renameSync(join(dir, written), target);
      process.stdout.write(`\n### ${id} (main thread only)\n\n${summarizeProfile(target, mainMicrosPerGrant, 30, { categories: IDP_CATEGORIES, rest: REST, window })}\n`);
    }
  }
} finally {
  killAll();
}
