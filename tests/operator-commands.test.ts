// Every command an operator runs (each npm script that starts a node program: the servers,
// `npm start`, `rotate-keys`, `hash-password`, the type check, the SPA's build) refuses an argument
// it does not take, before it does anything: exit 2, the option named (with the one meant when
// close) and the usage. An ignored argument was a command doing something else than typed:
// `rotate-keys -- --nwo` a delayed rotation where an immediate one was meant (a compromised key
// signing for 45 s more), `npm start -w apps/idp -- --port 4401` a server on the default port, a
// password given to `hash-password` as an argument left in the shell's history while the tool
// waited for stdin.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const root = join(import.meta.dirname, '..');

/** Every npm script's node program: [package directory, script name, the program's path from the root]. */
function nodePrograms(): Array<[string, string, string]> {
  const dirs = ['.', ...['apps', 'packages'].flatMap((d) => readdirSync(join(root, d)).map((n) => join(d, n)))];
  const found: Array<[string, string, string]> = [];
  for (const dir of dirs) {
    let pkg: { scripts?: Record<string, string> };
    try {
      pkg = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
    } catch {
      continue;
    }
    for (const [name, command] of Object.entries(pkg.scripts ?? {})) {
      // `node [flags] file.ts` anywhere in the command (`ng build && node server/precompress.ts`).
      // `node --test …` (npm run faults) is node's test runner, which refuses an option it does not know.
      for (const m of command.matchAll(/(?:^|&&\s*|;\s*)node\s+((?:--?[\w-]+(?:=\S+)?\s+)*)(\S+\.ts)\b/g)) {
        if (!/(^|\s)--test(\s|$)/.test(m[1]!)) found.push([dir, name, join(dir, m[2]!)]);
      }
    }
  }
  return found;
}

/**
 * Programs that read their arguments otherwise: `npm test` hands its arguments (file patterns)
 * to `node --test`, which refuses an option it does not know itself.
 */
const FORWARDS_ITS_ARGUMENTS = new Set(['scripts/test.ts']);

test('every npm script\'s node program reads its arguments strictly: the shared helper, or parseArgs in strict mode', () => {
  const programs = nodePrograms();
  assert.ok(programs.length >= 9, `the scripts were found: ${programs.map((p) => p[2]).join(', ')}`);
  const lax = programs.filter(([, , file]) => {
    if (FORWARDS_ITS_ARGUMENTS.has(file)) return false;
    const source = readFileSync(join(root, file), 'utf8');
    const helper = /\b(readArgumentsOrExit|refuseArgumentsOrExit)\(/.test(source);
    const strictParseArgs = /\bparseArgs\(/.test(source) && !/strict:\s*false/.test(source) && !/allowPositionals:\s*true/.test(source);
    return !(helper || strictParseArgs);
  });
  assert.deepEqual(lax.map(([dir, name, file]) => `${dir} ${name}: ${file}`), []);
});

test('each operator command refuses a misspelt option and a stray word with exit 2, before doing anything', () => {
  const programs = nodePrograms().filter(([, , file]) => !FORWARDS_ITS_ARGUMENTS.has(file) && !file.startsWith('bench/'));
  for (const [dir, name, file] of programs) {
    const misspelt = spawnSync(process.execPath, [join(root, file), '--nwo'], { cwd: join(root, dir), encoding: 'utf8', timeout: 60_000, env: { ...process.env, IDP_DATA_DIR: '/nonexistent/never-created' } });
    assert.equal(misspelt.status, 2, `${dir} ${name} --nwo: ${misspelt.stderr}`);
    assert.match(misspelt.stderr, /unknown option --nwo/, `${dir} ${name}`);
    assert.match(misspelt.stderr, /^usage: /m, `${dir} ${name}`);
    assert.equal(misspelt.stdout, '', `${dir} ${name}: nothing done`);
    const stray = spawnSync(process.execPath, [join(root, file), 'hunter2-canary'], { cwd: join(root, dir), encoding: 'utf8', timeout: 60_000 });
    assert.equal(stray.status, 2, `${dir} ${name} hunter2-canary: ${stray.stderr}`);
    assert.doesNotMatch(stray.stderr + stray.stdout, /hunter2-canary/, `${dir} ${name}: a stray word may be a password, never repeated`);
  }
});

test('rotate-keys names the option meant', () => {
  const out = spawnSync(process.execPath, [join(root, 'apps/idp/src/cli/rotate-keys.ts'), '--nwo'], { encoding: 'utf8' });
  assert.equal(out.status, 2);
  assert.match(out.stderr, /^rotate-keys: unknown option --nwo \(did you mean --now\?\)/);
});
