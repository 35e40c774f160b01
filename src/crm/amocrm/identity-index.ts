import type { Redis } from 'ioredis';
import { identitiesOf } from '../../dedup/communications';
import { installationKey } from '../../infra/keys';
import type { AmoContact } from './client-search';

/**
 * amoCRM has no multi-value contact search (`GET /api/v4/contacts?query=` takes one value), so the
 * duplicate catcher's lookup would cost one request per phone of every new lead. This index keeps,
 * per installation, which contacts hold each normalised phone, e-mail and messenger id, so a
 * lookup costs Redis reads plus one merged `filter[id][]` read of the candidates.
 *
 * Soundness: the index only ever proposes candidates; every candidate is read from amoCRM and
 * compared exactly, so a stale entry costs an id in a read, never a false match. Entries are only
 * added (never removed on an update): an update processed out of order can then never drop a
 * value the contact still holds. Deleted contacts stay until the next rebuild (a read finds nothing).
 *
 * What can be missed, and how it is caught up:
 * - a value added to a contact while its `update_contact` webhook was lost: the catch-up scans
 *   contacts modified since its last scan (`filter[updated_at][from]`) on every run (see
 *   ./identity-backfill.ts), so the gap lasts at most one RECONCILE_INTERVAL_S;
 * - a contact created by someone else a moment before a lead sharing its phone, while the
 *   `add_contact` event has not been handled yet: the robot's identity locks serialise the two
 *   requests, and every contact the adapter reads (a request's own contact first of all) is
 *   indexed before its job takes those locks, so the later job finds the earlier one's contact;
 * - the backfill pages by `page=N` (amoCRM has no key paging for contacts): a contact deleted
 *   during the backfill shifts the unread ones by one, and a contact at a page boundary may be
 *   skipped until it is next modified. README "Duplicate catcher" names this limit.
 */
export class AmoIdentityIndex {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly installationId: string,
  ) {}

  private key(...parts: string[]): string {
    return installationKey(this.prefix, this.installationId, 'amo-identities', ...parts);
  }

  /** Adds every identity the contacts hold (see `indexableKeys`). One round trip. */
  async add(contacts: readonly AmoContact[]): Promise<void> {
    const pipeline = this.redis.pipeline();
    let commands = 0;
    for (const contact of contacts) {
      if (!Number.isSafeInteger(contact.id) || contact.id <= 0) continue;
      for (const identity of indexableKeys(contact)) {
        pipeline.sadd(this.key('by', identity), String(contact.id));
        commands++;
      }
    }
    if (commands) await pipeline.exec();
  }

  /** Adds identities a contact was just given (the app's own write). */
  async addValues(contactId: number, values: { phones: string[]; emails: string[]; messengers: string[] }): Promise<void> {
    const keys = identitiesOf({ ...values, messengers: values.messengers.map(bareMessenger) }).identities.map((i) => i.key);
    if (!keys.length) return;
    const pipeline = this.redis.pipeline();
    for (const key of keys) pipeline.sadd(this.key('by', key), String(contactId));
    await pipeline.exec();
  }

  /** Contact ids holding any of the identity keys, newest first, at most `max`. */
  async candidates(identityKeys: readonly string[], max = CANDIDATES_MAX): Promise<number[]> {
    if (!identityKeys.length) return [];
    const pipeline = this.redis.pipeline();
    for (const key of identityKeys) pipeline.smembers(this.key('by', key));
    const answers = (await pipeline.exec()) ?? [];
    const ids = new Set<number>();
    for (const [err, members] of answers) {
      if (err) throw err;
      for (const id of members as string[]) if (/^[1-9]\d{0,15}$/.test(id)) ids.add(Number(id));
    }
    return [...ids].sort((a, b) => b - a).slice(0, max);
  }

  async state(): Promise<IndexState> {
    const raw = await this.redis.hgetall(this.key('state'));
    return {
      status: raw.status === 'complete' ? 'complete' : 'building',
      nextPage: Number(raw.nextPage ?? 1) || 1,
      contacts: Number(raw.contacts ?? 0),
      startedAt: raw.startedAt ? Number(raw.startedAt) : null,
      completedAt: raw.completedAt ? Number(raw.completedAt) : null,
      modifiedSince: raw.modifiedSince ? Number(raw.modifiedSince) : null,
    };
  }

  async isComplete(): Promise<boolean> {
    return (await this.redis.hget(this.key('state'), 'status')) === 'complete';
  }

  /**
   * (Re)connection: lookups go back to amoCRM's search until a new backfill completes. Entries are
   * kept: they only propose candidates, and the backfill adds whatever changed while disconnected.
   */
  async startRebuild(nowSeconds: number): Promise<void> {
    await this.redis.multi().del(this.key('state')).hset(this.key('state'), { status: 'building', nextPage: 1, contacts: 0, startedAt: nowSeconds }).exec();
  }

  /** One backfill page is indexed: the cursor moves past it (a crash resumes at `nextPage`). */
  async pageDone(nextPage: number, contacts: number): Promise<void> {
    await this.redis.multi().hset(this.key('state'), 'nextPage', nextPage).hincrby(this.key('state'), 'contacts', contacts).exec();
  }

  /** Every contact was read: lookups may trust the index; the modified-contacts scan starts at the backfill's start. */
  async complete(startedAt: number, nowSeconds: number): Promise<void> {
    await this.redis.hset(this.key('state'), { status: 'complete', completedAt: nowSeconds, modifiedSince: startedAt });
  }

  async scannedModifiedUntil(seconds: number): Promise<void> {
    await this.redis.hset(this.key('state'), 'modifiedSince', seconds);
  }
}

export interface IndexState {
  status: 'building' | 'complete';
  nextPage: number;
  contacts: number;
  /** Unix seconds the current backfill started (its page 1). */
  startedAt: number | null;
  completedAt: number | null;
  /** Unix seconds the next modified-contacts scan starts from. */
  modifiedSince: number | null;
}

/** A shared office number held by hundreds of contacts: the newest this many are verified. */
export const CANDIDATES_MAX = 250;

/** Longer values are notes or addresses, not messenger ids. */
const MESSENGER_MAX_LENGTH = 64;

const bareMessenger = (m: string) => (m.includes('|') ? m.slice(m.indexOf('|') + 1) : m);

/**
 * Phones and e-mails by their field codes; every other short text value as a possible messenger
 * id: which fields hold messengers is a setting (`amocrmMessengerFields`) that may change after
 * the index is built, so the index proposes all of them and the lookup's exact comparison applies
 * the setting.
 */
export function indexableKeys(contact: AmoContact): string[] {
  const phones: string[] = [];
  const emails: string[] = [];
  const messengers: string[] = [];
  for (const field of contact.custom_fields_values ?? []) {
    for (const { value } of field.values) {
      if (typeof value !== 'string' && typeof value !== 'number') continue;
      const text = String(value);
      if (field.field_code === 'PHONE') phones.push(text);
      else if (field.field_code === 'EMAIL') emails.push(text);
      else if (text.length <= MESSENGER_MAX_LENGTH) messengers.push(text);
    }
  }
  return identitiesOf({ phones, emails, messengers }).identities.map((i) => i.key);
}
