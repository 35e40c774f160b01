import { UnrecoverableError } from 'bullmq';
import type { Deal } from '../crm/crm-port';
import { sendRobotAnswer } from '../crm/bitrix24/automation-reply';
import { recordOwnWrites } from '../pipeline/own-write-recorder';
import { servicesFor } from '../pipeline/process-event';
import { ACTION_ROBOT, runAutomationAction } from '../robots/automation-actions';
import type { Installation } from '../installations/installation';
import type { Services } from '../services';
import type { AutomationCall, AutomationResult } from './automation-call';
import { callFingerprint } from './automation-queue';

export type AutomationOutcome = 'answered' | 'already_answered' | 'unknown_installation';

const KEEP_S = 7 * 24 * 3600;

/**
 * The worker's side of an automation robot call: performs the action once and answers the CRM
 * once. The action's result is stored before the answer is sent, so a job retried after a crash
 * (or a call delivered twice) sends the same answer without acting again, and nothing is sent
 * twice once the answer went through.
 */
export async function runAutomationCall(call: AutomationCall, services: Services): Promise<AutomationOutcome> {
  const installation = await services.store.find(call.installationId);
  if (!installation || installation.status !== 'active') {
    services.log.warn({ installation: call.installationId, action: call.action }, 'automation call for an installation that is gone; dropped');
    return 'unknown_installation';
  }
  const crm = recordOwnWrites(await services.clients.forInstallation(installation), installation.id, services.ownWrites, services.tracker, new Map());
  const robotServices = servicesFor(installation, crm, services);
  const key = `automation:${callFingerprint(call)}`;
  if (await robotServices.state.get(`${key}:sent`)) return 'already_answered';
  const stored = await robotServices.state.get(`${key}:result`);
  let result: AutomationResult;
  if (stored) {
    result = JSON.parse(stored) as AutomationResult;
  } else {
    const deal = await crm.getDeal(call.target);
    result = deal ? await act(call, key, deal, installation, robotServices, services) : { values: {}, log: `${call.target.entity} ${call.target.id} not found` };
    await robotServices.state.set(`${key}:result`, JSON.stringify(result), KEEP_S);
  }
  await answer(installation, call.replyToken, result, services);
  await robotServices.state.set(`${key}:sent`, '1', KEEP_S);
  robotServices.log.info({ action: call.action, target: call.target, values: result.values }, 'automation robot answered');
  return 'answered';
}

/** `key` names this call in the installation's state: an action that must decide once (the distribution) keeps its decision under it. */
function act(call: AutomationCall, key: string, deal: Deal, installation: Installation, robotServices: ReturnType<typeof servicesFor>, services: Services): Promise<AutomationResult> {
  return services.app.runAction(ACTION_ROBOT[call.action], installation, robotServices, (ctx) => runAutomationAction(ctx, call.action, deal, call.properties), { key });
}

async function answer(installation: Installation, replyToken: string, result: AutomationResult, services: Services): Promise<void> {
  // Only Bitrix24's edge queues automation calls; anything else is a bug that retrying does not fix.
  if (installation.crm !== 'bitrix24') throw new UnrecoverableError(`automation answers are not implemented for ${installation.crm}`);
  const rest = await services.clients.bitrix24Rest(installation);
  await sendRobotAnswer(rest, replyToken, result.values, result.log);
}
