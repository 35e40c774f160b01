/** The portal emulator's widget placements (restdocs api-reference/widgets/placement-*.md, crm/detail-tab.md), through real HTTP. */
import { portalWithStandInApp } from '../helpers/bitrix24-stand-in-app';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

const installedApp = () => portalWithStandInApp(cleanups);

const tab = (url: string) => ({ PLACEMENT: 'CRM_DEAL_DETAIL_TAB', HANDLER: `${url}/card`, TITLE: 'Роботы', LANG_ALL: { en: { TITLE: 'Robots' } } });

describe('Bitrix24 emulator: widget placements', () => {
  it('binds a deal tab, lists it with its localized titles, refuses the same handler twice, and unbinds it with the documented count', async () => {
    const { rest, url } = await installedApp();
    expect((await rest('placement.bind', tab(url))).json.result).toBe(true);
    const listed = (await rest('placement.get', {})).json.result;
    expect(listed).toEqual([{ placement: 'CRM_DEAL_DETAIL_TAB', userId: 0, handler: `${url}/card`, options: [], title: 'Роботы', description: '', langAll: { en: { TITLE: 'Robots', DESCRIPTION: '', GROUP_NAME: '' } } }]);
    const again = await rest('placement.bind', tab(url));
    expect(again.status).toBe(400);
    expect(again.json.error).toBe('ERROR_PLACEMENT_HANDLER_ALREADY_BINDED');
    expect((await rest('placement.unbind', { PLACEMENT: 'CRM_DEAL_DETAIL_TAB', HANDLER: `${url}/card` })).json.result).toEqual({ count: 2 });
    expect((await rest('placement.get', {})).json.result).toEqual([]);
    expect((await rest('placement.unbind', { PLACEMENT: 'CRM_DEAL_DETAIL_TAB' })).json.result).toEqual({ count: 0 });
  });

  it('refuses an unknown placement code, a missing PLACEMENT or HANDLER, a handler off the app domain, and a user who is not an administrator', async () => {
    const { rest, url, manager } = await installedApp();
    const unknown = await rest('placement.bind', { ...tab(url), PLACEMENT: 'CRM_DEAL_DETAIL_TABS' });
    expect([unknown.status, unknown.json.error]).toEqual([400, 'ERROR_PLACEMENT_NOT_FOUND']);
    const noPlacement = await rest('placement.bind', { HANDLER: `${url}/card` });
    expect([noPlacement.status, noPlacement.json.error, noPlacement.json.error_description]).toEqual([400, 'ERROR_ARGUMENT', "Argument 'PLACEMENT' is null or empty"]);
    const noHandler = await rest('placement.bind', { PLACEMENT: 'CRM_LEAD_DETAIL_TAB' });
    expect(noHandler.json.error_description).toBe("Argument 'HANDLER' is null or empty");
    expect((await rest('placement.bind', { ...tab(url), HANDLER: 'https://elsewhere.example/card' })).json.error).toBe('ERROR_WRONG_HANDLER_URL');
    const notAdmin = await rest('placement.bind', tab(url), manager);
    expect([notAdmin.status, notAdmin.json.error]).toEqual([403, 'ACCESS_DENIED']);
    expect((await rest('placement.get', {})).json.result).toEqual([]);
  });

  it('opens a bound tab with PLACEMENT and PLACEMENT_OPTIONS {"ID": …}, and forgets the application\'s placements when it is uninstalled', async () => {
    const { rest, url, portal } = await installedApp();
    await rest('placement.bind', { ...tab(url), PLACEMENT: 'CRM_LEAD_DETAIL_TAB' });
    const frame = portal.placementFrame('CRM_LEAD_DETAIL_TAB', 6591, 2, 'en');
    expect(frame.handler).toBe(`${url}/card`);
    expect(frame.form).toMatchObject({ member_id: portal.memberId, PLACEMENT: 'CRM_LEAD_DETAIL_TAB', PLACEMENT_OPTIONS: '{"ID":"6591"}' });
    expect(frame.query).toMatchObject({ LANG: 'en' });
    await portal.uninstall();
    expect(portal.placements()).toEqual([]);
  });
});
