// The result model every output (markdown, JSON, SVG) is written from.
import type { RoundSample } from './rows.ts';
import type { Spread } from './stats.ts';

export interface Verdict {
  /** The target as written in the issue, e.g. "≥ 0.90 × (a)". */
  target: string;
  /** undefined: not measured (row n/a). */
  met?: boolean;
}

export interface RowResult {
  id: string;
  group: 'api' | 'idp';
  label: string;
  status: 'ok' | 'n/a';
  reason?: string;
  server?: string;
  rounds: RoundSample[];
  rate?: Spread;
  p50Ms?: Spread;
  p99Ms?: Spread;
  /** Successful operations per CPU-second of the server process, median over rounds (and so over the row's processes). */
  perServerCpuSecond?: number;
  /** Each process's own figures, for a row served by several. */
  processes?: ProcessResult[];
  failures: number;
  /** Medians over rounds of this row's figure divided by (a)'s figure of the same round. */
  ratioToA?: { rate: number; p50: number; p99: number; perServerCpuSecond?: number };
  verdicts: Verdict[];
  notes: string[];
}

export interface SpaResult {
  id: string;
  label: string;
  status: 'ok' | 'n/a';
  reason?: string;
  value?: number;
  unit: string;
  display?: string;
  details?: unknown;
  verdicts: Verdict[];
  notes: string[];
}

export interface MemoryResult {
  server: string;
  /** After the load; the median over the processes when the row had several. */
  rssBytes?: number;
  /** How many processes served the row, and the smallest and largest RSS among them, when more than one. */
  processes?: number;
  rssRangeBytes?: { min: number; max: number };
}

/** One process of a row with several (round r measured process r mod n). */
export interface ProcessResult {
  index: number;
  /** The rounds this process served. */
  rounds: number[];
  /** Successful requests per CPU-second of this process, median over its rounds. */
  perServerCpuSecond?: number;
  /** Median over its rounds of its figure ÷ (a)'s process of the same rounds, per server CPU-second. */
  perServerCpuSecondToA?: number;
}

export interface BenchResults {
  meta: {
    date: string;
    mode: 'full' | 'quick';
    machine: { cpu: string; cores: number; memoryGiB: number; os: string; node: string };
    settings: { rounds: number; secondsPerRound: number; warmupSeconds: number; connections: number; apiProcesses?: number; pinning?: string; refreshClients: number; loginClients: number; distinctTokens: number; browserRuns: number; retriesWhenDisturbed: number; maxForeignCpuShare: number; maxStealShare: number };
    /** Mean share of the machine's CPU other processes used during the samples that stand (0–1): high means a disturbed run. */
    foreignCpuShare?: number;
    /** Share of the CPU time the host stole during the samples that stand (0–1): mean and worst sample. */
    steal?: { meanShare: number; maxShare: number };
    wallSeconds: number;
  };
  api: RowResult[];
  idp: RowResult[];
  spa: SpaResult[];
  memory: MemoryResult[];
  primitives: { id: string; label: string; perSecond: number }[];
}
