// Load generators. HTTP rows: autocannon on loopback with a fixed number of connections for a
// fixed time, every response's latency recorded at full resolution (autocannon's own histogram
// keeps whole milliseconds, too coarse for sub-millisecond routes). Flows that cannot be one
// repeated request (refresh chains, logins): a fixed number of closed-loop workers.
import autocannon from 'autocannon';
import { percentile } from './stats.ts';

export interface Sample {
  /** Successful operations per second. */
  rate: number;
  p50Ms: number;
  p99Ms: number;
  ok: number;
  /** Non-2xx answers, socket errors and timeouts. */
  failures: number;
  seconds: number;
}

export interface HttpLoad {
  url: string;
  connections: number;
  seconds: number;
  /** One Authorization header value, or several used in turn on every connection. */
  authorizations?: readonly string[];
  /** Headers sent on every request (a session cookie and the CSRF header for the BFF rows). */
  headers?: Record<string, string>;
}

export async function runHttpLoad(load: HttpLoad): Promise<Sample> {
  const auths = load.authorizations ?? [];
  const requests = auths.length > 1
    ? auths.map((a) => ({ method: 'GET' as const, headers: { authorization: a } }))
    : undefined;
  const latencies: number[] = [];
  let ok = 0;
  let non2xx = 0;
  let instance!: autocannon.Instance;
  const finished = new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon({
      url: load.url,
      connections: load.connections,
      pipelining: 1,
      duration: load.seconds,
      timeout: 10,
      headers: { ...load.headers, ...(auths.length === 1 ? { authorization: auths[0]! } : {}) },
      ...(requests ? { requests } : {}),
    }, (err, result) => (err ? reject(err) : resolve(result)));
  });
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    if (status >= 200 && status < 300) {
      ok++;
      latencies.push(ms);
    } else {
      non2xx++;
    }
  });
  const result = await finished;
  const seconds = result.duration;
  return {
    rate: ok / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    ok,
    failures: non2xx + result.errors + result.timeouts,
    seconds,
  };
}

/**
 * One loop per state (a client: a refresh chain, a user), each running `operation` back to back
 * until `seconds` have passed; none is cut short (the window closes when the last one finishes),
 * so stateful chains stay intact.
 */
export async function runWorkers<S>(states: S[], seconds: number, operation: (state: S) => Promise<void>): Promise<Sample> {
  const latencies: number[] = [];
  let failures = 0;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  await Promise.all(states.map(async (state) => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      try {
        await operation(state);
        latencies.push(performance.now() - t0);
      } catch {
        failures++;
      }
    }
  }));
  const elapsed = (performance.now() - start) / 1000;
  return {
    rate: latencies.length / elapsed,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    ok: latencies.length,
    failures,
    seconds: elapsed,
  };
}
