import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

test('the README configuration tables and .env.example match the apps\' schemas', () => {
  const result = spawnSync(process.execPath, [join(import.meta.dirname, '..', 'scripts', 'config-docs.ts'), '--check'], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
});
