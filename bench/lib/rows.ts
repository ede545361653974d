// A row of the result tables: something measured the same way in every round.
import type { ServerProcess } from './children.ts';
import type { Sample } from './load.ts';

export type Group = 'api' | 'idp';

export interface Row {
  id: string;
  group: Group;
  label: string;
  /** The process under load: its CPU time per round and its RSS at the end are reported. */
  server?: ServerProcess;
  /** Set when the row cannot run; the tables then say "n/a (reason)". */
  unavailable?: string;
  measure(seconds: number): Promise<Sample>;
}

export interface RoundSample extends Sample {
  round: number;
  /** CPU seconds the server used during the sample, when known. */
  serverCpuSeconds?: number;
}

export function unavailableRow(id: string, group: Group, label: string, reason: string): Row {
  return { id, group, label, unavailable: reason, measure: () => Promise.reject(new Error(reason)) };
}

/** Runs `row` once for `seconds`, recording the server's CPU time over the same window. */
export async function sampleRow(row: Row, seconds: number, round: number): Promise<RoundSample> {
  const cpuBefore = row.server?.cpuSeconds();
  const sample = await row.measure(seconds);
  const cpuAfter = row.server?.cpuSeconds();
  const serverCpuSeconds = cpuBefore !== undefined && cpuAfter !== undefined ? cpuAfter - cpuBefore : undefined;
  return { ...sample, round, ...(serverCpuSeconds !== undefined ? { serverCpuSeconds } : {}) };
}

/** The first line of an error's message, short enough for a table cell. */
export function firstLine(err: unknown): string {
  return String(err instanceof Error ? err.message : err).split('\n')[0]!.slice(0, 200);
}
