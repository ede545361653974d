// Processes starting at the same moment on one new data directory (a first deployment, a second
// instance started with the first): each opens the SQLite file, switches it to WAL and creates the
// schema at once. Worker threads stand for the processes (one connection each, on threads of their
// own); `open` is the body of an async function run in each, given `dir`, that opens and closes
// the store, its module imported as `store`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/** Runs `rounds` rounds of `openers` openings at once, each round on a new directory; answers every failure's message. */
export async function openAtOnce(storeModule: string, open: string, { rounds, openers }: { rounds: number; openers: number }): Promise<string[]> {
  const failures: string[] = [];
  const code = `
    const { parentPort, workerData } = await import('node:worker_threads');
    const store = await import(${JSON.stringify(pathToFileURL(storeModule).href)});
    const dir = workerData;
    try {
      await (async () => { ${open} })();
      parentPort.postMessage('opened');
    } catch (err) {
      parentPort.postMessage(String(err.reason ?? err.message));
    }`;
  for (let round = 0; round < rounds; round++) {
    const dir = mkdtempSync(join(tmpdir(), 'open-at-once-'));
    try {
      const outcomes = await Promise.all(Array.from({ length: openers }, () => new Promise<string>((resolve) => {
        const worker = new Worker(code, { eval: true, workerData: dir, type: 'module' } as ConstructorParameters<typeof Worker>[1]);
        worker.once('message', (m: unknown) => { resolve(String(m)); void worker.terminate(); });
        worker.once('error', (err) => resolve(err.message));
      })));
      failures.push(...outcomes.filter((o) => o !== 'opened'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return failures;
}
