// The V8 options of the API's process (src/node-flags.ts) are the ones every way of starting it
// passes, and the Node in use accepts them (an unknown V8 option stops Node at start-up).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { apps } from '../../../scripts/apps.ts';
import { API_NODE_FLAGS } from '../src/node-flags.ts';

const packageJson = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as { scripts: { start: string } };

test('`npm start -w apps/api` passes the API\'s Node options', () => {
  assert.equal(packageJson.scripts.start, ['node', ...API_NODE_FLAGS, 'src/server.ts'].join(' '));
});

test('the root `npm start` passes the API\'s Node options', () => {
  assert.deepEqual(apps.find((a) => a.name === 'api')?.nodeFlags, API_NODE_FLAGS);
});

test('this Node accepts every one of them', () => {
  const run = spawnSync(process.execPath, [...API_NODE_FLAGS, '-e', 'process.exit(0)'], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const bogus = spawnSync(process.execPath, ['--no-such-v8-option-here', '-e', 'process.exit(0)'], { encoding: 'utf8' });
  assert.notEqual(bogus.status, 0, 'an unknown option must stop Node, or this test proves nothing');
});
