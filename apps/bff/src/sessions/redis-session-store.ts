// Sessions shared by several BFF instances: Redis. A session is one key expiring with it; `sid`
// and `sub` are sets of session keys (back-channel logout finds sessions without a scan); the
// refresh lock is SET NX PX with a random token, released only by its holder (a crashed holder's
// lock expires). Logins in progress are not kept here (docs/decisions/0071).
import { Redis } from 'ioredis';
import { redactUrlPassword } from '@suite/config';
import { redisDurabilityProblem } from '@suite/process-shell';
import { REDIS_DURABLE_APPENDFSYNC, REDIS_MAXMEMORY_POLICY } from '../defaults.ts';
import { SharedLocks, type SessionRecord, type SessionStore } from './session-store.ts';

const PREFIX = 'bff:';
const k = {
  session: (key: string) => `${PREFIX}session:${key}`,
  sid: (sid: string) => `${PREFIX}sid:${sid}`,
  sub: (sub: string) => `${PREFIX}sub:${sub}`,
  lock: (name: string) => `${PREFIX}lock:${name}`,
  usedId: (id: string) => `${PREFIX}used-id:${id}`,
};

/** Deletes every session named in the index set KEYS[1], then the set; answers the keys of those that existed. */
const DESTROY_INDEXED = `
local members = redis.call('SMEMBERS', KEYS[1])
local ended = {}
for _, key in ipairs(members) do
  if redis.call('DEL', ARGV[1] .. key) == 1 then table.insert(ended, key) end
end
redis.call('DEL', KEYS[1])
return ended`;

/**
 * Pushes the idle expiry of the session KEYS[1] forward to ARGV[1] (never back) and its key's
 * expiry with it, leaving the payload as it is; 0 when the session is gone.
 */
const TOUCH = `
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local s = cjson.decode(raw)
local idle = tonumber(ARGV[1])
if idle <= s.idleExpiresAt then return 1 end
s.idleExpiresAt = idle
redis.call('SET', KEYS[1], cjson.encode(s), 'PXAT', math.min(idle, s.absoluteExpiresAt))
return 1`;

const RELEASE_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

const expiryOf = (s: SessionRecord) => Math.min(s.idleExpiresAt, s.absoluteExpiresAt);

/** Where the store says that Redis went away and came back (the BFF's logger). */
export interface RedisStoreLog {
  warn(fields: Record<string, unknown>, msg: string): void;
  info(fields: Record<string, unknown>, msg: string): void;
}

/**
 * What to do with a Redis that would forget writes (no append-only file, fsynced too rarely, keys
 * evicted when memory runs short): refuse to open and, when its settings change later, fail the
 * readiness ping (production); warn once at opening; or not check. BFF_REDIS_DURABILITY_CHECK
 */
export type RedisDurability = 'require' | 'warn' | 'off';

/** Why this Redis would forget writes the BFF was told were done, or undefined (docs/decisions/0011, 0053). */
function forgetsWrites(redis: Redis): Promise<string | undefined> {
  return redisDurabilityProblem(redis, { appendfsync: REDIS_DURABLE_APPENDFSYNC, maxmemoryPolicy: REDIS_MAXMEMORY_POLICY }, 'BFF_REDIS_DURABILITY_CHECK');
}

/** A Redis that would forget writes, refused (production profile). */
export class RedisNotDurableError extends Error {}

export async function openRedisSessionStore(url: string, log?: RedisStoreLog, durability: RedisDurability = 'require'): Promise<SessionStore> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: false });
  // A Redis that cannot be reached at start-up stops the start with where and why (its password
  // hidden), not ioredis's "Connection is closed" after an unhandled error event with a stack.
  let cause: Error | undefined;
  const onError = (err: Error) => { cause ??= err; };
  redis.on('error', onError);
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    throw new Error(`cannot reach Redis at ${redactUrlPassword(url)} (BFF_REDIS_URL): ${(cause ?? (err as Error)).message}`, { cause: err });
  } finally {
    redis.off('error', onError);
  }
  const problem = durability === 'off' ? undefined : await forgetsWrites(redis);
  if (problem && durability === 'require') {
    redis.disconnect();
    throw new RedisNotDurableError(`Redis at ${redactUrlPassword(url)} (BFF_REDIS_URL) would lose sessions: ${problem}`);
  }
  if (problem) log?.warn({ redis: redactUrlPassword(url), problem }, 'session store Redis would lose writes (BFF_REDIS_URL); refused with BFF_PROFILE=production');
  // Once connected, a lost connection is one JSON line when it is lost and one when it is back,
  // however often ioredis retries meanwhile (without a listener ioredis prints every retry's
  // failure to stderr as "Unhandled error event", with its stack).
  let lost = false;
  redis.on('error', (err: Error) => {
    if (lost) return;
    lost = true;
    log?.warn({ redis: redactUrlPassword(url), err: err.message }, 'session store unreachable: Redis does not answer (BFF_REDIS_URL); retrying');
  });
  redis.on('ready', () => {
    if (!lost) return;
    lost = false;
    log?.info({ redis: redactUrlPassword(url) }, 'session store reachable again');
  });
  // Expiry by Redis's own clock (PX); the wait is bounded by this process's.
  const locks = new SharedLocks({
    take: async (name, token, ttlMs) => (await redis.set(k.lock(name), token, 'PX', ttlMs, 'NX')) === 'OK',
    release: (name, token) => redis.eval(RELEASE_LOCK, 1, k.lock(name), token),
  });
  const listeners: ((key: string | null) => void)[] = [];
  const changed = (key: string | null) => {
    for (const listener of listeners) listener(key);
  };
  const destroyIndexed = async (index: string) => {
    const ended = (await redis.eval(DESTROY_INDEXED, 1, index, `${PREFIX}session:`)) as string[];
    for (const key of ended) changed(key);
    return ended.length;
  };

  const indexes = (tx: ReturnType<Redis['multi']>, s: SessionRecord) => {
    for (const index of [s.sid ? k.sid(s.sid) : undefined, k.sub(s.sub)]) {
      if (!index) continue;
      tx.sadd(index, s.key);
      // The index lives as long as its longest-lived session.
      tx.pexpireat(index, s.absoluteExpiresAt, 'GT');
      tx.pexpireat(index, s.absoluteExpiresAt, 'NX');
    }
  };

  const parse = (raw: string | null) => (raw ? (JSON.parse(raw) as SessionRecord) : undefined);

  return {
    kind: 'redis',
    async create(s) {
      const tx = redis.multi().set(k.session(s.key), JSON.stringify(s), 'PXAT', expiryOf(s), 'NX');
      indexes(tx, s);
      await tx.exec();
    },
    async get(key, now) {
      const s = parse(await redis.get(k.session(key)));
      return s && expiryOf(s) > now ? s : undefined;
    },
    async update(s) {
      changed(s.key);
      const tx = redis.multi().set(k.session(s.key), JSON.stringify(s), 'PXAT', expiryOf(s), 'XX');
      indexes(tx, s);
      const results = await tx.exec();
      return results?.[0]?.[1] === 'OK';
    },
    async touch(key, idleExpiresAt) {
      return Number(await redis.eval(TOUCH, 1, k.session(key), idleExpiresAt)) === 1;
    },
    async destroy(key) {
      changed(key);
      const s = parse(await redis.getdel(k.session(key)));
      if (s) {
        const tx = redis.multi().srem(k.sub(s.sub), s.key);
        if (s.sid) tx.srem(k.sid(s.sid), s.key);
        await tx.exec();
      }
      return s;
    },
    async destroyBySid(sid) {
      return destroyIndexed(k.sid(sid));
    },
    async destroyBySub(sub) {
      return destroyIndexed(k.sub(sub));
    },
    async firstUse(id, expiresAt) {
      return (await redis.set(k.usedId(id), '1', 'PXAT', expiresAt, 'NX')) === 'OK';
    },
    // The key expires with its entry (Redis's clock, as firstUse's).
    async used(id) {
      return (await redis.exists(k.usedId(id))) === 1;
    },
    withLock(name, fn, options) {
      return locks.run(name, fn, options);
    },
    onChange(listener) {
      listeners.push(listener);
    },
    // Another instance may have ended the session a moment ago: one small round trip per use
    // (cheaper than reading and decrypting the session), and no moment at which an ended session
    // still works here. Expiry needs no message: the key expires in Redis with the session.
    async stillCurrent(key) {
      return (await redis.exists(k.session(key))) === 1;
    },
    async ping() {
      await redis.ping();
      // Settings change without a restart of the BFF (CONFIG SET, a Redis restarted or failed over
      // with another configuration): readiness judges the Redis it talks to now.
      const forgets = durability === 'require' ? await forgetsWrites(redis) : undefined;
      if (forgets) throw new RedisNotDurableError(`Redis at ${redactUrlPassword(url)} would lose sessions: ${forgets}`);
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
