// Reads a V8 CPU profile (`node --cpu-prof`) of a server under load and says where the time of one
// request goes: each sample is charged to the deepest frame of its stack that one of the categories
// below claims (a signature check inside the verifier counts as the signature, not the verifier);
// what none claims is the work every row shares (node:http, Fastify, the route). Only the samples
// between the first and the last request the process handled count, so start-up and shutdown do not.
// Samples are counted, not timed: on a machine busy with other work the thread is often descheduled,
// and the time between two samples then measures the machine, not the code. The shares are scaled
// to the CPU time the process actually used per request (/proc), which the caller measures.
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  parent?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  startTime: number;
  timeDeltas: number[];
}

export interface Category {
  label: string;
  claims(frame: CallFrame): boolean;
}

export const file = (name: string) => (f: CallFrame) => f.url.endsWith(`/${name}`);
export const fn = (name: string, url?: string) => (f: CallFrame) => f.functionName === name && (url === undefined || f.url.includes(url));

/** What each microsecond over the bare route buys, in the order of a request's path. */
export const CATEGORIES: Category[] = [
  { label: 'signature check (node:crypto.verify)', claims: (f) => f.url === 'node:internal/crypto/sig' },
  { label: 'header and payload: base64url + JSON.parse', claims: fn('decodeJsonObject') },
  { label: 'claim checks, building the principal', claims: (f) => file('access-token-claims.ts')(f) || file('principal.ts')(f) },
  { label: 'JOSE header (cached by its text)', claims: (f) => fn('parseHeader')(f) || fn('checkHeader')(f) },
  { label: 'key lookup (JWKS)', claims: file('jwks.ts') },
  { label: 'verified-token cache', claims: file('verified-token-cache.ts') },
  { label: 'verifier: shape check, signature bytes, glue', claims: (f) => file('verify-access-token.ts')(f) || file('token-validator.ts')(f) },
  { label: 'bearer header (length, count, scheme)', claims: file('bearer-token.ts') },
  { label: 'policy (scope, client)', claims: file('policies.ts') },
  { label: 'authentication hook (glue, no-store header)', claims: file('authentication.ts') },
  { label: 'response headers hook (nosniff, CORS)', claims: (f) => file('response-headers.ts')(f) || file('cors.ts')(f) },
  { label: 'request logger (lazy child)', claims: (f) => file('request-logger.ts')(f) || f.url.includes('/node_modules/pino') },
  { label: 'garbage collection', claims: (f) => f.functionName === '(garbage collector)' },
  // The response's write(2) on loopback: the kernel's TCP work and waking the load generator when
  // it sleeps waiting for this answer, which it does more often the slower the server is.
  { label: 'socket write (kernel: loopback TCP, waking the client)', claims: (f) => f.functionName === 'writeUtf8String' || f.functionName === 'writeBuffer' || f.functionName === 'writev' },
];
const REST = 'the rest: node:http, Fastify, the route, native code';

/** Marks a sample taken while handling a request, on every server. */
const REQUEST_FRAME = (f: CallFrame) => f.functionName === 'parserOnHeadersComplete' || f.functionName === 'parserOnIncoming';

export interface ProfileSummary {
  /** Samples (not idle) between the first and the last request. */
  busy: number;
  /** Samples per category over that window. */
  byCategory: Map<string, number>;
  /** Samples per function (name and file) on top of the stack. */
  selfTime: Map<string, number>;
}

export interface ProfileOptions {
  /** What each sample is charged to, deepest claiming frame first; the rest is charged to `rest`. */
  categories?: Category[];
  rest?: string;
  /**
   * Only the samples taken in this window (µs of the monotonic clock, which on Linux is the
   * profile's own time base and process.hrtime's): for servers whose work runs in promise jobs,
   * whose stacks do not start at the HTTP parser.
   */
  window?: { startUs: number; endUs: number };
}

export function readProfile(path: string, { categories = CATEGORIES, rest = REST, window }: ProfileOptions = {}): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  for (const n of profile.nodes) for (const c of n.children ?? []) byId.get(c)!.parent = n.id;
  const stack = (id: number): ProfileNode[] => {
    const out: ProfileNode[] = [];
    for (let n = byId.get(id); n; n = n.parent === undefined ? undefined : byId.get(n.parent)) out.push(n);
    return out; // leaf first
  };
  let first: number;
  let last: number;
  if (window) {
    let t = profile.startTime;
    const times = profile.timeDeltas.map((d) => (t += d));
    first = times.findIndex((x) => x >= window.startUs);
    last = times.findLastIndex((x) => x <= window.endUs);
  } else {
    const inRequest = profile.samples.map((id) => stack(id).some((n) => REQUEST_FRAME(n.callFrame)));
    first = inRequest.indexOf(true);
    last = inRequest.lastIndexOf(true);
  }
  const byCategory = new Map<string, number>();
  const selfTime = new Map<string, number>();
  let busy = 0;
  for (let i = Math.max(first, 0); i <= last; i++) {
    const us = 1;
    const frames = stack(profile.samples[i]!);
    const leaf = frames[0]!.callFrame;
    if (leaf.functionName === '(idle)') continue;
    busy += us;
    const category = frames.map((n) => categories.find((c) => c.claims(n.callFrame))).find((c) => c !== undefined)?.label ?? rest;
    byCategory.set(category, (byCategory.get(category) ?? 0) + us);
    const self = `${leaf.functionName || '(anonymous)'} ${leaf.url.split('/').slice(-2).join('/')}:${leaf.lineNumber + 1}`;
    selfTime.set(self, (selfTime.get(self) ?? 0) + us);
  }
  return { busy, byCategory, selfTime };
}

/**
 * A markdown table of µs per request by category, and the top functions by self time, given the
 * CPU microseconds per request the process used in the same window.
 */
export function summarizeProfile(path: string, cpuMicrosPerRequest: number, top = 25, opts: ProfileOptions = {}): string {
  const { busy, byCategory, selfTime } = readProfile(path, opts);
  const perRequest = (samples: number) => (cpuMicrosPerRequest * samples / busy).toFixed(2);
  const rows = [...(opts.categories ?? CATEGORIES).map((c) => c.label), opts.rest ?? REST]
    .filter((label) => byCategory.has(label))
    .map((label) => `| ${label} | ${perRequest(byCategory.get(label)!)} |`);
  const selfRows = [...selfTime.entries()].sort((x, y) => y[1] - x[1]).slice(0, top)
    .map(([name, us]) => `| ${name.replaceAll('|', '\\|')} | ${perRequest(us)} |`);
  return [
    `${busy} samples; ${cpuMicrosPerRequest.toFixed(1)} µs of CPU per request (all threads, /proc), shared out in proportion to the samples`,
    '',
    '| where | µs per request |',
    '| --- | ---: |',
    ...rows,
    '',
    '| function (self time) | µs per request |',
    '| --- | ---: |',
    ...selfRows,
  ].join('\n');
}
