import type { Redis } from 'ioredis';
import { TokenCipher } from '../infra/crypto';
import { installationSchema, tokenSetSchema, type Installation, type TokenSet } from './installation';
import type { InstallationStore } from './installation-store';

/**
 * Installations in Redis: `<prefix>:inst:<id>` is a hash with the installation JSON and the
 * sealed token pair; `<prefix>:inst-index` lists ids. Data other modules keep per installation
 * lives under `<prefix>:i:<id>:*` so that `delete` can remove it all.
 */
export class RedisInstallationStore implements InstallationStore {
  constructor(
    private readonly redis: Redis,
    private readonly cipher: TokenCipher,
    private readonly prefix: string,
  ) {}

  private key(id: string) {
    return `${this.prefix}:inst:${id}`;
  }

  async save(installation: Installation, tokens: TokenSet): Promise<void> {
    const valid = installationSchema.parse(installation);
    await this.redis
      .multi()
      .hset(this.key(valid.id), { data: JSON.stringify(valid), tokens: this.seal(tokens) })
      .sadd(`${this.prefix}:inst-index`, valid.id)
      .exec();
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

  async update(installation: Installation): Promise<boolean> {
    const valid = installationSchema.parse(installation);
    const updated = await this.redis.eval(
      "if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'data', ARGV[1]) return 1 end return 0",
      1,
      this.key(valid.id),
      JSON.stringify(valid),
    );
    return updated === 1;
  }

  async markRevoked(id: string, reason: string): Promise<void> {
    const installation = await this.find(id);
    if (!installation) return;
    const revoked = { ...installation, status: 'revoked' as const, revokedReason: reason };
    await this.redis.hset(this.key(id), { data: JSON.stringify(revoked) });
    await this.redis.hdel(this.key(id), 'tokens');
  }

  async delete(id: string): Promise<void> {
    const scoped = await scanKeys(this.redis, `${this.prefix}:i:${id}:*`);
    const multi = this.redis.multi().del(this.key(id)).srem(`${this.prefix}:inst-index`, id);
    for (const key of scoped) multi.del(key);
    await multi.exec();
  }

  async list(): Promise<Installation[]> {
    const ids = await this.redis.smembers(`${this.prefix}:inst-index`);
    const found = await Promise.all(ids.sort().map((id) => this.find(id)));
    return found.filter((i): i is Installation => i !== null);
  }

  private seal(tokens: TokenSet): string {
    return this.cipher.encrypt(JSON.stringify(tokenSetSchema.parse(tokens)));
  }
}

export async function scanKeys(redis: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
}
