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
  /** Successful operations per CPU-second of the server process, median over rounds. */
  perServerCpuSecond?: number;
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
  rssBytes?: number;
}

export interface BenchResults {
  meta: {
    date: string;
    mode: 'full' | 'quick';
    machine: { cpu: string; cores: number; memoryGiB: number; os: string; node: string };
    settings: { rounds: number; secondsPerRound: number; warmupSeconds: number; connections: number; refreshClients: number; loginClients: number; distinctTokens: number; browserRuns: number; retriesWhenDisturbed: number; maxForeignCpuShare: number; maxStealShare: number };
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
