import { robotSettingsOf, changeSetting } from '../../src/settings/installation-settings';
import { robots } from '../../src/robots';
import { duplicateCatcher } from '../../src/robots/duplicate-catcher';

describe('duplicate catcher settings', () => {
  it('with nothing set, the defaults work: a day for double submissions, seed 004 loss reasons, agents by type or tag', () => {
    const parsed = robotSettingsOf<Record<string, unknown>>(duplicateCatcher, {});
    expect(parsed.success).toBe(true);
    expect(parsed.data).toMatchObject({
      enabled: true,
      doubleSubmissionWindow: 24 * 3600_000,
      ignore: [],
      agentLabels: ['AGENT', 'Агент'],
      nativeMerge: false,
      lossReasons: { agent: 'Агент', new_contact_of_active_client: 'Новые контакты у активного клиента', existing_buyer: 'Дольщик', double_submission: 'Повторная заявка' },
    });
  });

  it('the window reads like "2h"; a window that is not a duration is refused with its path', () => {
    expect(changeSetting({}, 'duplicateCatcher.doubleSubmissionWindow', '2h', robots)).toMatchObject({ ok: true });
    expect(changeSetting({}, 'duplicateCatcher.doubleSubmissionWindow', 'soon', robots)).toMatchObject({ ok: false, issues: [{ path: 'duplicateCatcher.doubleSubmissionWindow' }] });
  });

  it('the switchboard goes into the ignore list; a misspelt key is refused with the keys that exist', () => {
    expect(changeSetting({}, 'duplicateCatcher.ignore', ['8 800 555-35-35'], robots)).toMatchObject({ ok: true });
    const typo = changeSetting({}, 'duplicateCatcher.ignor', [], robots);
    expect(typo).toMatchObject({ ok: false });
    expect(!typo.ok && typo.issues[0]!.message).toContain('ignore');
  });

  it('no agent field by default; one is named per CRM (a Bitrix24 user field code, an amoCRM field name)', () => {
    expect(robotSettingsOf<Record<string, unknown>>(duplicateCatcher, {}).data).toMatchObject({ agentField: { bitrix24: '', amocrm: '' } });
    expect(changeSetting({}, 'duplicateCatcher.agentField.bitrix24', 'UF_CRM_AGENT', robots)).toMatchObject({ ok: true });
    expect(changeSetting({}, 'duplicateCatcher.agentField.amocrm', 'Тип клиента', robots)).toMatchObject({ ok: true });
  });
});
