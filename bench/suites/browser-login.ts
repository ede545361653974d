// The browser login round trip, measured the same way for every app: headless Chromium, a fresh
// context per login, from submitting the IdP's login form to the first frame painting the API's
// answer ("user one data"), with where the time went read from the app page's own Resource
// Timing and Long Animation Frame entries. The apps take turns, run after run, so load from
// elsewhere on the machine falls on all of them alike.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chromium, type Browser, type Page, type Request } from 'playwright-core';
import { readCpuSeconds, type ServerProcess } from '../lib/children.ts';
import { DEMO_USER } from '../lib/idp.ts';
import { firstLine } from '../lib/rows.ts';
import { median } from '../lib/stats.ts';
import { CHROMIUM, CHROMIUM_ARGS } from '../../tests/support/chromium.ts';

export { CHROMIUM };
const STEP_TIMEOUT_MS = 15_000;
const MAX_FAILED_RUNS = 3;
const ANSWER_TEXT = 'user one data';

/** An app signing in through the IdP's login form and showing the API's answer. */
export interface BrowserApp {
  id: string;
  /** The page with the app's "Log in" button. */
  url: string;
  /** A selector present once the page's "Log in" does something (none: the button appears then). */
  readySelector?: string;
  /** The IdP's token endpoint, to tell the token request apart. */
  tokenEndpoint: string;
}

/** Something measured once per run: a browser login, or the browserless baseline. */
export interface Contender {
  id: string;
  /** One measurement: its total in ms, and the breakdown when there is one. */
  once(): Promise<{ totalMs: number; breakdown?: Breakdown; timeline?: string[] }>;
}

/**
 * Milliseconds after the form submission at which each step was seen (`…Start`/`…End` for a
 * request: when the page asked and when the answer was complete). Absent: not part of this app's flow.
 */
export interface Breakdown {
  /** The IdP answered the form post (the password verified). */
  formAnswered?: number;
  /** The browser back on the app's origin (the first document response there). */
  backAtApp?: number;
  /** The app's page (after the IdP's redirects) received. */
  document?: number;
  /** Its scripts, from the first asked to the last received (lazy chunks included). */
  scriptsStart?: number;
  scriptsEnd?: number;
  /** DOMContentLoaded ended: the page's initial scripts have run. */
  domContentLoaded?: number;
  discoveryStart?: number;
  discoveryEnd?: number;
  keysStart?: number;
  keysEnd?: number;
  tokenStart?: number;
  tokenEnd?: number;
  userinfoStart?: number;
  userinfoEnd?: number;
  /** BFF mode: GET /bff/user. */
  sessionStart?: number;
  sessionEnd?: number;
  apiStart?: number;
  apiEnd?: number;
  onScreen: number;
  /** Main-thread time in long animation frames (≥ 50 ms) of the app page until on screen. */
  longFramesMs?: number;
  /** CPU time Chromium's processes used from the submission to the answer on screen. */
  browserCpuMs?: number;
  /** CPU time the system's servers (IdP, API, SPA server or BFF) used over the same time. */
  serverCpuMs?: number;
}

export interface ContenderResult {
  id: string;
  samplesMs: number[];
  medianMs: number;
  /** Median of each step over the runs that saw it. */
  breakdown: Partial<Breakdown>;
  /** The run closest to the median: every response after the submission, and the page's resources. */
  typicalTimeline: string[];
  failedRuns: string[];
}

/** Runs every contender `runs` times, taking turns (each run starts one contender later), after one discarded run each. */
export async function measureInTurns(contenders: Contender[], runs: number): Promise<Map<string, ContenderResult | string>> {
  type Sample = Awaited<ReturnType<Contender['once']>>;
  const samples = new Map<string, Sample[]>(contenders.map((c) => [c.id, []]));
  const failures = new Map<string, string[]>(contenders.map((c) => [c.id, []]));
  const gaveUp = new Set<string>();
  // The first login of each warms the servers and the browser: discarded.
  for (const c of contenders) await c.once().catch(() => undefined);
  for (let run = 0; run < runs; run++) {
    for (let i = 0; i < contenders.length; i++) {
      const c = contenders[(i + run) % contenders.length]!;
      // A run that fails (a step timing out) is retried, a few times at most, and counted.
      while (!gaveUp.has(c.id)) {
        try {
          samples.get(c.id)!.push(await c.once());
          break;
        } catch (err) {
          const failed = failures.get(c.id)!;
          failed.push(firstLine(err));
          if (failed.length > MAX_FAILED_RUNS) gaveUp.add(c.id);
        }
      }
    }
  }
  const results = new Map<string, ContenderResult | string>();
  for (const c of contenders) {
    const done = samples.get(c.id)!;
    const failed = failures.get(c.id)!;
    if (done.length < runs) {
      results.set(c.id, `${failed.length} runs failed, the last with: ${failed.at(-1)}`);
      continue;
    }
    const samplesMs = done.map((s) => s.totalMs);
    const medianMs = median(samplesMs);
    const typical = done.reduce((best, s) => (Math.abs(s.totalMs - medianMs) < Math.abs(best.totalMs - medianMs) ? s : best));
    const breakdowns = done.flatMap((s) => (s.breakdown ? [s.breakdown] : []));
    results.set(c.id, {
      id: c.id, samplesMs, medianMs, breakdown: medianBreakdown(breakdowns), typicalTimeline: typical.timeline ?? [], failedRuns: failed,
    });
  }
  return results;
}

/** Median of each step over the runs where it was seen. */
export function medianBreakdown(runs: Breakdown[]): Partial<Breakdown> {
  const out: Record<string, number> = {};
  const keys = new Set(runs.flatMap((r) => Object.keys(r)));
  for (const k of keys) {
    const values = runs.map((r) => r[k as keyof Breakdown]).filter((v): v is number => typeof v === 'number');
    if (values.length) out[k] = median(values);
  }
  return out as Partial<Breakdown>;
}

export async function launchBenchBrowser(): Promise<Browser | string> {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is not installed`;
  try {
    return await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
  } catch (err) {
    return `Chromium did not start: ${firstLine(err)}`;
  }
}

/** A contender logging in with `app` in `browser`; `servers`: whose CPU time to count. */
export function browserLogin(browser: Browser, app: BrowserApp, servers: ServerProcess[]): Contender {
  return { id: app.id, once: () => oneLogin(browser, app, servers) };
}

/**
 * CPU seconds so far of every Chromium process this bench started (descendants of this process
 * named chrom*), by pid. On a machine shared with other work the wall-clock time of a login
 * stretches with the contention; the CPU time it costs does much less.
 */
function chromiumCpuByPid(): Map<number, number> {
  const children = new Map<number, number[]>();
  const names = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      names.set(Number(entry), stat.slice(stat.indexOf('(') + 1, close));
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const out = new Map<number, number>();
  const queue = [...(children.get(process.pid) ?? [])];
  while (queue.length) {
    const pid = queue.shift()!;
    queue.push(...(children.get(pid) ?? []));
    if (!names.get(pid)?.startsWith('chrom')) continue;
    const cpu = readCpuSeconds(pid);
    if (cpu !== undefined) out.set(pid, cpu);
  }
  return out;
}

/** CPU seconds between two snapshots, for the processes alive at the second (new ones counted whole). */
function cpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, cpu] of after) total += cpu - (before.get(pid) ?? 0);
  return total;
}

function serversCpu(servers: ServerProcess[]): number | undefined {
  const values = servers.map((s) => s.cpuSeconds());
  return values.every((v) => v !== undefined) ? values.reduce((a, b) => a! + b!, 0) : undefined;
}

/**
 * Runs in every document of the bench's browser context: reports, on the page's own clock (epoch
 * milliseconds with fractions), when the login form is submitted and the first animation frame
 * after the API's answer entered the DOM. Polling from outside the page would add its own interval.
 */
const PAGE_PROBE = `(() => {
  const mark = (name) => window.__benchMark(name, performance.timeOrigin + performance.now());
  document.addEventListener('submit', () => mark('submit'), true);
  let seen = false;
  const check = () => {
    if (seen || !document.body || !document.body.textContent.includes(${JSON.stringify(ANSWER_TEXT)})) return;
    seen = true;
    requestAnimationFrame(() => mark('onScreen'));
  };
  new MutationObserver(check).observe(document, { childList: true, subtree: true, characterData: true });
})();`;

const epochNow = () => performance.timeOrigin + performance.now();

/** What the app page's own performance timeline says, in epoch milliseconds. */
interface PageTimings {
  document: { responseEnd: number; domContentLoaded: number } | null;
  resources: { name: string; type: string; start: number; end: number; cached: boolean }[];
  longFrames: { start: number; duration: number; scripts: { source: string; duration: number }[] }[];
}

/** The browser's performance entries read here (the bench is type-checked without the DOM's types). */
interface Entry { name: string; startTime: number; duration: number }
interface BrowserPerformance {
  timeOrigin: number;
  getEntriesByType(type: 'navigation'): (Entry & { responseEnd: number; domContentLoadedEventEnd: number })[];
  getEntriesByType(type: 'resource'): (Entry & { initiatorType: string; responseEnd: number; transferSize: number; decodedBodySize: number })[];
  // Long Animation Frames (Chromium 123+): main-thread work in frames of 50 ms or more, by script.
  getEntriesByType(type: 'long-animation-frame'): (Entry & { scripts?: { sourceURL: string; invoker: string; duration: number }[] })[];
}

/** Evaluated in the app page once the answer is on screen. */
function readPageTimings(): PageTimings {
  const perf = performance as unknown as BrowserPerformance;
  const at = (t: number) => perf.timeOrigin + t;
  const nav = perf.getEntriesByType('navigation')[0];
  const resources = perf.getEntriesByType('resource').map((r) => ({
    name: r.name, type: r.initiatorType, start: at(r.startTime), end: at(r.responseEnd), cached: r.transferSize === 0 && r.decodedBodySize > 0,
  }));
  const longFrames = perf.getEntriesByType('long-animation-frame').map((f) => ({
    start: at(f.startTime), duration: f.duration,
    scripts: (f.scripts ?? []).map((s) => ({ source: s.sourceURL || s.invoker, duration: s.duration })),
  }));
  return { document: nav ? { responseEnd: at(nav.responseEnd), domContentLoaded: at(nav.domContentLoadedEventEnd) } : null, resources, longFrames };
}

/**
 * The bench's login up to "Sign in": opens the app at `url` (ready once `readySelector` matches, if
 * given), follows its "Log in" to the IdP's form and fills in the demo user's credentials.
 */
export async function openFilledLoginForm(page: Page, url: string, readySelector?: string): Promise<void> {
  await page.goto(url);
  if (readySelector) await page.locator(readySelector).waitFor();
  await page.getByRole('button', { name: 'Log in', exact: true }).first().click();
  await page.getByLabel('Username').fill(DEMO_USER.username);
  await page.getByLabel('Password').fill(DEMO_USER.password);
}

/** One login in a fresh browser context (no cookies, no storage, no cache). */
async function oneLogin(browser: Browser, app: BrowserApp, servers: ServerProcess[]): Promise<{ totalMs: number; breakdown: Breakdown; timeline: string[] }> {
  const context = await browser.newContext();
  try {
    const marks = new Map<string, number>();
    let answerShown: () => void = () => {};
    const shown = new Promise<void>((resolve) => { answerShown = resolve; });
    await context.exposeBinding('__benchMark', (_source, name: string, at: number) => {
      if (!marks.has(name)) marks.set(name, at);
      if (name === 'onScreen') answerShown();
    });
    await context.addInitScript(PAGE_PROBE);
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    await openFilledLoginForm(page, app.url, app.readySelector);
    const responses: { at: number; url: string; method: string; document: boolean }[] = [];
    // When each response ended, on the browser's own clock (Playwright's request timing: wall-clock
    // start plus offsets), so the steps compare with the in-page marks without event-delivery lag.
    const record = (req: Request) => {
      const t = req.timing();
      const at = t.startTime > 0 && t.responseEnd >= 0 ? t.startTime + t.responseEnd : epochNow();
      responses.push({ at, url: req.url(), method: req.method(), document: req.resourceType() === 'document' });
    };
    page.on('requestfinished', record);
    page.on('requestfailed', record);
    const cpuBefore = { browser: chromiumCpuByPid(), servers: serversCpu(servers) };
    await page.getByRole('button', { name: 'Sign in' }).click();
    // Waiting on the probe's mark, not with Playwright's waitFor: that polls the page's whole DOM
    // for the text on every frame, main-thread work inside the timed window that grows with the
    // app's DOM. The text is checked once afterwards.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([shown, new Promise<void>((_, reject) => { timer = setTimeout(() => reject(new Error(`"${ANSWER_TEXT}" not on screen within ${STEP_TIMEOUT_MS} ms`)), STEP_TIMEOUT_MS); })])
      .finally(() => clearTimeout(timer));
    const cpuAfter = { browser: chromiumCpuByPid(), servers: serversCpu(servers) };
    if (!(await page.getByText(ANSWER_TEXT).first().isVisible())) throw new Error(`the probe saw "${ANSWER_TEXT}" but it is not visible`);
    const submit = marks.get('submit');
    const onScreen = marks.get('onScreen');
    if (submit === undefined || onScreen === undefined) throw new Error('the page probe did not report the form submission and the answer on screen');
    const timings = await page.evaluate(readPageTimings);
    const appOrigin = new URL(app.url).origin;
    const breakdown = breakdownOf(submit, onScreen, responses, timings, app.tokenEndpoint, appOrigin);
    breakdown.browserCpuMs = cpuBetween(cpuBefore.browser, cpuAfter.browser) * 1000;
    if (cpuBefore.servers !== undefined && cpuAfter.servers !== undefined) breakdown.serverCpuMs = (cpuAfter.servers - cpuBefore.servers) * 1000;
    const timeline = [
      ...responses.filter((r) => r.at >= submit).sort((x, y) => x.at - y.at).map((r) => `${(r.at - submit).toFixed(0)} ms ${r.method} ${r.url.split('?', 1)[0]}`),
      ...timings.resources.map((r) => `app page: ${r.type} ${r.name.split('?', 1)[0]} ${(r.start - submit).toFixed(0)}–${(r.end - submit).toFixed(0)} ms${r.cached ? ' (cache)' : ''}`),
      ...timings.longFrames.filter((f) => f.start + f.duration >= submit).map((f) => `app page: long frame at ${(f.start - submit).toFixed(0)} ms, ${f.duration.toFixed(0)} ms: ${f.scripts.map((s) => `${s.source.split('?', 1)[0]!.split('/').pop() || s.source} ${s.duration.toFixed(0)} ms`).join(', ') || 'no script attributed'}`),
    ];
    return { totalMs: onScreen - submit, breakdown, timeline };
  } finally {
    await context.close();
  }
}

/** The steps of one login, in ms after the submission. */
export function breakdownOf(submit: number, onScreen: number, responses: { at: number; url: string; method: string; document: boolean }[],
  timings: PageTimings, tokenEndpoint: string, appOrigin: string): Breakdown {
  const after = (t: number) => t - submit;
  const out: Breakdown = { onScreen: after(onScreen) };
  const firstResponse = (match: (r: (typeof responses)[number]) => boolean) => responses.find((r) => r.at >= submit && match(r))?.at;
  const formAnswered = firstResponse((r) => r.method === 'POST' && new URL(r.url).pathname.endsWith('/login'));
  const backAtApp = firstResponse((r) => r.document && new URL(r.url).origin === appOrigin);
  if (formAnswered !== undefined) out.formAnswered = after(formAnswered);
  if (backAtApp !== undefined) out.backAtApp = after(backAtApp);
  if (timings.document) {
    out.document = after(timings.document.responseEnd);
    if (timings.document.domContentLoaded > 0) out.domContentLoaded = after(timings.document.domContentLoaded);
  }
  const beforeAnswer = timings.resources.filter((r) => r.start <= onScreen);
  const span = (key: 'scripts' | 'discovery' | 'keys' | 'token' | 'userinfo' | 'session' | 'api', match: (url: URL, type: string) => boolean) => {
    const hits = beforeAnswer.filter((r) => match(new URL(r.name), r.type));
    if (hits.length === 0) return;
    out[`${key}Start`] = after(Math.min(...hits.map((h) => h.start)));
    out[`${key}End`] = after(Math.max(...hits.map((h) => h.end)));
  };
  const token = new URL(tokenEndpoint);
  span('scripts', (_url, type) => type === 'script');
  span('discovery', (url) => url.pathname.endsWith('/.well-known/openid-configuration'));
  span('keys', (url) => url.pathname.endsWith('/jwks.json') || url.pathname.endsWith('/jwks'));
  span('token', (url) => url.origin === token.origin && url.pathname === token.pathname);
  span('userinfo', (url) => url.pathname.endsWith('/userinfo') || url.pathname.endsWith('/me'));
  span('session', (url) => url.pathname === '/bff/user');
  span('api', (url) => url.pathname === '/api/UserOne');
  const frames = timings.longFrames.filter((f) => f.start <= onScreen && f.start + f.duration >= (timings.document?.responseEnd ?? submit));
  if (frames.length) out.longFramesMs = frames.reduce((sum, f) => sum + f.duration, 0);
  return out;
}

/** One line per row: the median steps in the order they happen. */
export function breakdownText(b: Partial<Breakdown>): string {
  const ms = (v: number | undefined) => (v === undefined ? undefined : `${v.toFixed(0)}`);
  const parts: string[] = [];
  const point = (label: string, v: number | undefined) => { if (v !== undefined) parts.push(`${label} ${ms(v)}`); };
  const range = (label: string, start: number | undefined, end: number | undefined) => {
    if (start !== undefined && end !== undefined) parts.push(`${label} ${ms(start)}–${ms(end)}`);
  };
  point('form answered', b.formAnswered);
  point('back at the app', b.backAtApp);
  point('page', b.document);
  range('scripts', b.scriptsStart, b.scriptsEnd);
  point('DOMContentLoaded', b.domContentLoaded);
  range('discovery', b.discoveryStart, b.discoveryEnd);
  range('key set', b.keysStart, b.keysEnd);
  range('token request', b.tokenStart, b.tokenEnd);
  range('userinfo', b.userinfoStart, b.userinfoEnd);
  range('/bff/user', b.sessionStart, b.sessionEnd);
  range('API call', b.apiStart, b.apiEnd);
  point('on screen', b.onScreen);
  const render = b.onScreen !== undefined && b.apiEnd !== undefined ? b.onScreen - b.apiEnd : undefined;
  return `ms after the form submission (medians): ${parts.join(', ')}` +
    (render !== undefined ? `; render after the API's answer ${ms(render)} ms` : '') +
    (b.longFramesMs !== undefined ? `; main thread in long frames on the app page ${ms(b.longFramesMs)} ms` : '') +
    (b.browserCpuMs !== undefined ? `; CPU: Chromium ${ms(b.browserCpuMs)} ms` : '') +
    (b.serverCpuMs !== undefined ? `, servers ${ms(b.serverCpuMs)} ms` : '');
}
