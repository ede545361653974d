// Prints an Argon2id hash for a users file: `npm run hash-password -w apps/idp` (reads the password from stdin).
import { createInterface } from 'node:readline/promises';
import { hashPassword } from '../password-hash.ts';

const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: process.stdin.isTTY });
const password = await rl.question('Password: ');
rl.close();
if (password.length < 8) {
  console.error('Refusing a password shorter than 8 characters.');
  process.exit(2);
}
console.log(await hashPassword(password));
