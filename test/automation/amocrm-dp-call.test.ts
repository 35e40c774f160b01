import { createHash } from 'node:crypto';
import { automationCallSchema, type AutomationCall, type AutomationResult } from '../../src/automation/automation-call';
import { callFingerprint } from '../../src/automation/automation-queue';
import { dpResultNote } from '../../src/automation/dp-result-note';
import { dpKeyFor, matchesDpKey } from '../../src/installations/amocrm-dp-key';
import { sameAccount } from '../../webhooks/amocrm/digital-pipeline';

const dpCall: AutomationCall = {
  installationId: 'amo:31000001',
  action: 'renameDeal',
  target: { entity: 'deal', id: '501' },
  properties: {},
  reply: { kind: 'amocrm_dp', pipelineId: '7001', statusId: '7005', eventTime: '1790000000' },
  receivedAt: 1,
};

describe('an amoCRM Digital Pipeline call is one call', () => {
  it('the same DP event (account, lead, stage, time, action) has one fingerprint, whenever it is received', () => {
    expect(callFingerprint({ ...dpCall })).toBe(callFingerprint({ ...dpCall, receivedAt: 2 } as AutomationCall));
  });

  it.each([
    ['another account', { installationId: 'amo:31000002' }],
    ['another lead', { target: { entity: 'deal', id: '502' } }],
    ['another stage', { reply: { ...dpCall.reply, statusId: '7006' } }],
    ['another pipeline', { reply: { ...dpCall.reply, pipelineId: '7002' } }],
    ['another entry (time)', { reply: { ...dpCall.reply, eventTime: '1790000001' } }],
    ['another action', { action: 'checkTransition' }],
  ])('%s is another call', (_case, change) => {
    expect(callFingerprint({ ...dpCall, ...change } as AutomationCall)).not.toBe(callFingerprint(dpCall));
  });

  it('a Bitrix24 call keeps the fingerprint it had before the reply became a union (its stored result is found)', () => {
    const b24 = { ...dpCall, installationId: 'b24:' + 'a'.repeat(32), reply: { kind: 'bitrix24' as const, eventToken: 'tok-1' } };
    expect(callFingerprint(b24)).toBe(createHash('sha256').update(`${b24.installationId}\ntok-1`).digest('hex').slice(0, 40));
  });

  it('a Bitrix24 job queued before the change (replyToken) is read as a Bitrix24 reply', () => {
    const legacy = { installationId: 'b24:' + 'a'.repeat(32), action: 'renameDeal', target: { entity: 'deal', id: '1' }, properties: {}, replyToken: 'tok-2', receivedAt: 1 };
    expect(automationCallSchema.parse(legacy).reply).toEqual({ kind: 'bitrix24', eventToken: 'tok-2' });
  });
});

describe('the note a DP action leaves in the lead', () => {
  const result = (values: Record<string, string>, log = ''): AutomationResult => ({ values, log });
  it.each([
    ['renameDeal', result({ title: '501 / Петров / кв. 3' }), 'ru', 'Цифровая воронка, «Переименовать сделку»: Название сделки: «501 / Петров / кв. 3».'],
    ['checkTransition', result({ allowed: 'N', violations: 'Нельзя перейти из «А» в «Б».' }), 'ru', 'Цифровая воронка, «Проверить переход по регламенту»: Переход нарушает регламент. Нельзя перейти из «А» в «Б».'],
    ['checkTransition', result({ allowed: 'Y', violations: '' }, 'complies'), 'ru', 'Цифровая воронка, «Проверить переход по регламенту»: Переход разрешён регламентом.'],
    ['checkTransition', result({ allowed: 'Y', violations: '' }, 'not_governed'), 'ru', 'Цифровая воронка, «Проверить переход по регламенту»: Переход разрешён регламентом. Этот переход регламент не регулирует.'],
    ['checkTransition', result({ allowed: 'Y', violations: '' }, 'Регламент для этой воронки не подключён'), 'ru', 'Цифровая воронка, «Проверить переход по регламенту»: Переход разрешён регламентом. Регламент для этой воронки не подключён'],
    ['distributeLead', result({ responsibleId: '3', responsibleName: 'Анна' }), 'ru', 'Цифровая воронка, «Передать лид по распределению»: Ответственный по распределению: Анна.'],
    ['distributeLead', result({ responsibleId: '', responsibleName: '' }, 'nobody can take the lead\n  skipped Анна (#3): on vacation'), 'ru', 'Цифровая воронка, «Передать лид по распределению»: Ответственный не назначен: сейчас нет менеджера, который может взять лид (рабочее время, отпуска, дневной лимит).'],
    ['distributeLead', result({ responsibleId: '', responsibleName: '' }, 'nobody can take the lead\n  skipped Анна (#3): on vacation'), 'en', 'Digital Pipeline, «Assign the lead by distribution»: Nobody was assigned: nobody can take the lead.'],
    ['bookUnit', result({ booked: 'Y', outcome: 'written' }), 'ru', 'Цифровая воронка, «Забронировать объект»: Объект забронирован.'],
    ['bookUnit', result({ booked: 'N', outcome: 'no_regulation' }), 'ru', 'Цифровая воронка, «Забронировать объект»: Объект не забронирован: регламент для этой воронки не подключён.'],
    ['bookUnit', result({ booked: 'N', outcome: 'conflict' }), 'ru', 'Цифровая воронка, «Забронировать объект»: Объект не забронирован: объект занят другой сделкой.'],
    ['releaseUnit', result({ released: 'N', outcome: 'no_inventory' }), 'en', 'Digital Pipeline, «Release the booking»: The booking was not released: no inventory system is connected.'],
    ['releaseUnit', result({ released: 'Y', outcome: 'written' }), 'ru', 'Цифровая воронка, «Снять бронь»: Бронь снята.'],
    ['renameDeal', result({ title: '501 / Petrov' }), 'en', 'Digital Pipeline, «Rename the deal»: Deal title: «501 / Petrov».'],
  ] as const)('%s → %j (%s)', (action, r, locale, text) => {
    expect(dpResultNote(action, r, locale)).toBe(text);
  });
});

describe('the DP key and the account', () => {
  const secret = Buffer.alloc(32, 7);
  it('is the account’s own: valid for it, worthless for another account or under another secret', () => {
    const key = dpKeyFor(secret, 'amo:31000001');
    expect(matchesDpKey(secret, 'amo:31000001', key)).toBe(true);
    expect(matchesDpKey(secret, 'amo:31000002', key)).toBe(false);
    expect(matchesDpKey(Buffer.alloc(32, 8), 'amo:31000001', key)).toBe(false);
    for (const forged of [undefined, '', key.slice(1), `${key}x`, 42]) expect(matchesDpKey(secret, 'amo:31000001', forged)).toBe(false);
  });

  it.each([
    [{ subdomain: 'acme', baseUrl: 'https://acme.amocrm.ru' }, 'acme', true],
    [{ subdomain: 'acme', baseUrl: 'https://acme.amocrm.ru' }, 'ACME', true],
    [{ subdomain: 'acme', baseUrl: 'https://acme.amocrm.ru' }, 'evil', false],
    [{ subdomain: 'acme', baseUrl: 'https://other.kommo.com' }, 'acme', false],
    [{ subdomain: 'reglament-demo', baseUrl: 'http://127.0.0.1:4000' }, 'reglament-demo', true],
  ])('%j and subdomain %s → %s', (installation, subdomain, same) => {
    expect(sameAccount(installation, subdomain)).toBe(same);
  });
});
