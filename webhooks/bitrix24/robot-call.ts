import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { robotByCode } from '../../src/automation/bitrix24-robot-catalog';
import type { AutomationCall } from '../../src/automation/automation-call';
import { matchesSecretHash } from '../../src/infra/crypto';
import { bitrix24InstallationId } from '../../src/installations/installation';
import { BITRIX24_ROBOTS_HANDLER_PATH } from '../../src/installations/bitrix24-installer';
import type { Services } from '../../src/services';
import type { EdgeOutcomes } from '../edge-outcomes';
import { describeIssues, formText, parseForm } from '../form-body';
import { bitrix24AuthSchema } from './event-schema';


/**
 * What Bitrix24's queue server POSTs to a robot's HANDLER when an automation rule runs it
 * (form-encoded; see /work/shared/research/bitrix24.md §3.2): `document_id[2]` is `DEAL_<id>` /
 * `LEAD_<id>`; `properties[...]` are the robot's PROPERTIES as filled in; `event_token` is what
 * `bizproc.event.send` answers with; `auth[application_token]` proves the portal sent it.
 */
export const bitrix24RobotCallSchema = z.object({
  workflow_id: z.string().min(1).max(64),
  code: z.string().regex(/^[a-zA-Z0-9._-]{1,64}$/, 'must be a robot code'),
  document_id: z.tuple([z.literal('crm'), z.string(), z.string().regex(/^(DEAL|LEAD)_\d{1,18}$/, 'must be DEAL_<id> or LEAD_<id>')]),
  document_type: z.array(z.string()).optional(),
  event_token: z.string().min(1).max(1000),
  properties: z.record(z.string(), z.union([z.string(), z.array(z.string())])).optional(),
  use_subscription: z.string().optional(),
  timeout_duration: z.string().optional(),
  ts: z.string().regex(/^\d+$/, 'must be a unix timestamp'),
  auth: bitrix24AuthSchema,
});

/** The robots' handler: verifies like every Bitrix24 event, validates, enqueues, answers; the worker acts and replies. */
export function bitrix24RobotRouter(services: Services, edge: EdgeOutcomes): Router {
  const router = Router();
  router.post(BITRIX24_ROBOTS_HANDLER_PATH, formText, async (req: Request, res: Response) => {
    const parsed = bitrix24RobotCallSchema.safeParse(parseForm(req.body));
    if (!parsed.success) return edge.refuse(res, 'bitrix24', 400, 'malformed_robot_call', { reason: describeIssues(parsed.error.issues) });
    const form = parsed.data;
    const installation = await services.store.find(bitrix24InstallationId(form.auth.member_id));
    if (!installation || installation.crm !== 'bitrix24') return edge.refuse(res, 'bitrix24', 401, 'unknown_installation');
    if (!matchesSecretHash(form.auth.application_token, installation.applicationTokenHash)) {
      return edge.refuse(res, 'bitrix24', 401, 'invalid_application_token', { installation: installation.id });
    }
    const robot = robotByCode(form.code);
    if (!robot) return edge.refuse(res, 'bitrix24', 400, 'unknown_robot', { reason: `no robot ${form.code}`, installation: installation.id });
    const [kind, id] = form.document_id[2].split('_') as [string, string];
    const entity = kind === 'DEAL' ? 'deal' : 'lead';
    if (!robot.documents.includes(entity)) {
      return edge.refuse(res, 'bitrix24', 400, 'unsupported_document', { reason: `${robot.CODE} does not run on ${entity}s`, installation: installation.id });
    }
    const call: AutomationCall = {
      installationId: installation.id,
      action: robot.action,
      target: { entity, id },
      properties: Object.fromEntries(Object.entries(form.properties ?? {}).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : v])),
      reply: { kind: 'bitrix24', eventToken: form.event_token },
      receivedAt: Date.now(),
    };
    await services.automation.enqueue(call);
    edge.accepted('bitrix24', 1);
    res.status(200).json({ ok: true });
  });
  return router;
}
