// Store for several IdP instances sharing state: Redis. Artifacts are hashes with the payload,
// the consumed mark and the grant id; secondary indexes (uid, user code, grant members) are
// plain keys and sets. `consume` is one Lua script (exists + HSETNX), so exactly one of racing
// requests wins, even when another request deletes the artifact in between.
import { Redis } from 'ioredis';
import { redactUrlPassword } from '@suite/config';
import { epochSeconds, systemClock, type Clock } from '../clock.ts';
import { redisDurabilityProblem as redisForgetsWrites } from '@suite/process-shell';
import { INSTANCE_CLOCK_SKEW_SECONDS, REDIS_DURABLE_APPENDFSYNC, REDIS_MAXMEMORY_POLICY } from '../defaults.ts';
import type { Logger } from '../log.ts';
import { GRANT_MEMBERS, StoreUnavailableError, type AttemptReservation, type ConsumeOutcome, type Payload, type Store, type StoredSigningKey } from './store.ts';

const PREFIX = 'idp:';
const k = {
  artifact: (model: string, id: string) => `${PREFIX}${model}:${id}`,
  uid: (model: string, uid: string) => `${PREFIX}${model}:uid:${uid}`,
  userCode: (model: string, code: string) => `${PREFIX}${model}:user_code:${code}`,
  grant: (grantId: string) => `${PREFIX}grant-members:${grantId}`,
  keys: `${PREFIX}signing-keys`,
  setting: (name: string) => `${PREFIX}setting:${name}`,
  attempts: (key: string) => `${PREFIX}login-attempts:${key}`,
};

/** 1: consumed now; 0: consumed before; -1: no such artifact. Never creates the hash. */
const CONSUME_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
return redis.call('HSETNX', KEYS[1], 'consumed', ARGV[1])`;

/**
 * Login attempts: each key a hash {count, start}. The window is judged by the IdP's clock (ARGV[2]),
 * as in SQLite, so both stores behave alike under a test's manual clock; the key's expiry only
 * cleans up. A window starting ahead of the clock by more than the instances' skew was stamped
 * before the clock stepped back: stale, like a closed one. KEYS: counters; ARGV: window seconds, now, then one limit per key (0 = unlimited).
 * Returns {1, count...} when granted, {0, retryAfterSeconds} when a limit is reached.
 */
const RESERVE_SCRIPT = `
local window, now = tonumber(ARGV[1]), tonumber(ARGV[2])
local function current(key)
  local v = redis.call('HMGET', key, 'count', 'start')
  local count, start = tonumber(v[1]), tonumber(v[2])
  if not count or not start or start + window <= now or start > now + ${INSTANCE_CLOCK_SKEW_SECONDS} then return 0, now end
  return count, start
end
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[i + 2])
  local count, start = current(key)
  if limit > 0 and count >= limit then return {0, math.max(1, start + window - now)} end
end
local out = {1}
for _, key in ipairs(KEYS) do
  local count, start = current(key)
  redis.call('HSET', key, 'count', count + 1, 'start', start)
  redis.call('EXPIRE', key, math.max(1, start + window - now))
  out[#out + 1] = count + 1
end
return out`;

/** Gives one attempt back, never below zero, never creating the key. */
const RELEASE_SCRIPT = `
local count = tonumber(redis.call('HGET', KEYS[1], 'count'))
if count and count > 0 then redis.call('HINCRBY', KEYS[1], 'count', -1) end
return 0`;

/**
 * The reuse interval (see Store.reusableWithinInterval). A rotation chain is the refresh tokens of
 * one grant sharing the first token's issue time (field chain, from iiat). KEYS[1]: the refresh token; ARGV: now,
 * interval, claim (1/0). Reads the grant's member set, whose name it derives from the token's
 * grantId: a single-instance Redis (or one hash slot) is assumed, as everywhere in this store.
 */
const REUSE_SCRIPT = `
local consumed, grantId, rotations, chain = unpack(redis.call('HMGET', KEYS[1], 'consumed', 'grantId', 'rotations', 'chain'))
if not consumed or not grantId or grantId == '' then return 0 end
local elapsed = tonumber(ARGV[1]) - tonumber(consumed)
if elapsed > tonumber(ARGV[2]) or elapsed < -${INSTANCE_CLOCK_SKEW_SECONDS} then return 0 end
local mine = tonumber(rotations or '0')
local setKey = '${PREFIX}grant-members:' .. grantId
local successors = {}
for _, member in ipairs(redis.call('SMEMBERS', setKey)) do
  if string.sub(member, 1, ${`${PREFIX}RefreshToken:`.length}) == '${PREFIX}RefreshToken:' then
    local used, r, c = unpack(redis.call('HMGET', member, 'consumed', 'rotations', 'chain'))
    if r and c == chain and tonumber(r) > mine then
      if used then return 0 end
      successors[#successors + 1] = member
    end
  end
end
if ARGV[3] == '1' then
  for _, member in ipairs(successors) do
    redis.call('DEL', member)
    redis.call('SREM', setKey, member)
  end
end
return 1`;

/**
 * Store.addSigningKeyRetiringOthers. KEYS[1]: the signing-key hash (kid -> JSON); ARGV: alg, the
 * new key's activation time, its kid, its JSON, 1 for "unless active". Returns 1 when the key was
 * added, 0 when a key of that algorithm is active at that time (only when asked to check).
 * Retired keys are rewritten with retiredAt set.
 */
const ADD_KEY_RETIRING_OTHERS_SCRIPT = `
local alg, at, kid, json, unlessActive = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5] == '1'
local function num(v) if v == nil or v == cjson.null then return nil end return tonumber(v) end
local others = {}
for _, raw in ipairs(redis.call('HVALS', KEYS[1])) do
  local key = cjson.decode(raw)
  local activates, retired = num(key.activatesAt) or num(key.createdAt), num(key.retiredAt)
  if unlessActive and key.alg == alg and activates <= at and (retired == nil or retired > at) then return 0 end
  if retired == nil or retired > at then others[#others + 1] = key end
end
redis.call('HSET', KEYS[1], kid, json)
for _, key in ipairs(others) do
  key.retiredAt = at
  redis.call('HSET', KEYS[1], key.kid, cjson.encode(key))
end
return 1`;

/** Redis errors that mean "cannot serve now": no connection, or a server refusing writes. */
export function redisUnavailableReason(url: string, err: unknown): string | undefined {
  const e = err as Error;
  if (e.name === 'ReplyError' && !/^(READONLY|MISCONF|LOADING|BUSY|OOM|MASTERDOWN|NOREPLICAS|CLUSTERDOWN)/.test(e.message)) return undefined;
  return `Redis at ${redactUrlPassword(url)}: ${e.message}`;
}

/** Why this Redis would forget acknowledged writes (a crash, memory running short), or undefined when it keeps them (docs/decisions/0011, 0053). */
export function redisDurabilityProblem(redis: Redis): Promise<string | undefined> {
  return redisForgetsWrites(redis, { appendfsync: REDIS_DURABLE_APPENDFSYNC, maxmemoryPolicy: REDIS_MAXMEMORY_POLICY }, 'IDP_REDIS_DURABILITY_CHECK');
}

export interface RedisStoreOptions {
  logger?: Logger;
  /**
   * What to do with a Redis that would forget writes: refuse to open and, when its settings change
   * later, report not ready (production); warn once at opening; or not check.
   */
  durability?: 'require' | 'warn' | 'off';
  clock?: Clock;
}

export async function openRedisStore(url: string, opts: RedisStoreOptions = {}): Promise<Store> {
  const clock = opts.clock ?? systemClock;
  const now = () => epochSeconds(clock);
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: false });
  // ioredis reconnects by itself; without a listener it would print "Unhandled error event" for
  // every attempt. One structured line per distinct error, and one when the connection is back.
  let lastError: string | undefined;
  redis.on('error', (err: Error) => {
    if (err.message === lastError) return;
    lastError = err.message;
    opts.logger?.log('error', 'redis_error', { url: redactUrlPassword(url), message: err.message });
  });
  redis.on('ready', () => {
    if (lastError !== undefined) opts.logger?.log('info', 'redis_ready', { url: redactUrlPassword(url) });
    lastError = undefined;
  });
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    throw new StoreUnavailableError(`cannot reach Redis at ${redactUrlPassword(url)}: ${(err as Error).message}`, { cause: err });
  }
  const durability = opts.durability ?? 'require';
  const problem = durability === 'off' ? undefined : await redisDurabilityProblem(redis);
  if (problem && durability === 'require') {
    redis.disconnect();
    throw new Error(`Redis at ${redactUrlPassword(url)} is not durable: ${problem}`);
  }
  if (problem) opts.logger?.log('warn', 'redis_not_durable', { url: redactUrlPassword(url), problem });

  // Redis expires the keys by its own clock; the stored expiry judged by the IdP's clock agrees
  // with SQLite's to the second, and lets tests move time without sleeping.
  const read = async (key: string): Promise<Payload | undefined> => {
    const [payload, consumed, expiresAt] = await redis.hmget(key, 'payload', 'consumed', 'expiresAt');
    if (!payload || (expiresAt && Number(expiresAt) <= now())) return undefined;
    const parsed = JSON.parse(payload) as Payload;
    if (consumed) parsed['consumed'] = Number(consumed);
    return parsed;
  };

  const store: Store = {
    async upsert(model, id, payload, expiresIn) {
      const key = k.artifact(model, id);
      const grantId = payload['grantId'] as string | undefined;
      const tx = redis.multi().hset(key, 'payload', JSON.stringify(payload), 'grantId', grantId ?? '', 'expiresAt', expiresIn ? now() + expiresIn : '');
      if (model === 'RefreshToken') tx.hset(key, 'rotations', Number(payload['rotations'] ?? 0), 'chain', String(payload['iiat'] ?? ''));
      if (expiresIn) tx.expire(key, expiresIn);
      const index = (indexKey: string) => (expiresIn ? tx.set(indexKey, id, 'EX', expiresIn) : tx.set(indexKey, id));
      if (payload['uid']) index(k.uid(model, String(payload['uid'])));
      if (payload['userCode']) index(k.userCode(model, String(payload['userCode'])));
      if (grantId && GRANT_MEMBERS.has(model)) {
        tx.sadd(k.grant(grantId), key);
        // The member set lives as long as its longest-lived member.
        if (expiresIn) tx.expire(k.grant(grantId), expiresIn, 'GT');
      }
      await tx.exec();
    },
    async find(model, id) {
      return read(k.artifact(model, id));
    },
    async findByUid(model, uid) {
      const id = await redis.get(k.uid(model, uid));
      return id ? read(k.artifact(model, id)) : undefined;
    },
    async findByUserCode(model, userCode) {
      const id = await redis.get(k.userCode(model, userCode));
      return id ? read(k.artifact(model, id)) : undefined;
    },
    async consume(model, id): Promise<ConsumeOutcome> {
      const result = await redis.eval(CONSUME_SCRIPT, 1, k.artifact(model, id), now());
      return result === 1 ? 'consumed' : result === 0 ? 'already-consumed' : 'not-found';
    },
    async reusableWithinInterval(id, intervalSeconds, claim) {
      return (await redis.eval(REUSE_SCRIPT, 1, k.artifact('RefreshToken', id), now(), intervalSeconds, claim ? 1 : 0)) === 1;
    },
    async destroy(model, id) {
      await redis.del(k.artifact(model, id));
    },
    async revokeByGrantId(model, grantId) {
      const members = await redis.smembers(k.grant(grantId));
      const prefix = `${PREFIX}${model}:`;
      const mine = members.filter((m) => m.startsWith(prefix));
      if (mine.length) await redis.multi().del(...mine).srem(k.grant(grantId), ...mine).exec();
    },
    async revokeGrant(grantId) {
      const members = await redis.smembers(k.grant(grantId));
      await redis.del(...members, k.grant(grantId), k.artifact('Grant', grantId));
    },
    async grantIdOf(model, id) {
      return (await redis.hget(k.artifact(model, id), 'grantId')) || undefined;
    },
    async listSigningKeys() {
      const all = await redis.hvals(k.keys);
      return all.map((v) => JSON.parse(v) as StoredSigningKey)
        .map((key) => ({ ...key, activatesAt: key.activatesAt ?? key.createdAt }))
        .sort((a, b) => b.activatesAt - a.activatesAt || b.createdAt - a.createdAt);
    },
    async addSigningKey(key) {
      await redis.hset(k.keys, key.kid, JSON.stringify(key));
    },
    async addSigningKeyRetiringOthers(key, { unlessActive }) {
      return (await redis.eval(ADD_KEY_RETIRING_OTHERS_SCRIPT, 1, k.keys, key.alg, key.activatesAt, key.kid, JSON.stringify(key), unlessActive ? 1 : 0)) === 1;
    },
    async retireSigningKeysExcept(kid, at) {
      for (const key of await store.listSigningKeys()) {
        if (key.kid !== kid && (key.retiredAt === null || key.retiredAt > at)) await redis.hset(k.keys, key.kid, JSON.stringify({ ...key, retiredAt: at }));
      }
    },
    async deleteSigningKey(kid) {
      await redis.hdel(k.keys, kid);
    },
    async getOrSetSetting(name, value) {
      await redis.set(k.setting(name), value, 'NX');
      return (await redis.get(k.setting(name)))!;
    },
    async reserveAttempt(counters, windowSeconds): Promise<AttemptReservation> {
      const keys = counters.map((c) => k.attempts(c.key));
      const limits = counters.map((c) => c.limit ?? 0);
      const [granted, ...rest] = (await redis.eval(RESERVE_SCRIPT, keys.length, ...keys, windowSeconds, now(), ...limits)) as number[];
      return granted === 1 ? { granted: true, counts: rest } : { granted: false, retryAfterSeconds: rest[0]! };
    },
    async releaseAttempt(key) {
      await redis.eval(RELEASE_SCRIPT, 1, k.attempts(key));
    },
    async clearAttempts(key) {
      await redis.del(k.attempts(key));
    },
    async health() {
      try {
        await redis.ping();
        // Settings change without a restart of the IdP (CONFIG SET, a Redis restarted or failed
        // over with another configuration): readiness judges the Redis it talks to now.
        const forgets = durability === 'require' ? await redisDurabilityProblem(redis) : undefined;
        if (forgets) return { ok: false, reason: `Redis at ${redactUrlPassword(url)} is not durable: ${forgets}` };
        return { ok: true };
      } catch (err) {
        return { ok: false, reason: `Redis at ${redactUrlPassword(url)}: ${(err as Error).message}` };
      }
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
  return store;
}
