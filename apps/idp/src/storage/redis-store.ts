// Store for several IdP instances sharing state: Redis. Artifacts are hashes with the payload,
// the consumed mark and the grant id; secondary indexes (uid, user code, grant members) are
// plain keys and sets. `consume` is one Lua script (exists + HSETNX), so exactly one of racing
// requests wins, even when another request deletes the artifact in between.
import { Redis } from 'ioredis';
import { epochSeconds, systemClock, type Clock } from '../clock.ts';
import { GRANT_MEMBERS, type AttemptReservation, type ConsumeOutcome, type Payload, type Store, type StoredSigningKey } from './store.ts';
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
 * cleans up. KEYS: counters; ARGV: window seconds, now, then one limit per key (0 = unlimited).
 * Returns {1, count...} when granted, {0, retryAfterSeconds} when a limit is reached.
 */
const RESERVE_SCRIPT = `
local window, now = tonumber(ARGV[1]), tonumber(ARGV[2])
local function current(key)
  local v = redis.call('HMGET', key, 'count', 'start')
  local count, start = tonumber(v[1]), tonumber(v[2])
  if not count or not start or start + window <= now then return 0, now end
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

export interface RedisStoreOptions {
  clock?: Clock;
}

export async function openRedisStore(url: string, opts: RedisStoreOptions = {}): Promise<Store> {
  const clock = opts.clock ?? systemClock;
  const now = () => epochSeconds(clock);
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: false });
  await redis.connect();

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
      return all.map((v) => JSON.parse(v) as StoredSigningKey).sort((a, b) => b.createdAt - a.createdAt);
    },
    async addSigningKey(key) {
      await redis.hset(k.keys, key.kid, JSON.stringify(key));
    },
    async retireSigningKeysExcept(kid, at) {
      for (const key of await store.listSigningKeys()) {
        if (key.kid !== kid && key.retiredAt === null) await redis.hset(k.keys, key.kid, JSON.stringify({ ...key, retiredAt: at }));
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
    async close() {
      await redis.quit();
    },
  };
  return store;
}
