// `npm run typecheck`: `tsc --noEmit` over every TypeScript project in the repository.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readArgumentsOrExit } from '@suite/config';

readArgumentsOrExit({ name: 'typecheck', synopsis: 'npm run typecheck', summary: 'Type-checks every TypeScript project of the repository; takes no arguments.', options: {} });

const root = join(import.meta.dirname, '..');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
// The minimal Angular app the login round trip is compared with (tests/support/peers) is a browser project of its own.
const projects = ['tsconfig.json', 'tests/support/peers/angular/tsconfig.json'];

/** An app whose code has not landed yet has a tsconfig but nothing to check. */
function hasTypeScript(dir: string): boolean {
  return readdirSync(dir, { withFileTypes: true }).some((e) =>
    e.isDirectory() ? !['node_modules', 'dist', 'data'].includes(e.name) && hasTypeScript(join(dir, e.name)) : e.name.endsWith('.ts'));
}
for (const dir of ['apps', 'packages']) {
  for (const name of readdirSync(join(root, dir))) {
    for (const file of ['tsconfig.json', 'tsconfig.app.json', 'tsconfig.spec.json', 'tsconfig.server.json']) {
      const rel = join(dir, name, file);
      // Angular's root tsconfig.json only holds shared options; its app/spec projects are checked.
      if (existsSync(join(root, rel)) && hasTypeScript(join(root, dir, name)) && !(file === 'tsconfig.json' && existsSync(join(root, dir, name, 'tsconfig.app.json')))) {
        projects.push(rel);
      }
    }
  }
}

let failed = 0;
for (const project of projects) {
  const result = spawnSync(process.execPath, [tsc, '--noEmit', '-p', project], { cwd: root, stdio: 'inherit' });
  console.log(`typecheck ${project}: ${result.status === 0 ? 'ok' : 'FAILED'}`);
  if (result.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
