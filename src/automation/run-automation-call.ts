import { UnrecoverableError } from 'bullmq';
import type { CrmPort, Deal } from '../crm/crm-port';
import { sendRobotAnswer } from '../crm/bitrix24/automation-reply';
import { recordOwnWrites } from '../pipeline/own-write-recorder';
import { servicesFor } from '../pipeline/process-event';
import { localeOf } from '../app';
import { ACTION_ROBOT, runAutomationAction } from '../robots/automation-actions';
import type { Installation } from '../installations/installation';
import type { Services } from '../services';
import type { AutomationCall, AutomationResult } from './automation-call';
import { callFingerprint } from './automation-queue';
import { dpResultNote } from './dp-result-note';

export type AutomationOutcome = 'answered' | 'already_answered' | 'unknown_installation' | 'target_gone';

const KEEP_S = 7 * 24 * 3600;

/**
 * The worker's side of an automation robot call: performs the action once and answers the CRM
 * once (Bitrix24: `bizproc.event.send`; amoCRM Digital Pipeline: a note in the lead, since nothing
 * waits for an answer). The action's result is stored before the answer is sent, so a job retried
 * after a crash (or a call delivered twice) sends the same answer without acting again, and nothing
 * is sent twice once the answer went through.
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
    // A Digital Pipeline note has nowhere to go when the lead is gone (a Bitrix24 robot still waits for its answer).
    if (!deal && call.reply.kind === 'amocrm_dp') {
      robotServices.log.warn({ action: call.action, target: call.target }, 'Digital Pipeline action for a lead that is gone; dropped');
      return 'target_gone';
    }
    result = deal ? await act(call, key, deal, installation, robotServices, services) : { values: {}, log: `${call.target.entity} ${call.target.id} not found` };
    await robotServices.state.set(`${key}:result`, JSON.stringify(result), KEEP_S);
  }
  await answer(installation, call, result, crm, services);
  await robotServices.state.set(`${key}:sent`, '1', KEEP_S);
  robotServices.log.info({ action: call.action, target: call.target, values: result.values }, 'automation robot answered');
  return 'answered';
}

/** `key` names this call in the installation's state: an action that must decide once (the distribution) keeps its decision under it. */
function act(call: AutomationCall, key: string, deal: Deal, installation: Installation, robotServices: ReturnType<typeof servicesFor>, services: Services): Promise<AutomationResult> {
  return services.app.runAction(ACTION_ROBOT[call.action], installation, robotServices, (ctx) => runAutomationAction(ctx, call.action, deal, call.properties), { key });
}

async function answer(installation: Installation, call: AutomationCall, result: AutomationResult, crm: CrmPort, services: Services): Promise<void> {
  const reply = call.reply;
  // A reply meant for the other CRM is a bug that retrying does not fix.
  if (reply.kind === 'bitrix24') {
    if (installation.crm !== 'bitrix24') throw new UnrecoverableError(`a Bitrix24 robot answer for a ${installation.crm} installation`);
    const rest = await services.clients.bitrix24Rest(installation);
    return sendRobotAnswer(rest, reply.eventToken, result.values, result.log);
  }
  if (installation.crm !== 'amocrm') throw new UnrecoverableError(`an amoCRM Digital Pipeline answer for a ${installation.crm} installation`);
  await crm.addComment(call.target, dpResultNote(call.action, result, localeOf(installation)));
}
