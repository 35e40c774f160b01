import { Cluster, type Redis } from 'ioredis';
import { TokenCipher } from '../infra/crypto';
import { invalidationChannel, invalidationMessage } from '../infra/invalidation-bus';
import { installationKey, installationKeysPattern } from '../infra/keys';
import { installationSchema, tokenSetSchema, type Installation, type TokenSet } from './installation';
import type { BoundedLogAppend, InstallationStore } from './installation-store';

/**
 * Installations in Redis: `<prefix>:i:{<id>}:installation` is a hash with the installation JSON
 * and the sealed token pair; `<prefix>:inst-index` lists ids. Everything other modules keep per
 * installation lives under `<prefix>:i:{<id>}:` (see `installationKey`), so `delete` removes it
 * all and nothing else: the id is validated and the pattern escaped.
 *
 * Every change to a record is announced on the invalidation bus after it is written, so caches of
 * the record in other processes (the edge's `InstallationCache`) drop it at once.
 */
export class RedisInstallationStore implements InstallationStore {
  constructor(
    private readonly redis: Redis,
    private readonly cipher: TokenCipher,
    private readonly prefix: string,
  ) {}

  /** Throws InvalidInstallationIdError for anything but `b24:<member_id>` / `amo:<account_id>`. */
  private key(id: string) {
    return installationKey(this.prefix, id, 'installation');
  }

  private get indexKey() {
    return `${this.prefix}:inst-index`;
  }

  /**
   * The index first, then the record: two commands, not one MULTI, because the shared index and
   * the installation's keys sit in different Redis Cluster slots. A crash between them leaves an
   * indexed id without a record, which `list` skips and the next save completes.
   */
  async save(installation: Installation, tokens: TokenSet): Promise<void> {
    const valid = installationSchema.parse(installation);
    const sealed = this.seal(tokens);
    await this.redis.sadd(this.indexKey, valid.id);
    await this.redis.hset(this.key(valid.id), { data: JSON.stringify(valid), tokens: sealed });
    await this.announce(valid.id);
  }

  async find(id: string): Promise<Installation | null> {
    const raw = await this.redis.hget(this.key(id), 'data');
    return raw ? installationSchema.parse(JSON.parse(raw)) : null;
  }

  async tokens(id: string): Promise<TokenSet | null> {
    const sealed = await this.redis.hget(this.key(id), 'tokens');
    return sealed ? tokenSetSchema.parse(JSON.parse(this.cipher.decrypt(sealed))) : null;
  }

  async saveTokens(id: string, tokens: TokenSet): Promise<void> {
    // HSET on an existing key only: a removed installation must not come back through a late refresh.
    const updated = await this.redis.eval(
      "if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'tokens', ARGV[1]) return 1 end return 0",
      1,
      this.key(id),
      this.seal(tokens),
    );
    if (updated !== 1) throw new Error(`Installation ${id} no longer exists`);
  }

  async markRevoked(id: string, reason: string): Promise<void> {
    const installation = await this.find(id);
    if (!installation) return;
    const revoked = { ...installation, status: 'revoked' as const, revokedReason: reason };
    await this.redis.hset(this.key(id), { data: JSON.stringify(revoked) });
    await this.redis.hdel(this.key(id), 'tokens');
    await this.announce(id);
  }

  /** `modify` for the settings alone (the settings command, the demo, tests). */
  updateSettings(id: string, change: (current: Installation) => Installation['settings'] | null): Promise<Installation | null> {
    return this.modify(id, (current) => {
      const settings = change(current);
      return settings === null ? null : { ...current, settings };
    });
  }

  async modify(id: string, change: (current: Installation) => Installation | null, alongside?: (current: Installation, next: Installation) => BoundedLogAppend | null): Promise<Installation | null> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const raw = await this.redis.hget(this.key(id), 'data');
      if (!raw) return null;
      const current = installationSchema.parse(JSON.parse(raw));
      const changed = change(current);
      if (changed === null) return current;
      const next = installationSchema.parse({ ...changed, id: current.id, crm: current.crm });
      const row = alongside?.(current, next) ?? null;
      // The row's key must be this installation's (same Redis Cluster slot, one atomic script).
      if (row && !row.key.startsWith(installationKey(this.prefix, id, ''))) throw new Error(`${row.key} is not a key of installation ${id}`);
      const swapped = row
        ? await this.redis.eval(SWAP_AND_APPEND, 2, this.key(id), row.key, raw, JSON.stringify(next), row.score, row.member, row.keepFromScore, row.keepEntries, row.ttlMs)
        : await this.redis.eval(SWAP, 1, this.key(id), raw, JSON.stringify(next));
      if (swapped === 1) {
        await this.announce(id);
        return next;
      }
    }
    throw new Error(`Installation ${id} changed concurrently 20 times in a row; try again`);
  }

  async delete(id: string): Promise<void> {
    // The record first: a late token refresh or event then finds nothing to write into.
    await this.redis.del(this.key(id));
    await this.announce(id);
    const scoped = await scanKeys(this.redis, installationKeysPattern(this.prefix, id));
    for (let i = 0; i < scoped.length; i += 500) await this.redis.del(...scoped.slice(i, i + 500));
    await this.redis.srem(this.indexKey, id);
  }

  async list(): Promise<Installation[]> {
    const ids = await this.redis.smembers(this.indexKey);
    const found = await Promise.all(ids.sort().map((id) => this.find(id)));
    return found.filter((i): i is Installation => i !== null);
  }

  private async announce(id: string): Promise<void> {
    await this.redis.publish(invalidationChannel(this.prefix), invalidationMessage('installation', id));
  }

  private seal(tokens: TokenSet): string {
    return this.cipher.encrypt(JSON.stringify(tokenSetSchema.parse(tokens)));
  }
}

/** Compare-and-set of the record's JSON. */
const SWAP = "if redis.call('HGET', KEYS[1], 'data') == ARGV[1] then redis.call('HSET', KEYS[1], 'data', ARGV[2]) return 1 end return 0";

/**
 * The same, plus a row in a bounded sorted set (KEYS[2]), trimmed by age and count: both or neither.
 * The row goes first: a script stopped by an error keeps what it already wrote, and ZADD is the step
 * that can fail (a key of the wrong type); the record's HSET after it cannot.
 */
const SWAP_AND_APPEND = `
if redis.call('HGET', KEYS[1], 'data') ~= ARGV[1] then return 0 end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[5])
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(tonumber(ARGV[6]) + 1))
redis.call('PEXPIRE', KEYS[2], ARGV[7])
redis.call('HSET', KEYS[1], 'data', ARGV[2])
return 1`;

/**
 * Every key matching a SCAN pattern. Build patterns with `escapeGlob` around anything interpolated.
 * SCAN walks one server: on a Redis Cluster client every master is walked.
 */
export async function scanKeys(redis: Redis | Cluster, pattern: string): Promise<string[]> {
  if (redis instanceof Cluster) {
    const perNode = await Promise.all(redis.nodes('master').map((node) => scanKeys(node, pattern)));
    return perNode.flat();
  }
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
}
