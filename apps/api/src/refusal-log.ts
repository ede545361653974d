// Logs refusals without letting a flood of them flood the log: per reason, the first few of each
// window are written as they happen (with their request id), the rest only counted, and the
// counts written as one line when the window is over (at the next refusal, or at close). Every
// refusal still reaches `onRefusal` (tests, metrics).
import type { FastifyBaseLogger } from 'fastify';
import type { BearerError } from './problem.ts';
import type { RefusalReason } from './refusal-reason.ts';

export type RefusalObserver = (reason: RefusalReason, status: number) => void;

export interface RefusalLogOptions {
  /** Lines written per reason per window; 0 writes only the summaries. */
  linesPerReason: number;
  windowMs: number;
  now: () => number;
  log: FastifyBaseLogger;
  onRefusal?: RefusalObserver | undefined;
}

export class RefusalLog {
  private readonly opts: RefusalLogOptions;
  private windowStart: number;
  private readonly counts = new Map<RefusalReason, number>();

  constructor(opts: RefusalLogOptions) {
    this.opts = opts;
    this.windowStart = opts.now();
  }

  record(requestLog: FastifyBaseLogger, refusal: BearerError): void {
    this.opts.onRefusal?.(refusal.reason, refusal.status);
    const now = this.opts.now();
    if (now - this.windowStart >= this.opts.windowMs) {
      this.flush();
      this.windowStart = now;
    }
    const seen = (this.counts.get(refusal.reason) ?? 0) + 1;
    this.counts.set(refusal.reason, seen);
    if (seen <= this.opts.linesPerReason) requestLog.info({ status: refusal.status, reason: refusal.reason }, 'request refused');
  }

  /** Writes the counts of the refusals not logged one by one, and starts over. */
  flush(): void {
    const suppressed: Partial<Record<RefusalReason, number>> = {};
    let any = false;
    for (const [reason, seen] of this.counts) {
      if (seen > this.opts.linesPerReason) {
        suppressed[reason] = seen - this.opts.linesPerReason;
        any = true;
      }
    }
    this.counts.clear();
    if (any) this.opts.log.info({ suppressed, windowSeconds: this.opts.windowMs / 1000 }, 'requests refused (not logged one by one)');
  }
}
