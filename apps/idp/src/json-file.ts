// The IdP's own JSON files (clients, users), read for start-up. A file that is not valid JSON is
// reported by where it breaks, never by a quote of it: V8's message quotes the text around the
// fault, and these files hold client secrets and password hashes.
import { readFileSync } from 'node:fs';

/** The parsed content of `file`; throws with why it cannot be read (the file system's cause, or where the JSON breaks). */
export function readJsonFile(file: string): unknown {
  const text = readFileSync(file, 'utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    const at = /line (\d+) column (\d+)/.exec((err as Error).message);
    throw new Error(`not valid JSON${at ? ` at line ${at[1]}, column ${at[2]}` : ''}`);
  }
}
