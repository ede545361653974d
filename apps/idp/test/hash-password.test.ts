// The password-hash tool (`npm run hash-password -w apps/idp`) reads the password from stdin and
// prints its Argon2id hash. Typed at a terminal, the password is never shown: run here under a
// pseudo-terminal (util-linux `script`), typed after the prompt as a person would.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { verifyPassword } from '../src/password-hash.ts';

const CLI = join(import.meta.dirname, '..', 'src', 'cli', 'hash-password.ts');
const SCRIPT = '/usr/bin/script';
const PASSWORD = 'canary-typed-password-7f3a';

/** Runs the tool with `input` written once `waitFor` has been printed; answers everything printed. */
function run(command: string[], input: string, waitFor?: string): Promise<{ code: number | null; output: string }> {
  const child = spawn(command[0]!, command.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  let sent = false;
  const send = () => {
    if (sent || (waitFor !== undefined && !output.includes(waitFor))) return;
    sent = true;
    child.stdin.write(input);
  };
  child.stdout.on('data', (b: Buffer) => { output += b.toString(); send(); });
  child.stderr.on('data', (b: Buffer) => { output += b.toString(); send(); });
  send();
  // A hang bound only.
  const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) => child.on('close', (code) => {
    clearTimeout(guard);
    resolve({ code, output });
  }));
}

test('typed at a terminal, the password is not echoed; its hash is printed', async (t) => {
  if (!existsSync(SCRIPT)) return t.skip(`${SCRIPT} (util-linux) is missing`);
  // Enter is a carriage return in raw mode; a typo erased with backspace is not part of it.
  const { code, output } = await run([SCRIPT, '-q', '-e', '-c', `${process.execPath} ${CLI}`, '/dev/null'], `${PASSWORD}x\u007f\r`, 'Password:');
  assert.equal(code, 0, output);
  assert.ok(!output.includes(PASSWORD), `the password was shown: ${JSON.stringify(output)}`);
  const hash = /\$argon2id\$\S+/.exec(output)?.[0];
  assert.ok(hash, output);
  assert.equal(await verifyPassword(PASSWORD, hash), true, 'the hash is of what was typed');
});

test('from a pipe, the password is read as one line', async () => {
  const { code, output } = await run([process.execPath, CLI], `${PASSWORD}\n`);
  assert.equal(code, 0, output);
  const hash = /\$argon2id\$\S+/.exec(output)?.[0];
  assert.ok(hash && await verifyPassword(PASSWORD, hash), output);
  assert.ok(!output.includes(PASSWORD), output);
});
