import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';

/**
 * How the duplicate catcher recognises one person behind differently written communications.
 * Pure: no I/O. A phone becomes its E.164 form (extensions dropped), an e-mail is trimmed and
 * lower-cased (nothing cleverer: Gmail dots and plus-tags are different addresses to a CRM user),
 * a messenger id is lower-cased without its URL or `@` prefix.
 */
export type IdentityKind = 'phone' | 'email' | 'messenger';

export interface Identity {
  kind: IdentityKind;
  /** The comparable form: `+79991234567`, `ivan@mail.ru`, `telegram:ivan_petrov`. */
  key: string;
  /** The value as the CRM holds it. */
  raw: string;
}

export type Normalised = { ok: true; identity: Identity } | { ok: false; kind: IdentityKind; raw: string; why: string };

/** "доб. 12", "ext. 5", "#12", "x12" at the end: an extension is not part of the person's number. */
const EXTENSION = /\s*(?:,|;)?\s*(?:доб(?:авочный)?\.?|вн\.?|ext\.?|extension|x|#)\s*\d{1,6}\s*$/i;

export function normalisePhone(raw: string, region: CountryCode = 'RU'): Normalised {
  const text = raw.trim();
  const fail = (why: string): Normalised => ({ ok: false, kind: 'phone', raw, why });
  if (!text) return fail('empty');
  if (/[,;]\s*\+?\d[\d\s()-]{6,}/.test(text) && (text.match(/\d/g) ?? []).length > 15) return fail('several numbers in one value');
  const withoutExtension = text.replace(EXTENSION, '').replace(/\([^)0-9]*\)/g, ' ');
  if (/[a-zа-яё]{3,}/i.test(withoutExtension.replace(/доб|ext/gi, ''))) return fail('letters in the number');
  const digits = withoutExtension.replace(/\D/g, '');
  if (digits.length < 10 || digits.length > 15) return fail(`${digits.length} digits`);
  for (const candidate of candidatesOf(withoutExtension, digits)) {
    const parsed = parsePhoneNumberFromString(candidate, region);
    if (parsed && parsed.isValid()) return { ok: true, identity: { kind: 'phone', key: parsed.number, raw } };
  }
  return fail('not a valid number');
}

/**
 * As written first; then the forms people use without a plus: "810 375…" (the Russian exit
 * code) and "375 29…" (a foreign number typed without +).
 */
function candidatesOf(text: string, digits: string): string[] {
  const out = [text, text.trim().startsWith('+') ? `+${digits}` : digits];
  if (digits.startsWith('810')) out.push(`+${digits.slice(3)}`);
  if (digits.startsWith('00')) out.push(`+${digits.slice(2)}`);
  if (!text.trim().startsWith('+')) out.push(`+${digits}`);
  return out;
}

export function normaliseEmail(raw: string): Normalised {
  const key = raw.trim().toLowerCase();
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(key)) return { ok: false, kind: 'email', raw, why: 'not an e-mail address' };
  return { ok: true, identity: { kind: 'email', key, raw } };
}

/**
 * Messenger ids: "@Ivan_Petrov", "https://t.me/ivan_petrov" and "ivan_petrov" are one Telegram
 * user; a WhatsApp id is a phone number. `network` comes from the CRM (Bitrix24 IM VALUE_TYPE,
 * e.g. TELEGRAM, WHATSAPP); values of different networks never match.
 */
export function normaliseMessenger(raw: string, network = ''): Normalised {
  let value = raw.trim().toLowerCase();
  let net = network.trim().toLowerCase();
  const link = /^(?:https?:\/\/)?(t\.me|telegram\.me|wa\.me|api\.whatsapp\.com\/send\?phone=)\/?(.+)$/.exec(value);
  if (link) {
    net = link[1]!.startsWith('t') ? 'telegram' : 'whatsapp';
    value = link[2]!;
  }
  value = value.replace(/^@/, '').replace(/\/+$/, '');
  if (!value) return { ok: false, kind: 'messenger', raw, why: 'empty' };
  if (net === 'whatsapp' || (/^\+?[\d\s()-]{10,}$/.test(value) && net !== 'telegram')) {
    const phone = normalisePhone(value);
    if (phone.ok) return { ok: true, identity: { kind: 'messenger', key: `${net || 'phone'}:${phone.identity.key}`, raw } };
  }
  return { ok: true, identity: { kind: 'messenger', key: `${net || 'im'}:${value}`, raw } };
}

export interface Communications {
  phones: string[];
  emails: string[];
  /** Messenger ids, optionally "NETWORK|id" (Bitrix24 IM VALUE_TYPE first). */
  messengers: string[];
}

export interface IdentitySet {
  identities: Identity[];
  /** Values that could not be read: never matched, logged by the caller. */
  rejected: Array<{ kind: IdentityKind; raw: string; why: string }>;
}

/** Every identity of a person or a lead, deduplicated by key. */
export function identitiesOf(comms: Partial<Communications>, region: CountryCode = 'RU'): IdentitySet {
  const results: Normalised[] = [
    ...(comms.phones ?? []).map((p) => normalisePhone(p, region)),
    ...(comms.emails ?? []).map(normaliseEmail),
    ...(comms.messengers ?? []).map((m) => {
      const [network, id] = m.includes('|') ? [m.slice(0, m.indexOf('|')), m.slice(m.indexOf('|') + 1)] : ['', m];
      return normaliseMessenger(id, network);
    }),
  ];
  const seen = new Set<string>();
  const identities: Identity[] = [];
  const rejected: IdentitySet['rejected'] = [];
  for (const r of results) {
    if (!r.ok) rejected.push({ kind: r.kind, raw: r.raw, why: r.why });
    else if (!seen.has(r.identity.key)) {
      seen.add(r.identity.key);
      identities.push(r.identity);
    }
  }
  return { identities, rejected };
}

/** Identities in `theirs` whose key is not among `ours`: what a contact lacks. */
export function missingIdentities(theirs: Identity[], ours: Identity[]): Identity[] {
  const have = new Set(ours.map((i) => i.key));
  return theirs.filter((i) => !have.has(i.key));
}

/** Whether two sets share an identity (exact comparison of normalised keys). */
export function sharesIdentity(a: Identity[], b: Identity[], ignored: ReadonlySet<string> = new Set()): boolean {
  const keys = new Set(a.map((i) => i.key).filter((k) => !ignored.has(k)));
  return b.some((i) => keys.has(i.key));
}

/**
 * The forms a CRM may have stored a Russian mobile in: "+79991234567", "89991234567",
 * "79991234567", "9991234567". Used as search values where the CRM compares text, not numbers.
 */
export function searchFormsOfPhone(e164: string): string[] {
  if (!e164.startsWith('+7') || e164.length !== 12) return [e164];
  const national = e164.slice(2);
  return [e164, `8${national}`, `7${national}`, national];
}
