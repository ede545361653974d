// Whether a Redis keeps every write it acknowledged, judged the same way by every app that keeps
// state in it (the IdP on Redis, the BFF on Redis): it must persist each write before answering
// (an append-only file, fsynced often enough) and never delete a key to make room for another
// (docs/decisions/0011-durable-redis.md, 0053-redis-must-not-evict.md). The values accepted are each
// app's own, named in its defaults.ts.

/** What a Redis must be set to; each list holds the accepted values of its setting. */
export interface RedisDurabilityRequirement {
  /** appendfsync values that persist every write before its answer (always; everysec and no do not). */
  appendfsync: readonly string[];
  /** maxmemory-policy values that never delete a key by themselves: noeviction only. */
  maxmemoryPolicy: readonly string[];
}

/** The one command needed (ioredis's `call`). */
export interface RedisConfigReader {
  call(command: string, ...args: string[]): Promise<unknown>;
}

const SETTINGS = ['appendonly', 'appendfsync', 'no-appendfsync-on-rewrite', 'maxmemory', 'maxmemory-policy'] as const;

/** What each appendfsync value loses, said in a refusal (docs/decisions/0063-acknowledged-writes-survive-a-power-cut.md). */
const FSYNC_LOSS: Record<string, string> = {
  no: 'the kernel writes the file at its leisure, and a machine crash loses up to 30 s of acknowledged writes',
  everysec: 'while an fsync is slow Redis answers writes it has not written to its file yet, and a Redis crash (not only a machine crash) loses up to 2 s of them',
};

/**
 * Why this Redis would forget writes it acknowledged (a crash, or memory running short), or
 * undefined when it keeps them. `checkVariable` is the setting that turns the check off, named when
 * CONFIG is refused (some managed services disable it).
 */
export async function redisDurabilityProblem(redis: RedisConfigReader, required: RedisDurabilityRequirement, checkVariable: string): Promise<string | undefined> {
  const values = new Map<string, string>();
  try {
    // One name per call: CONFIG GET takes several only since Redis 7.
    for (const name of SETTINGS) {
      const answer = (await redis.call('CONFIG', 'GET', name)) as string[];
      for (let i = 0; i + 1 < answer.length; i += 2) values.set(answer[i]!, answer[i + 1]!);
    }
  } catch (err) {
    return `its persistence cannot be checked (CONFIG GET refused: ${(err as Error).message}); set ${checkVariable}=false only if appendonly yes, appendfsync ${required.appendfsync.join(' or ')}, no-appendfsync-on-rewrite no and maxmemory-policy ${required.maxmemoryPolicy.join(' or ')} are verified otherwise`;
  }
  const appendonly = values.get('appendonly');
  if (appendonly !== 'yes') return `appendonly is not yes (${appendonly ?? 'unknown'}): a crash loses every write since the last snapshot and brings used codes and refresh tokens and ended sessions back`;
  const appendfsync = values.get('appendfsync') ?? 'unknown';
  if (!required.appendfsync.includes(appendfsync)) return `appendfsync is ${appendfsync}: ${FSYNC_LOSS[appendfsync] ?? 'unknown'}; the append-only file must be fsynced ${required.appendfsync.join(' or ')}`;
  // yes skips the fsync while a rewrite of the append-only file or a snapshot runs in the
  // background (Redis starts them by itself as the file grows): always then fsyncs nothing for as
  // long, and a machine crash loses up to 30 s of acknowledged writes.
  const onRewrite = values.get('no-appendfsync-on-rewrite') ?? 'unknown';
  if (onRewrite !== 'no') return `no-appendfsync-on-rewrite is ${onRewrite}: while Redis rewrites its append-only file or writes a snapshot (it starts both by itself) no write is fsynced, and a machine crash loses up to 30 s of acknowledged writes; it must be no`;
  const policy = values.get('maxmemory-policy') ?? 'unknown';
  if (!required.maxmemoryPolicy.includes(policy)) {
    const limit = values.get('maxmemory');
    const when = limit && limit !== '0' ? `once its memory reaches maxmemory (${limit} bytes)` : 'once a maxmemory is set (CONFIG SET needs no restart)';
    return `maxmemory-policy is ${policy}: ${when} Redis deletes keys to make room, without a word (used codes, refresh tokens, sessions, signing keys); it must be ${required.maxmemoryPolicy.join(' or ')}, which refuses the write instead`;
  }
  return undefined;
}
