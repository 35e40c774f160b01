import { changeSetting, effectiveSettings, globalSettingsOf, readSetting, validateSettings } from '../../src/settings/installation-settings';
import { robots } from '../../src/robots';

describe('installation settings: one schema per robot, one path for every change', () => {
  test('defaults come from config/robots.default.json', () => {
    const settings = effectiveSettings({});
    expect(settings.locale).toBe('ru');
    expect(settings.schedule).toBe('09:00-21:00 Europe/Moscow, every day');
    expect(readSetting({}, 'dealRenamer.template')).toEqual({ ok: true, value: '{id} / {contact} / {unit}' });
    expect(validateSettings({}, robots)).toEqual([]);
  });

  test('a valid value is set and the rest of the block keeps its defaults', () => {
    const change = changeSetting({}, 'dealRenamer.template', '{id} / {contact}', robots);
    expect(change).toEqual({ ok: true, settings: { dealRenamer: { template: '{id} / {contact}' } } });
    const settings = change.ok ? change.settings : {};
    expect(readSetting(settings, 'dealRenamer')).toMatchObject({ ok: true, value: { template: '{id} / {contact}', enabled: true, entities: ['deal'] } });
  });

  test('a nested value changes one key only (objects merge deeply)', () => {
    const change = changeSetting({}, 'dealRenamer.unitField.bitrix24', 'UF_CRM_FLAT', robots);
    expect(change.ok).toBe(true);
    expect(change.ok && readSetting(change.settings, 'dealRenamer.unitField').ok && readSetting(change.settings, 'dealRenamer.unitField')).toEqual({
      ok: true,
      value: { bitrix24: 'UF_CRM_FLAT', amocrm: 'Объект' },
    });
  });

  test.each([
    ['dealRenamer.template', '', 'dealRenamer.template'],
    ['dealRenamer.enabled', 'yes', 'dealRenamer.enabled'],
    ['dealRenamer.entities', ['deal', 'contact'], 'dealRenamer.entities.1'],
    ['locale', 'de', 'locale'],
    ['schedule', '09:00-21:00', 'schedule'],
    ['schedule', 'always', 'schedule'],
  ])('a bad value of %s is refused with its path named', (path, value, named) => {
    const change = changeSetting({}, path, value, robots);
    expect(change.ok).toBe(false);
    expect(!change.ok && change.issues.map((i) => i.path)).toContain(named);
  });

  test.each([
    ['{id} / {client}', /unknown placeholder \{client\}/],
    ['{id} / {клиент} / {unit}', /unknown placeholder \{клиент\}/],
    ['Сделка', /no placeholder/],
  ])('a renamer template %s is refused: every deal would get a wrong title', (template, message) => {
    const change = changeSetting({}, 'dealRenamer.template', template, robots);
    expect(change.ok).toBe(false);
    expect(!change.ok && change.issues[0]).toMatchObject({ path: 'dealRenamer.template', message: expect.stringMatching(message) });
  });

  test('an enum refusal says what is allowed', () => {
    const change = changeSetting({}, 'locale', 'de', robots);
    expect(!change.ok && change.issues[0]!.message).toMatch(/"ru".*"en"/);
  });

  test.each([
    ['dealRenamer.templat', 'unknown setting "dealRenamer.templat"; "dealRenamer" has: enabled, template, unitField, entities'],
    ['noSuchRobot.enabled', 'unknown setting "noSuchRobot"; the top level has: locale, schedule, headsOfSales, rateLimit, stageGuard, dealRenamer'],
    ['dealRenamer..template', 'is not a settings path'],
    ['__proto__.polluted', 'is not a settings path'],
    ['dealRenamer.entities.first', 'is a list, address its items by number'],
  ])('a misspelt path %s is refused, never silently ignored', (path, message) => {
    const change = changeSetting({}, path, 'x', robots);
    expect(change.ok).toBe(false);
    expect(!change.ok && change.issues[0]!.message).toContain(message);
  });

  test('unsetting returns to the default', () => {
    const change = changeSetting({ locale: 'en' }, 'locale', undefined, robots);
    expect(change).toEqual({ ok: true, settings: {} });
    expect(globalSettingsOf({ locale: 'en' }).locale).toBe('en');
    expect(globalSettingsOf({}).locale).toBe('ru');
  });

  test('the schedule is parsed for the robots', () => {
    expect(globalSettingsOf({ schedule: '24/7' }).schedule).toEqual({ kind: 'always', text: '24/7' });
    expect(globalSettingsOf({}).schedule).toMatchObject({ kind: 'weekly', timeZone: 'Europe/Moscow' });
  });
});
