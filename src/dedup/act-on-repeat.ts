import type { RobotContext } from '../app';
import type { ClientDeal, Contact, DealRef } from '../crm/crm-port';
import type { DuplicateCatcherSettings, RequestEvent } from '../robots/duplicate-catcher';
import type { classifyRepeat, RepeatClass } from './classify';
import { identitiesOf, missingIdentities, type Identity } from './communications';
import { repeatFactKey } from './lead-facts';
import { managerNotice, requestComment, targetComment, type RepeatFacts } from './repeat-messages';

/**
 * Acting on a repeat the duplicate catcher found: close the request, enrich the client's
 * contact, comment both cards, tell the client's manager — resumable after a crash mid-way,
 * each step at most once across retries.
 */
type Ctx = RobotContext<RequestEvent, DuplicateCatcherSettings>;
type AnyCtx = RobotContext<RequestEvent | 'contact.created', DuplicateCatcherSettings>;
/** Records what the request was judged on and counts it (the robot's lead facts). */
type Judged = (signature: string, source: string, cls: RepeatClass) => Promise<void>;

/** Facts and plans are kept as long as lead reports look back (a year and a month). */
export const FACT_TTL = 400 * 24 * 3600;

/** A step's marker only matters while the job may still be retried (minutes; a catch-up within days). */
const STEP_TTL = 30 * 24 * 3600;

export type Repeat = Extract<ReturnType<typeof classifyRepeat>, { repeat: true }>;

/**
 * What acting on a repeat needs, saved before the first write: a retry after a crash mid-way
 * (the request already closed, so no longer judged) resumes it from here, step by step.
 */
interface ActingPlan {
  request: DealRef & { stageId: string; contactIds: string[] };
  class: RepeatClass;
  status: { stageId: string; name: string };
  clientContact: Contact | null;
  target: ClientDeal | null;
  matchedBy: Identity[];
  usable: Identity[];
  /** The request's own contacts (the opt-in native merge). */
  ownContacts: Contact[];
  source: string;
  signature: string;
  /** What the client's contact got; null until the enrichment is done. */
  added: Identity[] | null;
  done?: boolean;
}

const actingKey = (ref: DealRef) => `dedup:acting:${ref.entity}:${ref.id}`;

/** A request whose acting was started and not finished (a crash mid-way): finished now, whatever its stage. */
export async function resumeActing(ctx: Ctx, judged: Judged): Promise<boolean> {
  const raw = await ctx.state.get(actingKey(ctx.payload.deal));
  if (!raw) return false;
  const plan = JSON.parse(raw) as ActingPlan;
  if (!plan.done) await actOnRepeat(ctx, plan, true, judged);
  return true;
}

/**
 * Acting on a repeat: the fact first (a takeover timer reading it never starts on this request),
 * then the client's contact gets what it lacks, the request is linked to it and closed with the
 * special status, both cards explain, and the client's manager is told to call back.
 */
export async function closeAsRepeat(ctx: Ctx, verdict: Repeat, status: { stageId: string; name: string }, usable: Identity[], source: string, signature: string, judged: Judged): Promise<void> {
  const { deal, contacts } = ctx.payload;
  await ctx.state.set(repeatFactKey(deal.entity, deal.id), JSON.stringify({ class: verdict.class, target: verdict.target && { entity: verdict.target.entity, id: verdict.target.id }, at: new Date().toISOString() }), FACT_TTL);
  const plan: ActingPlan = {
    request: { entity: deal.entity, id: deal.id, stageId: deal.stageId, contactIds: deal.contactIds },
    class: verdict.class, status, clientContact: verdict.clientContact, target: verdict.target, matchedBy: verdict.matchedBy,
    usable, ownContacts: contacts, source, signature, added: null,
  };
  await ctx.state.set(actingKey(deal), JSON.stringify(plan), FACT_TTL);
  await actOnRepeat(ctx, plan, false, judged);
}

/**
 * Each step happens at most once across retries: idempotent writes (enrichment, the close) are
 * marked done after they succeed and are safe to repeat; a comment or a notice is claimed before
 * it is sent and released only when the CRM refused it (a worker killed in that instant loses
 * that one message rather than sending it twice).
 */
async function actOnRepeat(ctx: Ctx, plan: ActingPlan, resumed: boolean, judged: Judged): Promise<void> {
  const key = actingKey(plan.request);
  const save = () => ctx.state.set(key, JSON.stringify(plan), FACT_TTL);
  if (plan.added === null) {
    // On a retry, the client as it is now: never add again what the first attempt already added.
    const client = resumed && plan.clientContact ? ((await ctx.crm.getContact(plan.clientContact.id)) ?? plan.clientContact) : plan.clientContact;
    plan.added = await enrichClient(ctx, client, plan.usable);
    await save();
  }
  await untilDone(ctx, `${key}:close`, () =>
    ctx.crm.closeAsRepeat(plan.request, { stageId: plan.status.stageId, lossReason: ctx.settings.lossReasons[plan.class], clientContactId: plan.clientContact?.id ?? null, contactIds: plan.request.contactIds }),
  );
  const users = await ctx.crm.listUsers().catch(() => []);
  const facts: RepeatFacts = {
    cls: plan.class,
    client: plan.clientContact?.name || plan.ownContacts[0]?.name || '—',
    targetId: plan.target?.id ?? null,
    targetIsRequest: plan.target?.isRequest ?? false,
    manager: nameOf(users, plan.target?.responsibleId ?? null),
    status: plan.status.name,
    requestId: plan.request.id,
    source: plan.source === '—' ? null : plan.source,
    matchedBy: plan.matchedBy,
    added: plan.added,
    requestIsLead: plan.request.entity === 'lead',
  };
  await atMostOnce(ctx, `${key}:comment`, () => ctx.crm.addComment(plan.request, requestComment(facts, ctx.locale)));
  const target = plan.target;
  if (target) {
    await atMostOnce(ctx, `${key}:target-comment`, () => ctx.crm.addComment(target, targetComment(facts, ctx.locale)));
    if (target.responsibleId) await atMostOnce(ctx, `${key}:notice`, () => ctx.crm.notifyUser(target.responsibleId!, managerNotice(facts, ctx.locale), target));
  }
  const client = plan.clientContact;
  if (ctx.settings.nativeMerge && client) await untilDone(ctx, `${key}:merge`, () => mergeOwnDuplicates(ctx, plan.request, plan.ownContacts, client, plan.usable));
  await atMostOnce(ctx, `${key}:report`, () =>
    ctx.report({
      target: plan.request, kind: 'closed_as_repeat', summary: `closed as repeat (${plan.class})${target ? `, belongs to ${target.entity} ${target.id}` : ''}`, before: plan.request.stageId, after: plan.status.name,
      why: requestComment(facts, ctx.locale),
      undo: { kind: 'reopen', to: { id: plan.request.stageId }, left: { id: plan.status.stageId, name: plan.status.name } },
    }),
  );
  await judged(plan.signature, plan.source, plan.class);
  // Only the fact that it is finished is kept (echoes and redeliveries stop here).
  await ctx.state.set(key, JSON.stringify({ done: true }), FACT_TTL);
}

/** Runs an idempotent write unless an earlier attempt finished it. */
async function untilDone(ctx: Ctx, key: string, write: () => Promise<unknown>): Promise<void> {
  if ((await ctx.state.get(key)) !== null) return;
  await write();
  await ctx.state.set(key, 'done', STEP_TTL);
}

/** Sends a message that must never go twice: claimed first; released only when the CRM refused it. */
async function atMostOnce(ctx: Ctx, key: string, send: () => Promise<unknown>): Promise<void> {
  if (!(await ctx.state.claim(key, 'sent', STEP_TTL))) return;
  try {
    await send();
  } catch (err) {
    await ctx.state.release(key, 'sent');
    throw err;
  }
}

/** Adds to the client's contact what it lacks (in no format at all); returns what was added. */
export async function enrichClient(ctx: AnyCtx, client: Contact | null, identities: Identity[]): Promise<Identity[]> {
  if (!client) return [];
  const has = identitiesOf({ phones: client.phones, emails: client.emails, messengers: client.messengers ?? [] }, ctx.settings.region as never).identities;
  const missing = missingIdentities(identities, has);
  if (!missing.length) return [];
  await ctx.crm.addContactCommunications(client.id, {
    phones: missing.filter((i) => i.kind === 'phone').map((i) => i.key),
    emails: missing.filter((i) => i.kind === 'email').map((i) => i.key),
    messengers: missing.filter((i) => i.kind === 'messenger').map((i) => i.raw),
  });
  return missing.map((i) => (i.kind === 'phone' ? { ...i, raw: i.key } : i));
}

async function mergeOwnDuplicates(ctx: Ctx, deal: DealRef, own: Contact[], client: Contact, identities: Identity[]): Promise<void> {
  const keys = new Set(identities.map((i) => i.key));
  for (const contact of own) {
    if (contact.id === client.id) continue;
    const shares = identitiesOf({ phones: contact.phones, emails: contact.emails }).identities.some((i) => keys.has(i.key));
    if (shares && !(await ctx.crm.mergeContacts(client.id, contact.id))) ctx.log.info({ deal: deal.id, contact: contact.id }, 'native merge unavailable or in conflict; contacts left side by side');
  }
}

export function nameOf(users: Array<{ id: string; name: string }>, id: string | null): string | null {
  if (!id) return null;
  return users.find((u) => u.id === id)?.name || `#${id}`;
}
