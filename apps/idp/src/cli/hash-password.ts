// Prints an Argon2id hash for a users file: `npm run hash-password -w apps/idp` (reads the password
// from stdin). Typed at a terminal, the password is not shown: no echo, as `passwd` and `ssh` ask
// for one, so it stays off the screen, the terminal's scrollback and any recording of the session.
import { createInterface } from 'node:readline/promises';
import { hashPassword } from '../password-hash.ts';

const CTRL_C = '\u0003';
const CTRL_D = '\u0004';
const ERASE = new Set(['\u007f', '\b']);

/** One line from a terminal, read in raw mode without echoing it. */
function readHidden(prompt: string): Promise<string> {
  const input = process.stdin;
  // Raw mode (no echo by the terminal either) before the prompt: nothing typed after it is shown.
  input.setRawMode(true);
  process.stderr.write(prompt);
  input.setEncoding('utf8');
  input.resume();
  return new Promise((resolve) => {
    let value = '';
    const done = () => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      process.stderr.write('\n');
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === CTRL_D) {
          done();
          return resolve(value);
        }
        if (ch === CTRL_C) {
          done();
          process.exit(130);
        }
        if (ERASE.has(ch)) value = value.slice(0, -1);
        else if (ch >= ' ') value += ch;
      }
    };
    input.on('data', onData);
  });
}

/** One line from a pipe or a file. */
async function readLine(prompt: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: false });
  const line = await rl.question(prompt);
  rl.close();
  return line;
}

const password = process.stdin.isTTY ? await readHidden('Password: ') : await readLine('Password: ');
if (password.length < 8) {
  console.error('Refusing a password shorter than 8 characters.');
  process.exit(2);
}
console.log(await hashPassword(password));
