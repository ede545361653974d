// The machine's CPU time from /proc/stat, split into what processes inside the machine used and
// what the host's hypervisor took away from it (steal): a sample can be disturbed either way, and
// only the first shows as other processes' CPU time.
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc times (USER_HZ, 100 on Linux everywhere in practice). */
export const CLOCK_TICKS = 100;

export interface MachineCpu {
  /** CPU seconds spent running something inside the machine, since boot. */
  busySeconds: number;
  /** CPU seconds the host gave to someone else while this machine had work to run, since boot. */
  stealSeconds: number;
  /** Every CPU second accounted for (busy, idle, iowait and steal), since boot. */
  totalSeconds: number;
}

/**
 * Parses the aggregate `cpu` line of /proc/stat: user nice system idle iowait irq softirq steal
 * guest guest_nice. Guest time is already inside user and nice, so it is not added again; kernels
 * older than 2.6.11 have no steal column (read as 0). Undefined when there is no such line.
 */
export function parseProcStat(text: string): MachineCpu | undefined {
  const line = text.split('\n').find((l) => /^cpu\s/.test(l));
  if (!line) return undefined;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  if (f.length < 4 || f.some((v) => !Number.isFinite(v))) return undefined;
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
  const busy = user + nice + system + irq + softirq;
  return { busySeconds: busy / CLOCK_TICKS, stealSeconds: steal / CLOCK_TICKS, totalSeconds: (busy + idle + iowait + steal) / CLOCK_TICKS };
}

export function readMachineCpu(): MachineCpu | undefined {
  try {
    return parseProcStat(readFileSync('/proc/stat', 'utf8'));
  } catch {
    return undefined;
  }
}

/** Share (0–1) of the CPU time that passed between two readings that the host stole. */
export function stealShare(before: MachineCpu, after: MachineCpu): number | undefined {
  const total = after.totalSeconds - before.totalSeconds;
  return total > 0 ? Math.max(0, after.stealSeconds - before.stealSeconds) / total : undefined;
}
