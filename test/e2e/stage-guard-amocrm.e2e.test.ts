import { configureRegulations } from '../../src/installations/configure-regulations';
import { setupAmoPrimaryMarket } from '../helpers/funnels';
import { startLocalStack, type LocalStack } from '../helpers/local-stack';
import { redisUrl } from '../helpers/test-services';

const MANAGER = 2;

describe('stage guard on amoCRM (seed 002 «Первичный рынок»)', () => {
  let stack: LocalStack;
  let stage: (name: string) => number;
  let pipelineId: number;

  beforeEach(async () => {
    stack = await startLocalStack({ redisUrl: redisUrl() });
    ({ stage, pipelineId } = setupAmoPrimaryMarket(stack.amo));
    await stack.amo.install(`${stack.appUrl}/amocrm/oauth/callback`);
    const installationId = (await stack.services.store.list())[0]!.id;
    expect(await configureRegulations(stack.services, installationId, [{ preset: 'amocrm-primary-market' }])).toMatchObject({ ok: true });
  });
  afterEach(() => stack.stop());

  const field = (name: string) => stack.amo.leadFieldId(name);
  const meeting = () => [
    { field_id: field('Дата встречи'), values: [{ value: 1795600000 }] },
    { field_id: field('Время встречи'), values: [{ value: '15:00' }] },
    { field_id: field('Место встречи'), values: [{ value: 'офис продаж на Ленина, 1' }] },
  ];
  const stageWrites = (id: number) => stack.amo.calls.filter((c) => c.method === 'PATCH' && c.path === `/api/v4/leads/${id}` && (c.body as { status_id?: number })?.status_id);
  const notes = (id: number) => stack.amo.notes(id).map((n) => String((n.params as { text?: string } | undefined)?.text ?? ''));

  async function lead(at: string, custom_fields_values: Array<{ field_id: number; values: Array<{ value: unknown }> }> = []): Promise<number> {
    const id = stack.amo.userAddLead({ name: 'Заявка', pipeline_id: pipelineId, status_id: stage(at), responsible_user_id: MANAGER, custom_fields_values }, MANAGER);
    await stack.idle();
    return id;
  }
  async function move(id: number, to: string | number) {
    stack.amo.userMoveLead(id, typeof to === 'number' ? to : stage(to), MANAGER);
    await stack.idle();
  }
  const statusOf = (id: number) => stack.amo.getLead(id)?.status_id;

  it('a deal cannot skip «Встреча состоялась»: from «Встреча назначена» straight to «Отправлено КП» is put back', async () => {
    const id = await lead('Передан в работу', meeting());
    await move(id, 'Встреча назначена');
    expect(statusOf(id)).toBe(stage('Встреча назначена'));
    await move(id, 'Отправлено КП');
    expect(statusOf(id)).toBe(stage('Встреча назначена'));
    expect(notes(id).join('\n')).toContain('«Встреча состоялась»');
    expect(stageWrites(id)).toHaveLength(1);
  });

  it('no sale without a held meeting: «Успешно реализовано» from «Передан в работу» is put back', async () => {
    const id = await lead('Передан в работу');
    await move(id, 142);
    expect(statusOf(id)).toBe(stage('Передан в работу'));
    expect(notes(id).join('\n')).toContain('«Встреча состоялась»');
  });

  it('«Встреча назначена» needs the date, time and place of the meeting', async () => {
    const id = await lead('Передан в работу');
    await move(id, 'Встреча назначена');
    expect(statusOf(id)).toBe(stage('Передан в работу'));
    const text = notes(id).join('\n');
    for (const name of ['«Дата встречи»', '«Время встречи»', '«Место встречи»']) expect(text).toContain(name);
    // The manager also gets a task on the deal (amoCRM's way to reach a user).
    expect(stack.amo.tasks.some((t) => t.entity_id === id && t.responsible_user_id === MANAGER)).toBe(true);
  });

  it('«На закрытие» needs a reason', async () => {
    const id = await lead('Передан в работу');
    await move(id, 'Не дозвонились');
    expect(statusOf(id)).toBe(stage('Не дозвонились'));
    await move(id, 'На закрытие');
    expect(statusOf(id)).toBe(stage('Не дозвонились'));
    expect(notes(id).join('\n')).toContain('«Причина закрытия»');
    stack.amo.userUpdateLead(id, { custom_fields_values: [{ field_id: field('Причина закрытия'), values: [{ value: 'купил вторичку' }] }] }, MANAGER);
    await stack.idle();
    await move(id, 'На закрытие');
    expect(statusOf(id)).toBe(stage('На закрытие'));
  });

  it('the path of the regulation stands untouched, and the held meeting is recorded', async () => {
    const id = await lead('Передан в работу', meeting());
    for (const to of ['Встреча назначена', 'Встреча состоялась', 'Отправлено КП', 'ОС получена']) await move(id, to);
    expect(notes(id)).toEqual([expect.stringMatching(/^Встреча состоялась/)]);
    expect(statusOf(id)).toBe(stage('ОС получена'));
    expect(stageWrites(id)).toHaveLength(0);
    expect(notes(id).some((n) => n.startsWith('Встреча состоялась'))).toBe(true);
  });

  it('a stale webhook delivered again, out of order, changes nothing', async () => {
    const id = await lead('Передан в работу', meeting());
    await move(id, 'Встреча назначена');
    const first = stack.amo.deliveries.find((d) => d.body.includes(`leads%5Bstatus%5D%5B0%5D%5Bid%5D=${id}`))!;
    await move(id, 'Встреча состоялась');
    const destination = stack.amo.webhooks()[0]!.destination;
    const replay = await fetch(destination, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: first.body });
    expect(replay.status).toBe(200);
    await stack.idle();
    expect(statusOf(id)).toBe(stage('Встреча состоялась'));
    expect(stageWrites(id)).toHaveLength(0);
  });

  it('moves faster than the guard: one revert, no flapping', async () => {
    const id = await lead('Передан в работу');
    stack.amo.userMoveLead(id, stage('Встреча назначена'), MANAGER); // no meeting fields: a violation
    stack.amo.userMoveLead(id, stage('Встреча состоялась'), MANAGER);
    await stack.idle();
    expect(statusOf(id)).toBe(stage('Передан в работу'));
    expect(stageWrites(id)).toHaveLength(1);
  });
});
