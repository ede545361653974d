// Prints an Argon2id hash for a users file: `npm run hash-password -w apps/idp` (reads the password
// from stdin). Typed at a terminal, the password is not shown: no echo, as `passwd` and `ssh` ask
// for one, so it stays off the screen, the terminal's scrollback and any recording of the session;
// it is asked twice, so that a typo is not hashed. From a pipe (CI), it is the first line,
// without its line ending (\n or \r\n); empty input or more than one line is refused.
// The password is never taken as an argument: it would stay in the shell's history and show in
// `ps` to every user of the machine. Any argument but `--verify USERNAME` is refused.
// `-- --verify USERNAME` checks a password against that user's hash in IDP_USERS_FILE through the
// IdP's own loader (the file must load as the IdP would load it; the username is matched as at the
// login form): exit 0 when it signs in, 1 when not. Exit 2: refused input or arguments.
import { readArgumentsOrExit } from '@suite/config';
import { readIdpConfig } from '../config.ts';
import { PASSWORD_MIN_LENGTH } from '../defaults.ts';
import { hashPassword } from '../password-hash.ts';
import { loadUsers, UsersFileError } from '../users.ts';

const args = readArgumentsOrExit({
  name: 'hash-password',
  synopsis: 'npm run hash-password -w apps/idp [-- --verify USERNAME]',
  summary: 'Reads a password (typed without echo, or the first line of a pipe) and prints its Argon2id hash for a users file.\nThe password is never an argument: it would stay in the shell history and show in ps.',
  options: { verify: { type: 'string', value: 'USERNAME', doc: 'check the password against USERNAME\'s hash in IDP_USERS_FILE, as the login form would (exit 0 signs in, 1 does not)' } },
});

const CTRL_C = '\u0003';
const CTRL_D = '\u0004';
const ERASE = new Set(['\u007f', '\b']);

function refuse(message: string): never {
  console.error(`hash-password: ${message}`);
  process.exit(2);
}

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

/**
 * The password from a pipe or a file: all of stdin, which must be one line (its \n or \r\n line
 * ending is not part of the password). Nothing at all, or a second line, is refused: an empty
 * variable piped in, or two values concatenated, must not become a hash.
 */
async function readPiped(): Promise<string> {
  process.stderr.write('Password: ');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  process.stderr.write('\n');
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') refuse('nothing on stdin: pipe the password as one line');
  const line = text.replace(/\r?\n$/, '');
  if (/[\r\n]/.test(line)) refuse('more than one line on stdin: pipe the password alone, as one line');
  return line;
}

async function readPassword(): Promise<string> {
  if (!process.stdin.isTTY) return readPiped();
  const password = await readHidden('Password: ');
  if (args.verify === undefined && password.length >= PASSWORD_MIN_LENGTH && (await readHidden('Again: ')) !== password) refuse('the two passwords differ; nothing printed');
  return password;
}

const password = await readPassword();
if (args.verify !== undefined) {
  let config;
  try {
    config = readIdpConfig();
  } catch (err) {
    refuse((err as Error).message);
  }
  let users;
  try {
    users = loadUsers(config.IDP_USERS_FILE);
  } catch (err) {
    if (err instanceof UsersFileError) refuse(`the IdP would not start with this users file: ${err.message}`);
    throw err;
  }
  const user = await users.authenticate(args.verify, password);
  console.log(user ? `${JSON.stringify(args.verify)} signs in with this password as ${user.sub} (${JSON.stringify(user.username)} in ${config.IDP_USERS_FILE})` : `${JSON.stringify(args.verify)} does not sign in with this password (unknown user or another password) in ${config.IDP_USERS_FILE}`);
  process.exit(user ? 0 : 1);
}
if (password.length < PASSWORD_MIN_LENGTH) refuse(`refusing a password shorter than ${PASSWORD_MIN_LENGTH} characters`);
console.log(await hashPassword(password));
