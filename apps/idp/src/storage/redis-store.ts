// Store for several IdP instances sharing state: Redis. Artifacts are hashes with the payload,
// the consumed mark and the grant id; secondary indexes (uid, user code, grant members) are
// plain keys and sets. `consume` is one Lua script (exists + HSETNX), so exactly one of racing
// requests wins, even when another request deletes the artifact in between.
import { Redis } from 'ioredis';
import { GRANT_MEMBERS, type ConsumeOutcome, type Payload, type Store, type StoredSigningKey } from './store.ts';

const now = () => Math.floor(Date.now() / 1000);
const PREFIX = 'idp:';
const k = {
  artifact: (model: string, id: string) => `${PREFIX}${model}:${id}`,
  uid: (model: string, uid: string) => `${PREFIX}${model}:uid:${uid}`,
  userCode: (model: string, code: string) => `${PREFIX}${model}:user_code:${code}`,
  grant: (grantId: string) => `${PREFIX}grant-members:${grantId}`,
  keys: `${PREFIX}signing-keys`,
  setting: (name: string) => `${PREFIX}setting:${name}`,
  failures: (key: string) => `${PREFIX}login-failures:${key}`,
};

/** 1: consumed now; 0: consumed before; -1: no such artifact. Never creates the hash. */
const CONSUME_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
return redis.call('HSETNX', KEYS[1], 'consumed', ARGV[1])`;

export async function openRedisStore(url: string): Promise<Store> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: false });
  await redis.connect();

  const read = async (key: string): Promise<Payload | undefined> => {
    const [payload, consumed] = await redis.hmget(key, 'payload', 'consumed');
    if (!payload) return undefined;
    const parsed = JSON.parse(payload) as Payload;
    if (consumed) parsed['consumed'] = Number(consumed);
    return parsed;
  };

  const store: Store = {
    async upsert(model, id, payload, expiresIn) {
      const key = k.artifact(model, id);
      const grantId = payload['grantId'] as string | undefined;
      const tx = redis.multi().hset(key, 'payload', JSON.stringify(payload), 'grantId', grantId ?? '');
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
    async recordFailure(key, windowSeconds) {
      const [[, count]] = (await redis.multi().incr(k.failures(key)).expire(k.failures(key), windowSeconds, 'NX').exec()) as [[unknown, number]];
      return count;
    },
    async failureCount(key) {
      return Number((await redis.get(k.failures(key))) ?? 0);
    },
    async clearFailures(key) {
      await redis.del(k.failures(key));
    },
    async close() {
      await redis.quit();
    },
  };
  return store;
}
