/** The portal emulator's application robots (restdocs api-reference/bizproc/bizproc-robot/*.md), through real HTTP. */
import { portalWithStandInApp } from '../helpers/bitrix24-stand-in-app';

/* eslint-disable @typescript-eslint/no-explicit-any -- parsed form/JSON bodies are dynamic by nature */
type Json = any;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

/** An app stand-in: the install page and a robot handler that records the form it gets. */
async function installedApp() {
  const robotCalls: Json[] = [];
  const installed = await portalWithStandInApp(cleanups, (app) => {
    app.post('/robot', (req, res) => {
      robotCalls.push(req.body);
      res.sendStatus(200);
    });
  });
  return { ...installed, robotCalls };
}

const robot = (url: string, extra: Record<string, unknown> = {}) => ({
  CODE: 'test_robot',
  HANDLER: `${url}/robot`,
  AUTH_USER_ID: 1,
  USE_SUBSCRIPTION: 'Y',
  NAME: { ru: 'Отправить сообщение', en: 'Send message' },
  PROPERTIES: { text: { Name: { ru: 'Текст', en: 'Text' }, Type: 'text' } },
  RETURN_PROPERTIES: { outputString: { Name: { ru: 'Результат', en: 'Result' }, Type: 'string' } },
  FILTER: { INCLUDE: [['crm', 'CCrmDocumentDeal']] },
  ...extra,
});

describe('Bitrix24 emulator: application robots', () => {
  it('adds, lists, updates and deletes robots with the documented answers', async () => {
    const { rest, url } = await installedApp();
    expect((await rest('bizproc.robot.add', robot(url))).json.result).toBe(true);
    expect((await rest('bizproc.robot.list', {})).json.result).toEqual(['test_robot']);
    const again = await rest('bizproc.robot.add', robot(url));
    expect(again).toEqual({ status: 400, json: { error: 'ERROR_ACTIVITY_ALREADY_INSTALLED', error_description: 'Activity or Robot already installed!' } });
    expect((await rest('bizproc.robot.update', { CODE: 'test_robot', FIELDS: { NAME: 'Новое имя' } })).json.result).toBe(true);
    expect((await rest('bizproc.robot.update', { CODE: 'test_robot', FIELDS: {} })).json.error_description).toBe('No fields to update');
    expect((await rest('bizproc.robot.update', { CODE: 'missing', FIELDS: { NAME: 'x' } })).json.error).toBe('ERROR_ACTIVITY_NOT_FOUND');
    expect((await rest('bizproc.robot.delete', { CODE: 'test_robot' })).json.result).toBe(true);
    expect((await rest('bizproc.robot.delete', { CODE: 'test_robot' })).json.error).toBe('ERROR_ACTIVITY_NOT_FOUND');
    expect((await rest('bizproc.robot.list', {})).json.result).toEqual([]);
  });

  it.each([
    [{ CODE: '' }, 'ERROR_ACTIVITY_VALIDATION_FAILURE', 'Empty activity code!'],
    [{ CODE: 'bad code!' }, 'ERROR_ACTIVITY_VALIDATION_FAILURE', 'Wrong activity code!'],
    [{ NAME: '' }, 'ERROR_ACTIVITY_VALIDATION_FAILURE', 'Empty activity NAME!'],
    [{ HANDLER: 'ftp://x/robot' }, 'ERROR_UNSUPPORTED_PROTOCOL', 'Unsupported handler protocol'],
    [{ HANDLER: 'not a url' }, 'ERROR_WRONG_HANDLER_URL', 'Wrong handler URL'],
    [{ HANDLER: 'https://elsewhere.example/robot' }, 'ERROR_WRONG_HANDLER_URL', null],
    [{ PROPERTIES: { '1text': { Name: 'x' } } }, 'ERROR_ACTIVITY_VALIDATION_FAILURE', 'Wrong property key 1text!'],
    [{ PROPERTIES: { text: { Type: 'text' } } }, 'ERROR_ACTIVITY_VALIDATION_FAILURE', 'Empty property NAME text!'],
    [{ DOCUMENT_TYPE: ['crm', 'CCrmDocumentDeal'] }, 'ERROR_ACTIVITY_VALIDATION_FAILURE', 'Wrong activity DOCUMENT_TYPE!'],
  ])('refuses %j as documented', async (change, error, description) => {
    const { rest, url } = await installedApp();
    const answer = await rest('bizproc.robot.add', robot(url, change));
    expect(answer.status).toBe(400);
    expect(answer.json.error).toBe(error);
    if (description) expect(answer.json.error_description).toBe(description);
  });

  it('only an administrator manages robots', async () => {
    const { rest, url, manager } = await installedApp();
    expect(await rest('bizproc.robot.add', robot(url), manager)).toEqual({ status: 403, json: { error: 'ACCESS_DENIED', error_description: 'Access denied!' } });
    expect((await rest('bizproc.robot.list', {}, manager)).json.error).toBe('ACCESS_DENIED');
  });

  it('runs a robot: POSTs its handler with the documented form, then accepts one bizproc.event.send per token', async () => {
    const { portal, rest, url, robotCalls, manager } = await installedApp();
    await rest('bizproc.robot.add', robot(url));
    const dealId = portal.userAddDeal({ title: 'x' } as never);
    const { eventToken, status } = await portal.runRobot('test_robot', { entity: 'deal', id: dealId }, { text: 'привет' });
    expect(status).toBe(200);
    const form = robotCalls[0];
    expect(form).toMatchObject({
      code: 'test_robot',
      document_id: ['crm', 'CCrmDocumentDeal', `DEAL_${dealId}`],
      document_type: ['crm', 'CCrmDocumentDeal', 'DEAL'],
      event_token: eventToken,
      properties: { text: 'привет' },
      use_subscription: 'Y',
      auth: { member_id: portal.memberId, application_token: portal.applicationToken, user_id: '1', domain: portal.domain },
    });
    expect(form.workflow_id).toMatch(/\S/);
    expect(eventToken.split('|')).toHaveLength(3);
    // Any user may answer with a valid token; the answer is recorded, a second use is refused.
    expect((await rest('bizproc.event.send', { EVENT_TOKEN: eventToken, RETURN_VALUES: { outputString: 'ok' }, LOG_MESSAGE: 'done' }, manager)).json.result).toBe(true);
    expect(portal.robotAnswers).toEqual([expect.objectContaining({ eventToken, code: 'test_robot', returnValues: { outputString: 'ok' }, logMessage: 'done' })]);
    expect(await rest('bizproc.event.send', { EVENT_TOKEN: eventToken, RETURN_VALUES: {} })).toEqual({ status: 403, json: { error: 'ACCESS_DENIED', error_description: 'Access denied!' } });
    expect((await rest('bizproc.event.send', { EVENT_TOKEN: 'forged|A1|x.y' })).json.error).toBe('ACCESS_DENIED');
  });

  it('does not offer a robot for a document its FILTER excludes, and forgets robots on uninstall', async () => {
    const { portal, rest, url } = await installedApp();
    await rest('bizproc.robot.add', robot(url));
    const leadId = portal.userAddLead({ title: 'x' } as never);
    await expect(portal.runRobot('test_robot', { entity: 'lead', id: leadId })).rejects.toThrow(/FILTER/);
    await portal.uninstall();
    expect(portal.robots()).toEqual([]);
  });
});
