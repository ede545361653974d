// The password-hash tool (`npm run hash-password -w apps/idp`) reads the password from stdin and
// prints its Argon2id hash. Typed at a terminal, the password is never shown and is asked twice:
// run here under a pseudo-terminal (util-linux `script`), typed after each prompt as a person
// would. From a pipe (CI) it is exactly one line; `--verify USERNAME` checks one against the users
// file through the IdP's own loader. (An argument is refused: tests/operator-commands.test.ts.)
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { hashPassword, verifyPassword } from '../src/password-hash.ts';

const CLI = join(import.meta.dirname, '..', 'src', 'cli', 'hash-password.ts');
const SCRIPT = '/usr/bin/script';
const PASSWORD = 'canary-typed-password-7f3a';

/** Runs the tool, writing each step's input once its prompt has been printed (after the previous step's); answers everything printed. */
function run(command: string[], steps: Array<[waitFor: string | undefined, input: string]>, env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  const child = spawn(command[0]!, command.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let output = '';
  let next = 0;
  let seen = 0;
  const send = () => {
    while (next < steps.length) {
      const [waitFor, input] = steps[next]!;
      if (waitFor !== undefined) {
        const at = output.indexOf(waitFor, seen);
        if (at < 0) return;
        seen = at + waitFor.length;
      }
      next++;
      child.stdin.write(input);
    }
    child.stdin.end();
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

const terminal = (args = '') => [SCRIPT, '-q', '-e', '-c', `${process.execPath} ${CLI}${args}`, '/dev/null'];
const hashIn = (output: string) => /\$argon2id\$\S+/.exec(output)?.[0];

test('typed at a terminal, the password is not echoed; asked twice, its hash is printed', async (t) => {
  if (!existsSync(SCRIPT)) return t.skip(`${SCRIPT} (util-linux) is missing`);
  // Enter is a carriage return in raw mode; a typo erased with backspace is not part of it.
  const { code, output } = await run(terminal(), [['Password:', `${PASSWORD}x\u007f\r`], ['Again:', `${PASSWORD}\r`]]);
  assert.equal(code, 0, output);
  assert.ok(!output.includes(PASSWORD), `the password was shown: ${JSON.stringify(output)}`);
  const hash = hashIn(output);
  assert.ok(hash, output);
  assert.equal(await verifyPassword(PASSWORD, hash), true, 'the hash is of what was typed');
});

test('typed at a terminal, a second typing that differs prints no hash', async (t) => {
  if (!existsSync(SCRIPT)) return t.skip(`${SCRIPT} (util-linux) is missing`);
  const { code, output } = await run(terminal(), [['Password:', `${PASSWORD}\r`], ['Again:', `${PASSWORD}-typo\r`]]);
  assert.equal(code, 2, output);
  assert.match(output, /the two passwords differ; nothing printed/);
  assert.equal(hashIn(output), undefined);
});

test('from a pipe, the password is one line without its line ending (\\n or \\r\\n)', async () => {
  for (const ending of ['\n', '\r\n', '']) {
    const { code, output } = await run([process.execPath, CLI], [[undefined, `${PASSWORD}${ending}`]]);
    assert.equal(code, 0, output);
    const hash = hashIn(output);
    assert.ok(hash && await verifyPassword(PASSWORD, hash), `${JSON.stringify(ending)}: ${output}`);
    assert.ok(!output.includes(PASSWORD), output);
  }
});

test('from a pipe, nothing at all, more than one line or a short password is refused with exit 2 and no hash', async () => {
  const cases: Array<[string, RegExp]> = [
    ['', /nothing on stdin/],
    [`${PASSWORD}\nsecond-line\n`, /more than one line on stdin/],
    ['short\n', /shorter than 8 characters/],
  ];
  for (const [input, said] of cases) {
    const { code, output } = await run([process.execPath, CLI], [[undefined, input]]);
    assert.equal(code, 2, `${JSON.stringify(input)}: ${output}`);
    assert.match(output, said);
    assert.equal(hashIn(output), undefined);
  }
});

test('--verify USERNAME checks a password against the users file as the login form would: 0 signs in, 1 not, 2 a file the IdP would refuse', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hash-password-verify-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const usersFile = join(dir, 'users.json');
  writeFileSync(usersFile, JSON.stringify({ users: [{ sub: 'auth0|zoe', username: 'zo\u00eb', passwordHash: await hashPassword(PASSWORD) }] }));
  const verify = (username: string, password: string) => run([process.execPath, CLI, '--verify', username], [[undefined, `${password}\n`]], { IDP_USERS_FILE: usersFile });
  // Typed decomposed and in upper case, as the login form takes it.
  const right = await verify('ZOE\u0308', PASSWORD);
  assert.equal(right.code, 0, right.output);
  assert.match(right.output, /signs in with this password as auth0\|zoe/);
  assert.equal((await verify('zo\u00eb', `${PASSWORD}-wrong`)).code, 1);
  assert.equal((await verify('nobody', PASSWORD)).code, 1);
  for (const out of [right]) assert.ok(!out.output.includes(PASSWORD) && hashIn(out.output) === undefined, out.output);

  writeFileSync(usersFile, JSON.stringify({ users: [{ sub: 'auth0|zoe', username: 'zoe', passwordHash: 'plain-text-password' }] }));
  const refused = await verify('zoe', PASSWORD);
  assert.equal(refused.code, 2, refused.output);
  assert.match(refused.output, /the IdP would not start with this users file: .*passwordHash must be an Argon2id PHC string/);
});
