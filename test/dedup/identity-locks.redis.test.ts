import { withIdentityLocks } from '../../src/dedup/identity-locks';
import { toAmoContact } from '../../src/crm/amocrm/client-search';
import { RedisInstallationState } from '../../src/installations/installation-state';
import { createTestServices } from '../helpers/test-services';

describe('per-identity locks', () => {
  let services: Awaited<ReturnType<typeof createTestServices>>;
  beforeAll(async () => {
    services = await createTestServices();
  });
  afterAll(() => services.cleanup());

  const state = () => new RedisInstallationState(services.redis, services.prefix, 'b24:0123456789abcdef0123456789abcdef');

  it('two requests sharing a phone are decided one after the other; another person is not held up', async () => {
    const log: string[] = [];
    const decide = (name: string, keys: string[]) =>
      withIdentityLocks(state(), keys, async () => {
        log.push(`${name} start`);
        await new Promise((r) => setTimeout(r, 150));
        log.push(`${name} end`);
      });
    // B holds the phone and an e-mail in the other order: locks are taken sorted, so no deadlock.
    await Promise.all([decide('A', ['+79991234567', 'ivan@mail.ru']), decide('B', ['ivan@mail.ru', '+79991234567']), decide('C', ['+79260000000'])]);
    const a = log.indexOf('A start');
    const b = log.indexOf('B start');
    const [first, second] = a < b ? ['A', 'B'] : ['B', 'A'];
    expect(log.indexOf(`${second} start`)).toBeGreaterThan(log.indexOf(`${first} end`));
    expect(log.indexOf('C start')).toBeLessThan(log.indexOf(`${first} end`));
  });

  it('a lock is released when the decision fails', async () => {
    await expect(withIdentityLocks(state(), ['+79990000001'], async () => Promise.reject(new Error('CRM down')))).rejects.toThrow('CRM down');
    await expect(withIdentityLocks(state(), ['+79990000001'], async () => 'next')).resolves.toBe('next');
  });
});

describe('amoCRM contacts', () => {
  it('messenger ids come from «Мгн. сообщения» (IM) and from the fields named in settings; tags are labels', () => {
    const contact = toAmoContact(
      {
        id: 5,
        name: 'Иванов',
        custom_fields_values: [
          { field_id: 1, field_code: 'IM', values: [{ value: 'ivan_skype' }] },
          { field_id: 2, field_name: 'Telegram', field_code: null, values: [{ value: '@ivan_tg' }] },
          { field_id: 3, field_code: 'PHONE', values: [{ value: '+7 999 123-45-67' }] },
        ],
        _embedded: { tags: [{ id: 1, name: 'Агент' }] },
      },
      ['telegram'],
    );
    expect(contact).toMatchObject({ messengers: ['ivan_skype', '@ivan_tg'], phones: ['+7 999 123-45-67'], labels: ['Агент'] });
  });
});
