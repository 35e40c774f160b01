import { z } from 'zod';

/**
 * amoCRM's widget manifest.json as its docs describe it (developers.kommo.com/docs/manifest-json,
 * /docs/widget-locations, /docs/field-types; the same on amocrm.ru): texts are i18n keys looked up
 * in i18n/<locale>.json, `interface_version` 2, locations with an optional -0/-1 (right-hand panel)
 * suffix for cards and lists, settings fields of the documented types, a `dp` block when the
 * widget works in the Digital Pipeline and an `advanced` block for the advanced settings page.
 */
const i18nKey = z.string().regex(/^[a-z_]+(\.[a-z0-9_]+)+$/, 'must be an i18n key such as "widget.name"');

const CARD_OR_LIST = ['lcard', 'ccard', 'comcard', 'cucard', 'llist', 'clist', 'tlist', 'culist'];
const PAGES = ['settings', 'advanced_settings', 'card_sdk', 'catalogs', 'digital_pipeline', 'lead_sources', 'widget_page', 'sms', 'mobile_card', 'salesbot_designer', 'website_chat_button', 'whatsapp_modal', 'everywhere'];
const location = z.string().refine((l) => PAGES.includes(l) || CARD_OR_LIST.includes(l.replace(/-[01]$/, '')), 'must be a documented widget location');

export const settingsFieldSchema = z.strictObject({
  name: i18nKey,
  type: z.enum(['text', 'pass', 'users', 'users_lp', 'custom']),
  required: z.boolean(),
});

export const widgetManifestSchema = z
  .strictObject({
    widget: z.strictObject({
      name: i18nKey,
      description: i18nKey,
      short_description: i18nKey,
      version: z.string().regex(/^\d+\.\d+\.\d+$/, 'must be a version such as 1.0.1'),
      interface_version: z.literal(2),
      init_once: z.boolean(),
      locale: z.array(z.string().regex(/^[a-z]{2}$/)).min(1),
      installation: z.boolean(),
      support: z.strictObject({ link: z.url({ protocol: /^https$/ }), email: z.email() }),
    }),
    locations: z.array(location).min(1),
    settings: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/), settingsFieldSchema).optional(),
    dp: z
      .strictObject({
        settings: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/), settingsFieldSchema),
        action_multiple: z.boolean(),
        webhook_url: z.url({ protocol: /^https?$/ }),
      })
      .optional(),
    advanced: z.strictObject({ title: i18nKey }).optional(),
  })
  .superRefine((m, ctx) => {
    if (new Set(m.locations).size !== m.locations.length) ctx.addIssue({ code: 'custom', path: ['locations'], message: 'a location is listed twice' });
    if (m.locations.includes('digital_pipeline') !== Boolean(m.dp)) {
      ctx.addIssue({ code: 'custom', path: ['dp'], message: 'the Digital Pipeline needs both the digital_pipeline location and the dp block' });
    }
    if (m.locations.includes('advanced_settings') !== Boolean(m.advanced)) {
      ctx.addIssue({ code: 'custom', path: ['advanced'], message: 'the advanced settings page needs both the advanced_settings location and the advanced block' });
    }
    if (!m.widget.locale.includes('ru') && !m.widget.locale.includes('en')) ctx.addIssue({ code: 'custom', path: ['widget', 'locale'], message: 'needs ru or en' });
  });
export type WidgetManifest = z.infer<typeof widgetManifestSchema>;

/** Every i18n key the manifest uses (widget texts, field names, the advanced page title). */
export function manifestI18nKeys(manifest: WidgetManifest): string[] {
  const fields = [...Object.values(manifest.settings ?? {}), ...Object.values(manifest.dp?.settings ?? {})].map((f) => f.name);
  return [manifest.widget.name, manifest.widget.description, manifest.widget.short_description, ...fields, ...(manifest.advanced ? [manifest.advanced.title] : [])];
}

/** The text an i18n key names in one locale file, or null. */
export function lookupI18n(texts: unknown, key: string): string | null {
  let node: unknown = texts;
  for (const part of key.split('.')) node = node && typeof node === 'object' ? (node as Record<string, unknown>)[part] : undefined;
  return typeof node === 'string' && node.trim() ? node : null;
}
