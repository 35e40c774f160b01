import { identitiesOf, missingIdentities, normaliseEmail, normaliseMessenger, normalisePhone, searchFormsOfPhone } from '../../src/dedup/communications';

/** Real-world ways one Russian mobile reaches a CRM: forms, calls, imports, managers typing. */
const SAME_MOBILE: string[] = [
  '8 (999) 123-45-67',
  '+7 999 123 45 67',
  '79991234567',
  '9991234567',
  '8-999-123-45-67 доб. 12',
  '+79991234567',
  '89991234567',
  '8 999 123 45 67',
  '8 999 123-45-67',
  '8(999)1234567',
  '8 (999) 1234567',
  '+7 (999) 123-45-67',
  '+7(999)123-45-67',
  '+7-999-123-45-67',
  '+7 999 1234567',
  '7 999 123 45 67',
  '7(999)123-45-67',
  '(999) 123-45-67',
  '999 123 45 67',
  '999-123-45-67',
  '999 123-45-67',
  '+7 999 123 4567',
  '8.999.123.45.67',
  '+7.999.123.45.67',
  ' +7 999 123 45 67 ',
  '\t89991234567\n',
  '8 999 12 34 567',
  '8 9991 23 45 67',
  '+7 (999) 123 45 67 доб. 105',
  '+7 999 123-45-67 доб.12',
  '8 999 123 45 67 доб 3',
  '8 999 123 45 67 добавочный 12',
  '+7 999 123 45 67 ext. 5',
  '+7 999 123 45 67 ext 5',
  '+79991234567 x12',
  '+79991234567#12',
  '8 999 123 45 67, доб. 44',
  '8 999 123 45 67 вн. 201',
  '+7 999 123 45 67 (Иван)',
  '8 999 123 45 67 (моб.)',
  '+7 (999) 123-45-67 (WhatsApp)',
  '+7 999 123 45 67 ',
  '+7  999  123  45  67',
  '8–999–123–45–67',
  '+7 999 123 45 67‬',
  '8 (999)123-45-67',
  '8(999) 123 45 67',
  '+7(999) 1234567',
  '+7 9991234567',
  '8 9991234567',
  '810 7 999 123 45 67',
  '007 999 123 45 67',
  '+7 999 123 45 67.',
  '+7 999 123 45 67;',
  '+7/999/123-45-67',
  '7-999-123-45-67',
  '8_999_123_45_67',
];

describe('the phone corpus: one mobile written every way it reaches a CRM is one person', () => {
  it.each(SAME_MOBILE)('%j is +79991234567', (raw) => {
    const result = normalisePhone(raw);
    expect(result).toMatchObject({ ok: true, identity: { kind: 'phone', key: '+79991234567' } });
  });
});

describe('other numbers keep who they are', () => {
  it.each([
    ['+375 29 123-45-67', '+375291234567'], // Belarus
    ['375291234567', '+375291234567'], // Belarus typed without the plus
    ['8 10 375 29 123 45 67', '+375291234567'], // via the Russian exit code
    ['+7 701 123 4567', '+77011234567'], // Kazakhstan shares +7
    ['87011234567', '+77011234567'],
    ['+7 727 123 45 67', '+77271234567'],
    ['+44 20 7946 0958', '+442079460958'],
    ['+380 44 123 4567', '+380441234567'],
    ['+998 90 123 45 67', '+998901234567'],
    ['8 (495) 123-45-67', '+74951234567'], // Moscow landline
    ['+7 (812) 123-45-67 доб. 7', '+78121234567'],
    ['8 800 555-35-35', '+78005553535'], // a call-center number: valid, the ignore list handles it
    ['+7 999 765 43 21', '+79997654321'], // a different mobile
  ])('%j → %s', (raw, key) => {
    expect(normalisePhone(raw)).toMatchObject({ ok: true, identity: { key } });
  });
});

describe('an unreadable value is never matched', () => {
  it.each([
    '',
    '   ',
    '123',
    '12-34-56',
    '8 999 123',
    'нет телефона',
    'позвонить вечером',
    '+7 999 123 45 67 8 999 765 43 21 55',
    '0000000000000000',
    '+7 000 000 00 00',
    'abc@mail.ru',
  ])('%j is rejected', (raw) => {
    expect(normalisePhone(raw).ok).toBe(false);
  });
});

describe('e-mails are trimmed and lower-cased, with nothing cleverer', () => {
  it.each([
    ['Ivan.Petrov@Mail.RU', 'ivan.petrov@mail.ru'],
    ['  ivan@mail.ru ', 'ivan@mail.ru'],
    ['IVAN+flat@gmail.com', 'ivan+flat@gmail.com'],
  ])('%j → %s', (raw, key) => expect(normaliseEmail(raw)).toMatchObject({ ok: true, identity: { key } }));
  it('a Gmail dot is a different address', () => {
    expect(normaliseEmail('i.van@gmail.com')).not.toEqual(normaliseEmail('ivan@gmail.com'));
  });
  it.each(['ivan', 'ivan@', '@mail.ru', 'ivan @mail.ru'])('%j is rejected', (raw) => expect(normaliseEmail(raw).ok).toBe(false));
});

describe('messenger ids', () => {
  it.each([
    ['@Ivan_Petrov', 'TELEGRAM', 'telegram:ivan_petrov'],
    ['https://t.me/ivan_petrov', '', 'telegram:ivan_petrov'],
    ['t.me/Ivan_Petrov/', '', 'telegram:ivan_petrov'],
    ['ivan_petrov', 'telegram', 'telegram:ivan_petrov'],
    ['+7 999 123 45 67', 'WHATSAPP', 'whatsapp:+79991234567'],
    ['https://wa.me/79991234567', '', 'whatsapp:+79991234567'],
  ])('%j (%s) → %s', (raw, network, key) => expect(normaliseMessenger(raw, network)).toMatchObject({ ok: true, identity: { key } }));
  it('the same handle on two networks is two identities', () => {
    const a = normaliseMessenger('ivan', 'TELEGRAM');
    const b = normaliseMessenger('ivan', 'VK');
    expect(a.ok && b.ok && a.identity.key !== b.identity.key).toBe(true);
  });
});

describe('identity sets', () => {
  it('one person with a phone written twice and an e-mail has two identities; the unreadable value is reported', () => {
    const set = identitiesOf({ phones: ['8 999 123-45-67', '+7 999 123 45 67', 'нет'], emails: ['Ivan@Mail.ru'], messengers: ['TELEGRAM|@ivan'] });
    expect(set.identities.map((i) => i.key)).toEqual(['+79991234567', 'ivan@mail.ru', 'telegram:ivan']);
    expect(set.rejected).toEqual([{ kind: 'phone', raw: 'нет', why: expect.any(String) }]);
  });
  it('a contact lacks only what it does not have in any format', () => {
    const contact = identitiesOf({ phones: ['8 (999) 123-45-67'] }).identities;
    const lead = identitiesOf({ phones: ['+79991234567', '+7 999 765 43 21'], emails: ['a@b.ru'] }).identities;
    expect(missingIdentities(lead, contact).map((i) => i.raw)).toEqual(['+7 999 765 43 21', 'a@b.ru']);
  });
  it('a Russian mobile is searched in every form a CRM may store it', () => {
    expect(searchFormsOfPhone('+79991234567')).toEqual(['+79991234567', '89991234567', '79991234567', '9991234567']);
    expect(searchFormsOfPhone('+375291234567')).toEqual(['+375291234567']);
  });
});
