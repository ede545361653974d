// A row of the result tables: something measured the same way in every round.
import { availableParallelism } from 'node:os';
import { ownCpuSeconds, readMachineBusySeconds, type ServerProcess } from './children.ts';
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
  /** Share of the machine's CPU that processes outside the bench used during the sample (0–1). */
  foreignCpuShare?: number;
  /** Earlier attempts at this sample discarded because other processes disturbed them. */
  discarded?: number;
}

export function unavailableRow(id: string, group: Group, label: string, reason: string): Row {
  return { id, group, label, unavailable: reason, measure: () => Promise.reject(new Error(reason)) };
}

/** Runs `row` once for `seconds`, recording the server's CPU time and the machine's over the same window. */
export async function sampleRow(row: Row, seconds: number, round: number): Promise<RoundSample> {
  const cpuBefore = row.server?.cpuSeconds();
  const machineBefore = readMachineBusySeconds();
  const ownBefore = ownCpuSeconds();
  const started = performance.now();
  const sample = await row.measure(seconds);
  const wall = (performance.now() - started) / 1000;
  const machineAfter = readMachineBusySeconds();
  const ownAfter = ownCpuSeconds();
  const cpuAfter = row.server?.cpuSeconds();
  const serverCpuSeconds = cpuBefore !== undefined && cpuAfter !== undefined ? cpuAfter - cpuBefore : undefined;
  const foreignCpuShare = machineBefore !== undefined && machineAfter !== undefined
    ? Math.max(0, (machineAfter - machineBefore - (ownAfter - ownBefore)) / (wall * availableParallelism()))
    : undefined;
  return {
    ...sample, round,
    ...(serverCpuSeconds !== undefined ? { serverCpuSeconds } : {}),
    ...(foreignCpuShare !== undefined ? { foreignCpuShare } : {}),
  };
}

/**
 * A sample during which other processes took more than `maxForeignShare` of the machine is
 * measured again, `retries` times at most; the last attempt stands, with the count discarded.
 */
export async function undisturbedSample(row: Row, seconds: number, round: number, maxForeignShare: number, retries: number): Promise<RoundSample> {
  let sample = await sampleRow(row, seconds, round);
  let discarded = 0;
  while ((sample.foreignCpuShare ?? 0) > maxForeignShare && discarded < retries) {
    discarded++;
    sample = await sampleRow(row, seconds, round);
  }
  return discarded > 0 ? { ...sample, discarded } : sample;
}

/** The first line of an error's message, short enough for a table cell. */
export function firstLine(err: unknown): string {
  return String(err instanceof Error ? err.message : err).split('\n')[0]!.slice(0, 200);
}
