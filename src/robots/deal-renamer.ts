import { z } from 'zod';
import { defineRobot, type RobotContext } from '../app';
import type { Contact, CrmField, Deal } from '../crm/crm-port';

/**
 * Robot 3 — deal renamer: the title becomes "ID / client / unit" (seed 004: auto-renaming
 * deals as "number / name / unit"). Runs on every creation and update; writes only when
 * the title differs, so its own update's echo changes nothing.
 */
const settings = z.object({
  enabled: z.boolean().default(true),
  /** Placeholders: {id}, {contact}, {unit}. A missing part is dropped together with its separator. */
  template: z.string().min(1).default('{id} / {contact} / {unit}').superRefine(checkTemplate),
  /** Which CRM field holds the unit: Bitrix24 field code (UF_CRM_… or ufCrm…), amoCRM field name or id. */
  unitField: z.object({ bitrix24: z.string().min(1), amocrm: z.string().min(1) }),
  /** Bitrix24 leads may be renamed too; deals only by default. */
  entities: z.array(z.enum(['deal', 'lead'])).default(['deal']),
});
type Settings = z.infer<typeof settings>;
/** The renamer's settings schema (the settings page validates a template being edited with it). */
export const dealRenamerSettingsSchema = settings;

const TITLE_PLACEHOLDERS = ['id', 'contact', 'unit'] as const;

/**
 * A misspelt placeholder would silently vanish from every title (and a title with none would name
 * every deal the same), so the template is refused at its field instead.
 */
function checkTemplate(template: string, ctx: z.RefinementCtx): void {
  if (!template) return; // min(1) already says so
  const used = [...template.matchAll(/\{([^{}]*)\}/g)].map((m) => m[1]!);
  const unknown = used.filter((name) => !(TITLE_PLACEHOLDERS as readonly string[]).includes(name));
  if (unknown.length) ctx.addIssue({ code: 'custom', message: `unknown placeholder ${unknown.map((n) => `{${n}}`).join(', ')}; a title may use {id}, {contact}, {unit}` });
  else if (!used.length) ctx.addIssue({ code: 'custom', message: 'no placeholder; a title may use {id}, {contact}, {unit}' });
}

export const dealRenamer = defineRobot({
  name: 'dealRenamer',
  settings,
  register(app) {
    app.on('deal.created', rename);
    app.on('deal.updated', rename);
    app.on('lead.created', rename);
    app.on('lead.updated', rename);
  },
});

async function rename(ctx: RobotContext<'deal.created' | 'deal.updated' | 'lead.created' | 'lead.updated', Settings>): Promise<void> {
  const { deal, contacts } = ctx.payload;
  if (!ctx.settings.entities.includes(deal.entity)) return;
  await applyTitle(ctx, deal, contacts);
}

export type DealRenamerSettings = Settings;

/** Renames the deal by the template when its title differs; returns the title it should have ('' when nothing to build it from). */
export async function applyTitle(ctx: Pick<RobotContext<never, Settings>, 'crm' | 'settings' | 'report'>, deal: Deal, contacts: Contact[]): Promise<string> {
  const title = titleFor(ctx.settings, ctx.crm.crm, deal, contacts, await ctx.crm.listFields(deal.entity));
  if (!title || title === deal.title) return title;
  await ctx.crm.renameDeal(deal, title);
  await ctx.report({ target: deal, summary: 'renamed', before: deal.title, after: title });
  return title;
}

/** The title the renamer gives this deal (pure; the settings page previews with it). */
export function titleFor(settings: Pick<Settings, 'template' | 'unitField'>, crm: keyof Settings['unitField'], deal: Deal, contacts: Contact[], fields: CrmField[]): string {
  const unitCode = resolveFieldCode(settings.unitField[crm], fields);
  return renderTitle(settings.template, {
    id: deal.id,
    contact: contactName(contacts[0]),
    unit: unitCode ? fieldText(deal.fields[unitCode]) : '',
  });
}

/**
 * Fills the template. Text before the first placeholder and after the last is kept; a part that
 * is empty disappears with the separator before it (or after it, for the first part):
 * "{id} / {contact} / {unit}" without a contact is "15 / кв. 5-101".
 */
export function renderTitle(template: string, values: Record<string, string>): string {
  const tokens = template.split(/(\{[a-z]+\})/i);
  const prefix = tokens[0] ?? '';
  const suffix = tokens.length > 1 ? tokens[tokens.length - 1]! : '';
  const parts: Array<{ value: string; separatorBefore: string }> = [];
  for (let i = 1; i < tokens.length; i += 2) {
    const name = tokens[i]!.slice(1, -1);
    const value = (values[name] ?? '').trim();
    if (value) parts.push({ value, separatorBefore: i > 1 ? tokens[i - 1]! : '' });
  }
  const body = parts.map((p, i) => (i === 0 ? p.value : p.separatorBefore + p.value)).join('');
  return body ? `${prefix}${body}${suffix}`.trim() : '';
}

/** "Иванов Иван" from the contact's name; empty when the deal has no contact. */
function contactName(contact: Contact | undefined): string {
  return contact?.name.trim() ?? '';
}

function fieldText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.map(fieldText).filter(Boolean).join(', ');
  return String(value).trim();
}

/** Finds a field by code (UF_CRM_UNIT and ufCrmUnit are the same Bitrix24 field) or by its title. */
export function resolveFieldCode(wanted: string, fields: CrmField[]): string | null {
  const normal = (s: string) => s.replace(/_/g, '').toLowerCase();
  const byCode = fields.find((f) => f.code === wanted || normal(f.code) === normal(wanted));
  if (byCode) return byCode.code;
  const byTitle = fields.find((f) => f.title.trim().toLowerCase() === wanted.trim().toLowerCase());
  return byTitle ? byTitle.code : null;
}

