import { z } from 'zod';
import { defineRobot, type RobotContext } from '../app';
import type { ClientDeal, Contact, CrmFunnel, Deal } from '../crm/crm-port';
import { classifyRepeat, type DealStanding, type RepeatClass } from '../dedup/classify';
import { closeAsRepeat, enrichClient, FACT_TTL, nameOf, resumeActing } from '../dedup/act-on-repeat';
import { identitiesOf } from '../dedup/communications';
import { withIdentityLocks } from '../dedup/identity-locks';
import { recordLeadFact, repeatFactKey } from '../dedup/lead-facts';
import { managerNotice, targetComment, type RepeatFacts } from '../dedup/repeat-messages';
import { stageByRole, type BoundRegulation, type StageRole } from '../regulation';
import { bindRegulations, regulationSpecSchema, type SpecBinding } from '../regulation/installation-bindings';
import { durationSchema } from '../settings/duration';
import { effectiveSettings } from '../settings/installation-settings';
import { resolveFieldCode } from './deal-renamer';

/**
 * Robot 2 — duplicate catcher (seed 004: 40 of 100 "qualified" leads were a known client from a
 * new number, his wife about the same flat, or an agent). A new request from someone the CRM
 * already knows is closed with the special status the bound regulation names by role
 * («Агент», «Новые контакты у активного клиента», «Дольщик»; a second submission within the
 * window as a duplicate), linked to the client's contact, whose missing phones and e-mails are
 * added, and the manager who owns the client is told to call back. Every judged request is
 * recorded for honest lead counts (`npm run report -- leads`).
 */
const settings = z.object({
  enabled: z.boolean().default(true),
  /** Region for phones written without a country code. */
  region: z.string().regex(/^[A-Z]{2}$/).default('RU'),
  /** Shared numbers and addresses (switchboard, call-center, agencies) that never make a repeat. */
  ignore: z.array(z.string().min(1)).default([]),
  /** Contact labels marking an agent: a Bitrix24 contact type (id or name), an amoCRM tag. */
  agentLabels: z.array(z.string().min(1)).default(['AGENT', 'Агент']),
  /**
   * A contact field marking an agent besides the labels: a checkbox saying "yes", or a value equal
   * to one of `agentLabels`. Bitrix24: the user field code (`UF_CRM_…`); amoCRM: the field's name or id.
   */
  agentField: z.object({ bitrix24: z.string().default(''), amocrm: z.string().default('') }).prefault({}),
  /** A second open request from one person within this window is a double submission. */
  doubleSubmissionWindow: durationSchema.prefault('24h'),
  /** amoCRM loss reasons by class (found or created in /api/v4/leads/loss_reasons). */
  lossReasons: z
    .object({
      agent: z.string().min(1).default('Агент'),
      new_contact_of_active_client: z.string().min(1).default('Новые контакты у активного клиента'),
      existing_buyer: z.string().min(1).default('Дольщик'),
      double_submission: z.string().min(1).default('Повторная заявка'),
    })
    .prefault({}),
  /** amoCRM contact fields (names) holding messenger ids besides the standard «Мгн. сообщения». */
  amocrmMessengerFields: z.array(z.string().min(1)).default([]),
  /** Where a request's source is: Bitrix24 field code, amoCRM field name or id. */
  sourceField: z.object({ bitrix24: z.string().min(1).default('sourceId'), amocrm: z.string().min(1).default('Источник') }).prefault({}),
  /** Opt-in: also hand the request's duplicate contact to the CRM's own merge (Bitrix24 crm.entity.mergeBatch). */
  nativeMerge: z.boolean().default(false),
  /** Bitrix24 portals without leads (simple CRM mode): judge every new contact against the others. "auto": ask the portal (crm.settings.mode.get). */
  bitrix24ContactsWithoutLeads: z.union([z.boolean(), z.literal('auto')]).default('auto'),
});
type Settings = z.infer<typeof settings>;
export type DuplicateCatcherSettings = Settings;
export type RequestEvent = 'lead.created' | 'lead.updated' | 'deal.created' | 'deal.stageChanged';
type Ctx = RobotContext<RequestEvent, Settings>;
type AnyCtx = RobotContext<RequestEvent | 'contact.created', Settings>;

/** A deal past these stages has been bought, even while the registration is still going. */
const BOUGHT_ROLES: readonly StageRole[] = ['contract', 'registration', 'payment_received', 'won'];

export const duplicateCatcher = defineRobot({
  name: 'duplicateCatcher',
  settings,
  register(app) {
    app.on('lead.created', (ctx) => judgeRequest(ctx, 'created'));
    app.on('lead.updated', (ctx) => judgeRequest(ctx, 'updated'));
    app.on('deal.created', (ctx) => judgeRequest(ctx, 'created'));
    app.on('deal.stageChanged', (ctx) => judgeRequest(ctx, 'accepted'));
    app.on('contact.created', judgeNewContact);
  },
});

async function judgeRequest(ctx: Ctx, trigger: 'created' | 'updated' | 'accepted'): Promise<void> {
  const { deal, contacts, causedByApp } = ctx.payload;
  if (await resumeActing(ctx, judgedAs(ctx))) return; // acted on before (finished, or finished now after a crash mid-way)
  // Bitrix24 deals come from converted leads (already judged); amoCRM has only "leads" (deals here).
  if (causedByApp || (ctx.crm.crm === 'bitrix24' && deal.entity === 'deal')) return;
  const stage = await stageOf(ctx, deal);
  if (stage?.semantics !== 'process') return; // closed requests, including our own echo, are not judged
  if (stage.incoming) return; // amoCRM «Неразобранное»: judged when accepted
  if (trigger === 'accepted' && !(await cameFromIncoming(ctx, deal))) return;

  const ignored = ignoredKeys(ctx.settings);
  const { identities, rejected } = identitiesOf(communicationsOf(deal, contacts, ctx.crm.crm === 'amocrm' ? ctx.settings.amocrmMessengerFields : []), ctx.settings.region as never);
  for (const r of rejected) ctx.log.info({ deal: deal.id, kind: r.kind, value: r.raw, why: r.why }, 'communication not matched: unreadable');
  const usable = identities.filter((i) => !ignored.has(i.key));
  const signature = usable.map((i) => i.key).sort().join(' ');
  const judgedBefore = await ctx.state.get(judgedKey(deal));
  // "Lead updated" matters only when its phones or e-mails changed (managers type them after creating the lead).
  if (trigger === 'updated' && (judgedBefore === signature || (judgedBefore === null && !createdWithin(deal, ctx.settings.doubleSubmissionWindow)))) return;
  if (trigger !== 'updated' && judgedBefore !== null && judgedBefore === signature) return; // a redelivered event

  const source = await sourceOf(ctx, deal);
  if (!usable.length) {
    await rememberJudged(ctx, deal, signature, source, null);
    return;
  }
  await withIdentityLocks(ctx.state, usable.map((i) => i.key), async () => {
    // No re-read of the request here: only its own job (one at a time per request) ever closes it.
    const matches = await ctx.crm.findClientsByCommunications({
      phones: usable.filter((i) => i.kind === 'phone').map((i) => i.key),
      emails: usable.filter((i) => i.kind === 'email').map((i) => i.key),
      messengers: usable.filter((i) => i.kind === 'messenger').map((i) => i.raw),
      messengerFields: ctx.settings.amocrmMessengerFields,
      contactFields: agentFieldOf(ctx) ? [agentFieldOf(ctx)!] : [],
      request: { entity: deal.entity, id: deal.id },
    });
    const regulations = await bindingsFor(ctx);
    const verdict = classifyRepeat({
      request: { entity: deal.entity, id: deal.id, contactIds: deal.contactIds },
      identities: usable,
      contacts: matches.contacts,
      deals: matches.deals,
      standingOf: (d) => standingOf(d, regulations),
      agentLabels: ctx.settings.agentLabels,
      agentField: agentFieldOf(ctx),
      doubleSubmissionWindowMs: ctx.settings.doubleSubmissionWindow,
      ignoredKeys: ignored,
      now: Date.now(),
    });
    if (!verdict.repeat) {
      await rememberJudged(ctx, deal, signature, source, null);
      return;
    }
    const status = await closingStatus(ctx, deal, regulations, verdict.class);
    if (!status) {
      // Counted honestly all the same; the request stays open (and the takeover timer may run on it).
      ctx.log.warn({ deal: deal.id, class: verdict.class }, 'repeat found, but no bound regulation has a stage with that role: left open');
      await rememberJudged(ctx, deal, signature, source, verdict.class);
      return;
    }
    await closeAsRepeat(ctx, verdict, status, usable, source, signature, judgedAs(ctx));
  });
}

/** Records, once acting on a repeat is finished, what the request was judged on. */
const judgedAs = (ctx: Ctx) => (signature: string, source: string, cls: RepeatClass) => rememberJudged(ctx, ctx.payload.deal, signature, source, cls);

const judgedKey = (deal: Deal) => `dedup:judged:${deal.entity}:${deal.id}`;

/** What the request was judged on (its identities) and what it counts as in the lead report. */
async function rememberJudged(ctx: Ctx, deal: Deal, signature: string, source: string, cls: RepeatClass | null): Promise<void> {
  await ctx.state.set(judgedKey(deal), signature, FACT_TTL);
  await recordLeadFact(ctx.state, { entity: deal.entity, id: deal.id, source, class: cls, createdAt: createdAtOf(deal) });
}

/**
 * Bitrix24 without leads: a new contact is matched against the other contacts. There is no
 * request to close; the client's contact gets the new data and the manager hears of it.
 */
async function judgeNewContact(ctx: RobotContext<'contact.created', Settings>): Promise<void> {
  if (ctx.crm.crm !== 'bitrix24' || ctx.payload.causedByApp || !(await judgesContacts(ctx))) return;
  const contact = ctx.payload.contact;
  if (await ctx.state.get(repeatFactKey('contact', contact.id))) return;
  const ignored = ignoredKeys(ctx.settings);
  const usable = identitiesOf({ phones: contact.phones, emails: contact.emails, messengers: contact.messengers ?? [] }, ctx.settings.region as never).identities.filter((i) => !ignored.has(i.key));
  if (!usable.length) return;
  await withIdentityLocks(ctx.state, usable.map((i) => i.key), async () => {
    const matches = await ctx.crm.findClientsByCommunications({
      phones: usable.filter((i) => i.kind === 'phone').map((i) => i.key),
      emails: usable.filter((i) => i.kind === 'email').map((i) => i.key),
      messengers: usable.filter((i) => i.kind === 'messenger').map((i) => i.raw),
      contactFields: agentFieldOf(ctx) ? [agentFieldOf(ctx)!] : [],
    });
    const regulations = await bindingsFor(ctx as unknown as AnyCtx);
    const verdict = classifyRepeat({
      request: { entity: 'deal', id: '', contactIds: [contact.id] },
      identities: usable,
      contacts: matches.contacts,
      deals: matches.deals.filter((d) => !d.contactIds.includes(contact.id) || d.contactIds.length > 1),
      standingOf: (d) => standingOf(d, regulations),
      agentLabels: ctx.settings.agentLabels,
      agentField: agentFieldOf(ctx),
      doubleSubmissionWindowMs: 0,
      ignoredKeys: ignored,
      now: Date.now(),
    });
    if (!verdict.repeat || !verdict.clientContact || verdict.clientContact.id === contact.id) return;
    await ctx.state.set(repeatFactKey('contact', contact.id), JSON.stringify({ class: verdict.class, client: verdict.clientContact.id, at: new Date().toISOString() }), FACT_TTL);
    const added = await enrichClient(ctx as unknown as AnyCtx, verdict.clientContact, usable);
    if (verdict.target) {
      const users = await ctx.crm.listUsers().catch(() => []);
      const facts: RepeatFacts = {
        cls: verdict.class, client: verdict.clientContact.name || contact.name, targetId: verdict.target.id, targetIsRequest: false,
        manager: nameOf(users, verdict.target.responsibleId), status: '—', requestId: `контакт ${contact.id}`, source: null,
        matchedBy: verdict.matchedBy, added, requestIsLead: false,
      };
      await ctx.crm.addComment(verdict.target, targetComment(facts, ctx.locale));
      if (verdict.target.responsibleId) await ctx.crm.notifyUser(verdict.target.responsibleId, managerNotice(facts, ctx.locale), verdict.target);
    }
    if (ctx.settings.nativeMerge) await ctx.crm.mergeContacts(verdict.clientContact.id, contact.id);
    await ctx.report({ target: { entity: 'deal', id: verdict.target?.id ?? '' }, summary: `new contact ${contact.id} is client ${verdict.clientContact.id} (${verdict.class})` });
  });
}

/** Whether new contacts are requests here: set in settings, or asked of the portal (kept an hour). */
async function judgesContacts(ctx: RobotContext<'contact.created', Settings>): Promise<boolean> {
  const setting = ctx.settings.bitrix24ContactsWithoutLeads;
  if (setting !== 'auto') return setting;
  const known = await ctx.state.get('dedup:crm-without-leads');
  if (known !== null) return known === '1';
  const withoutLeads = await ctx.crm.worksWithoutLeads();
  await ctx.state.set('dedup:crm-without-leads', withoutLeads ? '1' : '0', 3600);
  return withoutLeads;
}

/** The settings' agent field for this CRM, or undefined when none is named. */
function agentFieldOf(ctx: { crm: { crm: 'bitrix24' | 'amocrm' }; settings: Settings }): string | undefined {
  return ctx.settings.agentField[ctx.crm.crm].trim() || undefined;
}

/** Values of the contact's fields with these names (amoCRM messenger fields named in settings). */
function namedFieldValues(contact: Contact, names: readonly string[]): string[] {
  const wanted = new Set(names.map((n) => n.trim().toLowerCase()));
  return Object.entries(contact.fields ?? {})
    .filter(([name]) => wanted.has(name.trim().toLowerCase()))
    .flatMap(([, values]) => values.filter((v) => typeof v === 'string' || typeof v === 'number').map(String));
}

/**
 * The lead's own multi-fields (Bitrix24 `fm`) and its contacts' communications, with the
 * messenger ids of the fields named in settings (amoCRM keeps them in custom fields).
 */
function communicationsOf(deal: Deal, contacts: Contact[], messengerFields: readonly string[] = []) {
  const fm = Array.isArray(deal.fields.fm) ? (deal.fields.fm as Array<Record<string, unknown>>) : [];
  const of = (type: string) => fm.filter((v) => String(v.typeId).toUpperCase() === type).map((v) => String(v.value));
  return {
    phones: [...of('PHONE'), ...contacts.flatMap((c) => c.phones)],
    emails: [...of('EMAIL'), ...contacts.flatMap((c) => c.emails)],
    messengers: [...fm.filter((v) => String(v.typeId).toUpperCase() === 'IM').map((v) => `${String(v.valueType ?? '')}|${String(v.value)}`), ...contacts.flatMap((c) => [...(c.messengers ?? []), ...namedFieldValues(c, messengerFields)])],
  };
}

function ignoredKeys(s: Settings): Set<string> {
  const { identities } = identitiesOf({ phones: s.ignore.filter((v) => !v.includes('@')), emails: s.ignore.filter((v) => v.includes('@')), messengers: s.ignore }, s.region as never);
  return new Set(identities.map((i) => i.key));
}

async function stageOf(ctx: AnyCtx, deal: Pick<Deal, 'funnelId' | 'stageId' | 'entity'>) {
  const funnel = (await ctx.crm.listFunnels()).find((f: CrmFunnel) => f.entity === deal.entity && f.id === deal.funnelId);
  return funnel?.stages.find((s) => s.id === deal.stageId) ?? null;
}

/** amoCRM: a lead accepted from «Неразобранное» arrives as a stage change out of the incoming stage. */
async function cameFromIncoming(ctx: Ctx, deal: Deal): Promise<boolean> {
  if (ctx.event !== 'deal.stageChanged') return false;
  const from = (ctx.payload as { from?: string | null }).from;
  const funnel = (await ctx.crm.listFunnels()).find((f) => f.entity === deal.entity && f.id === deal.funnelId);
  return Boolean(from && funnel?.stages.find((s) => s.id === from)?.incoming);
}

function createdAtOf(deal: Deal): string {
  const raw = deal.fields.createdTime ?? deal.fields.createdAt;
  const at = typeof raw === 'string' || typeof raw === 'number' ? new Date(typeof raw === 'number' ? raw * 1000 : raw) : new Date();
  return Number.isNaN(at.getTime()) ? new Date().toISOString() : at.toISOString();
}

function createdWithin(deal: Deal, ms: number): boolean {
  return Date.now() - Date.parse(createdAtOf(deal)) <= ms;
}

async function sourceOf(ctx: Ctx, deal: Deal): Promise<string> {
  const wanted = ctx.settings.sourceField[ctx.crm.crm];
  const code = wanted in deal.fields ? wanted : resolveFieldCode(wanted, await ctx.crm.listFields(deal.entity).catch(() => []));
  const value = code ? deal.fields[code] : null;
  return value === null || value === undefined || value === '' ? '—' : String(Array.isArray(value) ? value[0] : value);
}

/** The installation's regulations (bound by `npm run regulation -- apply`, kept with the stage guard's settings). */
async function bindingsFor(ctx: AnyCtx): Promise<SpecBinding[]> {
  const raw = (effectiveSettings(ctx.installation.settings).stageGuard as { regulations?: unknown } | undefined)?.regulations ?? [];
  const specs = z.array(regulationSpecSchema).safeParse(raw);
  if (!specs.success || !specs.data.length) return [];
  const entities = ctx.crm.crm === 'bitrix24' ? (['lead', 'deal'] as const) : (['deal'] as const);
  return (await Promise.all(entities.map((e) => bindRegulations(ctx.crm, specs.data, e)))).flat();
}

function regulationFor(bindings: SpecBinding[], d: Pick<ClientDeal, 'entity' | 'funnelId'>): BoundRegulation | null {
  for (const b of bindings) if (b.ok && b.regulation.entity === d.entity && b.regulation.funnel.id === d.funnelId) return b.regulation;
  return null;
}

function standingOf(d: ClientDeal, bindings: SpecBinding[]): DealStanding {
  if (d.semantics === 'success') return 'bought';
  if (d.semantics === 'failure') return 'closed';
  const role = regulationFor(bindings, d)?.stages.find((s) => s.stageId === d.stageId)?.role;
  return role && BOUGHT_ROLES.includes(role) ? 'bought' : 'active';
}

/**
 * The status a repeat is closed with: the bound regulation's stage with that role (a double
 * submission: its loss stage). amoCRM without such a stage: "closed, not realised" (143) with
 * the loss reason. Never a hard-coded Bitrix24 id.
 */
async function closingStatus(ctx: Ctx, deal: Deal, bindings: SpecBinding[], cls: RepeatClass): Promise<{ stageId: string; name: string } | null> {
  const role: StageRole = cls === 'double_submission' ? 'lost' : cls;
  const stage = (() => {
    const regulation = regulationFor(bindings, deal);
    return regulation ? stageByRole(regulation, role) : null;
  })();
  if (stage) return { stageId: stage.stageId, name: stage.name };
  if (ctx.crm.crm !== 'amocrm') return null;
  const lost = (await ctx.crm.listFunnels()).find((f) => f.id === deal.funnelId)?.stages.find((s) => s.semantics === 'failure');
  return { stageId: lost?.id ?? '143', name: `${lost?.name ?? 'Закрыто и не реализовано'}: ${ctx.settings.lossReasons[cls]}` };
}

