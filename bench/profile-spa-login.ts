// `node bench/profile-spa-login.ts [--logins 4] [--mode token|bff] [--out DIR] [--analyze]`: where
// the main thread of the return page goes, token mode's (the default) or BFF mode's. Each login is
// the bench's (a fresh browser context, "Log in", the IdP's form; one discarded first), with a CDP
// CPU profile of the page (100 µs sampling) from "Sign in" to the API's answer on screen, written
// as a .cpuprofile and summarised through the build's source maps: build the SPA with
// `ng build --source-map` first, or the names are the minifier's. `--analyze` summarises the
// profiles already in DIR. Run it under the measurement lock.
//
// "(program)" is the main thread's work outside JavaScript (compiling, Chromium's code caches,
// style, layout, paint); "(idle)" is left out. On a busy machine a sample that found the thread
// descheduled counts for the function it was in: read one login's figures with care, and the
// medians over several.
import { mkdirSync, readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../tests/support/chromium.ts';
import { median } from './lib/stats.ts';
import { openFilledLoginForm } from './suites/browser-login.ts';
import { startLoginSystem } from './suites/login-system.ts';

const { values: args } = parseArgs({
  options: {
    logins: { type: 'string', default: '4' },
    mode: { type: 'string', default: 'token' },
    out: { type: 'string', default: join(import.meta.dirname, 'results', 'spa-profiles') },
    analyze: { type: 'boolean', default: false },
  },
});
const outDir = resolve(args.out!);
const distDir = join(import.meta.dirname, '..', 'apps', 'spa', 'dist', 'spa', 'browser');
const ANSWER_TEXT = 'user one data';

interface CallFrame { functionName: string; url: string; lineNumber: number; columnNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
interface Profile { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] }

async function profileLogins(logins: number): Promise<void> {
  const system = await startLoginSystem({ allowBuild: false, log: (line) => console.error(line) });
  if (typeof system === 'string') throw new Error(system);
  if (typeof system.spa === 'string') throw new Error(system.spa);
  if (typeof system.bff === 'string') throw new Error(system.bff);
  const url = args.mode === 'bff' ? system.bff.url : system.spa.url;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    for (let i = 0; i <= logins; i++) {
      const context = await browser.newContext();
      // The page reports the answer itself: Playwright's wait for a text polls the DOM, in the profile.
      let shown: () => void = () => {};
      const onScreen = new Promise<void>((done) => (shown = done));
      await context.exposeBinding('__answerShown', () => shown());
      await context.addInitScript(`new MutationObserver(() => { if (document.body?.textContent.includes(${JSON.stringify(ANSWER_TEXT)})) window.__answerShown(); })
        .observe(document, { childList: true, subtree: true, characterData: true });`);
      const page = await context.newPage();
      await openFilledLoginForm(page, url);
      const cdp = await context.newCDPSession(page);
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
      await cdp.send('Profiler.start');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await onScreen;
      const { profile } = (await cdp.send('Profiler.stop')) as unknown as { profile: Profile };
      await context.close();
      if (i > 0) writeFileSync(join(outDir, `login-${i}.cpuprofile`), JSON.stringify(profile));
    }
  } finally {
    await browser.close();
    await system.stop();
  }
}

const maps = new Map<string, SourceMap | null>();

/** "function source:line" through the build's source map, when there is one. */
function nameOf(frame: CallFrame): string {
  if (!frame.url || frame.lineNumber < 0) return frame.functionName || '(program)';
  const file = frame.url.split('?')[0]!.split('/').pop()!;
  if (!maps.has(file)) {
    const path = join(distDir, `${file}.map`);
    maps.set(file, existsSync(path) ? new SourceMap(JSON.parse(readFileSync(path, 'utf8'))) : null);
  }
  const entry = maps.get(file)?.findEntry(frame.lineNumber, frame.columnNumber);
  if (!entry || !('originalSource' in entry)) return `${frame.functionName || '(anonymous)'} ${file}`;
  const source = entry.originalSource.replace(/^.*node_modules\//, '').replace(/^.*\/src\//, 'src/');
  return `${(entry as { name?: string }).name ?? frame.functionName} ${source}:${entry.originalLine + 1}`;
}

/** The package a named frame is in ('app' for our sources). */
function packageOf(name: string): string {
  const source = / ([^ ]+):\d+$/.exec(name)?.[1];
  if (!source) return name.startsWith('(') ? name : 'other';
  if (source.startsWith('src/')) return 'app';
  return source.startsWith('@') ? source.split('/').slice(0, 2).join('/') : source.split('/')[0]!;
}

/** ms of samples per function, inclusive (each function once per sample), and per package, self. */
function summarise(profile: Profile): { total: Map<string, number>; selfByPackage: Map<string, number>; busyMs: number } {
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const names = new Map(profile.nodes.map((n) => [n.id, nameOf(n.callFrame)]));
  const total = new Map<string, number>();
  const selfByPackage = new Map<string, number>();
  let busyMs = 0;
  for (let s = 0; s < profile.samples.length; s++) {
    const ms = (profile.timeDeltas[s + 1] ?? 0) / 1000;
    const leaf = profile.samples[s]!;
    if (names.get(leaf) === '(idle)') continue;
    busyMs += ms;
    const pkg = packageOf(names.get(leaf)!);
    selfByPackage.set(pkg, (selfByPackage.get(pkg) ?? 0) + ms);
    const seen = new Set<string>();
    for (let id: number | undefined = leaf; id !== undefined; id = parent.get(id)) seen.add(names.get(id)!);
    for (const name of seen) total.set(name, (total.get(name) ?? 0) + ms);
  }
  return { total, selfByPackage, busyMs };
}

/** Medians over the profiles (a function absent from one counts 0 there), largest first. */
function medians(maps: Map<string, number>[]): [string, number][] {
  const keys = new Set(maps.flatMap((m) => [...m.keys()]));
  return [...keys].map((k): [string, number] => [k, median(maps.map((m) => m.get(k) ?? 0))]).sort((a, b) => b[1] - a[1]);
}

mkdirSync(outDir, { recursive: true });
if (!args.analyze) await profileLogins(Number(args.logins));
const profiles = readdirSync(outDir).filter((f) => f.endsWith('.cpuprofile')).sort()
  .map((f) => summarise(JSON.parse(readFileSync(join(outDir, f), 'utf8')) as Profile));
const line = ([name, ms]: [string, number]) => `${ms.toFixed(1).padStart(7)}  ${name}`;
console.log(`${profiles.length} profiles in ${outDir}; main thread busy (median): ${median(profiles.map((p) => p.busyMs)).toFixed(0)} ms`);
console.log('\nself time by package (ms, median):');
for (const row of medians(profiles.map((p) => p.selfByPackage)).slice(0, 15)) console.log(line(row));
console.log('\ninclusive time by function, ours, the OIDC library and Angular\'s (ms, median; rxjs left out):');
for (const row of medians(profiles.map((p) => p.total)).filter(([name]) => !name.includes('rxjs/')).slice(0, 120)) console.log(line(row));
