// A row of the result tables: something measured the same way in every round.
import { availableParallelism } from 'node:os';
import { ownCpuSeconds, type ServerProcess } from './children.ts';
import { readMachineCpu, stealShare } from './host-cpu.ts';
import type { Sample } from './load.ts';

export type Group = 'api' | 'idp';

/** One process serving a row, and the load that measures it. */
export interface RowProcess {
  /** Its CPU time per round and its RSS at the end are reported. */
  server?: ServerProcess;
  measure(seconds: number): Promise<Sample>;
}

export interface Row extends RowProcess {
  id: string;
  group: Group;
  label: string;
  /**
   * Several processes of the same server (the API rows): round r measures process r mod n, so
   * that in every round each row is on its process of the same index (`processInRound`). Without
   * it the row is its one `server` and `measure`.
   */
  processes?: RowProcess[];
  /** The load generator runs on its own core while this row is measured (when the run pins). */
  pinned?: boolean;
  /** Set when the row cannot run; the tables then say "n/a (reason)". */
  unavailable?: string;
}

export interface RoundSample extends Sample {
  round: number;
  /** Which of the row's processes served it (0 for a row of one process). */
  process?: number;
  /** CPU seconds the server used during the sample, when known. */
  serverCpuSeconds?: number;
  /** Share of the machine's CPU that processes outside the bench used during the sample (0–1). */
  foreignCpuShare?: number;
  /** Share of the sample's CPU time the host stole from the machine (0–1), from /proc/stat. */
  stealShare?: number;
  /** Earlier attempts at this sample discarded because other processes or the host disturbed them. */
  discarded?: number;
  /** Of those, the ones discarded for the host's steal. */
  discardedForSteal?: number;
}

/** Above these, a sample is disturbed and measured again. */
export interface DisturbanceLimits {
  /** Share of the machine's CPU taken by processes outside the bench. */
  maxForeignCpuShare: number;
  /** Share of the sample's CPU time the host stole. */
  maxStealShare: number;
}

export function unavailableRow(id: string, group: Group, label: string, reason: string): Row {
  return { id, group, label, unavailable: reason, measure: () => Promise.reject(new Error(reason)) };
}

/** The index of the process a row of `count` processes is measured on in `round`: the same for every row. */
export function processIndex(round: number, count: number): number {
  return count > 0 ? round % count : 0;
}

/** The process that serves `row` in `round`, and its index. */
export function processInRound(row: Row, round: number): { index: number; process: RowProcess } {
  if (!row.processes?.length) return { index: 0, process: row };
  const index = processIndex(round, row.processes.length);
  return { index, process: row.processes[index]! };
}

/** Every process of a row: the ones warmed up, checked and whose RSS is reported. */
export function rowProcesses(row: Row): RowProcess[] {
  return row.processes?.length ? row.processes : [row];
}

/** Runs `row` once for `seconds`, recording the server's CPU time and the machine's over the same window. */
export async function sampleRow(row: Row, seconds: number, round: number): Promise<RoundSample> {
  const { index, process: served } = processInRound(row, round);
  const cpuBefore = served.server?.cpuSeconds();
  const machineBefore = readMachineCpu();
  const ownBefore = ownCpuSeconds();
  const started = performance.now();
  const sample = await served.measure(seconds);
  const wall = (performance.now() - started) / 1000;
  const machineAfter = readMachineCpu();
  const ownAfter = ownCpuSeconds();
  const cpuAfter = served.server?.cpuSeconds();
  const serverCpuSeconds = cpuBefore !== undefined && cpuAfter !== undefined ? cpuAfter - cpuBefore : undefined;
  const foreignCpuShare = machineBefore && machineAfter
    ? Math.max(0, (machineAfter.busySeconds - machineBefore.busySeconds - (ownAfter - ownBefore)) / (wall * availableParallelism()))
    : undefined;
  const steal = machineBefore && machineAfter ? stealShare(machineBefore, machineAfter) : undefined;
  return {
    ...sample, round,
    ...(row.processes?.length ? { process: index } : {}),
    ...(serverCpuSeconds !== undefined ? { serverCpuSeconds } : {}),
    ...(foreignCpuShare !== undefined ? { foreignCpuShare } : {}),
    ...(steal !== undefined ? { stealShare: steal } : {}),
  };
}

/** Why a sample must be measured again, or undefined when it stands. Unknown figures never disturb. */
export function disturbance(sample: Pick<RoundSample, 'foreignCpuShare' | 'stealShare'>, limits: DisturbanceLimits): 'other processes' | 'host steal' | undefined {
  if ((sample.foreignCpuShare ?? 0) > limits.maxForeignCpuShare) return 'other processes';
  if ((sample.stealShare ?? 0) > limits.maxStealShare) return 'host steal';
  return undefined;
}

/**
 * A sample disturbed by other processes or by the host's steal (see `disturbance`) is measured
 * again, `retries` times at most in all; the last attempt stands, with the counts discarded.
 */
export async function undisturbedSample(row: Row, seconds: number, round: number, limits: DisturbanceLimits, retries: number): Promise<RoundSample> {
  return retryWhileDisturbed(() => sampleRow(row, seconds, round), limits, retries);
}

export async function retryWhileDisturbed(take: () => Promise<RoundSample>, limits: DisturbanceLimits, retries: number): Promise<RoundSample> {
  let sample = await take();
  let discarded = 0;
  let discardedForSteal = 0;
  for (let cause = disturbance(sample, limits); cause && discarded < retries; cause = disturbance(sample, limits)) {
    discarded++;
    if (cause === 'host steal') discardedForSteal++;
    sample = await take();
  }
  return discarded > 0 ? { ...sample, discarded, ...(discardedForSteal > 0 ? { discardedForSteal } : {}) } : sample;
}

/** The first line of an error's message, short enough for a table cell. */
export function firstLine(err: unknown): string {
  return String(err instanceof Error ? err.message : err).split('\n')[0]!.slice(0, 200);
}
