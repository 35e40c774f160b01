import type { Bitrix24RestClient } from '../crm/bitrix24/rest-client';

/** Where Bitrix24 opens the robot log tab of a deal and of a lead (webhooks/card/card-router.ts serves it). */
export const BITRIX24_CARD_PLACEMENT_PATH = '/apps/bitrix24/card';

/** The card tabs: a deal's and a lead's detail form (restdocs widgets/crm/detail-tab.md), titled in Russian and English. */
export const CARD_PLACEMENTS = [
  { placement: 'CRM_DEAL_DETAIL_TAB', title: 'Роботы Reglament', en: 'Reglament robots' },
  { placement: 'CRM_LEAD_DETAIL_TAB', title: 'Роботы Reglament', en: 'Reglament robots' },
] as const;

interface BoundPlacement {
  placement: string;
  handler: string;
}

/**
 * Binds the card tabs (`placement.get`, then `placement.bind` for what is missing): a reinstall or
 * an app update converges, and a tab left bound to an old address of the app is moved to the current
 * one (`placement.unbind` of that handler first). Bitrix24 removes an application's placements itself
 * when the application is uninstalled (restdocs settings/app-uninstallation.md); `unbindCardPlacements`
 * removes them while the app stays installed.
 */
export async function bindCardPlacements(rest: Pick<Bitrix24RestClient, 'call'>, publicUrl: string): Promise<{ bound: string[]; kept: string[] }> {
  const handler = `${publicUrl.replace(/\/$/, '')}${BITRIX24_CARD_PLACEMENT_PATH}`;
  const existing = (await rest.call<BoundPlacement[]>('placement.get')) ?? [];
  const bound: string[] = [];
  const kept: string[] = [];
  for (const tab of CARD_PLACEMENTS) {
    const ours = existing.filter((p) => p.placement === tab.placement && new URL(p.handler, handler).pathname === BITRIX24_CARD_PLACEMENT_PATH);
    if (ours.some((p) => p.handler === handler)) {
      kept.push(tab.placement);
      continue;
    }
    for (const stale of ours) await rest.call('placement.unbind', { PLACEMENT: tab.placement, HANDLER: stale.handler });
    await rest.call('placement.bind', {
      PLACEMENT: tab.placement,
      HANDLER: handler,
      TITLE: tab.title,
      LANG_ALL: { ru: { TITLE: tab.title }, en: { TITLE: tab.en } },
    });
    bound.push(tab.placement);
  }
  return { bound, kept };
}

export async function unbindCardPlacements(rest: Pick<Bitrix24RestClient, 'call'>, publicUrl: string): Promise<void> {
  const handler = `${publicUrl.replace(/\/$/, '')}${BITRIX24_CARD_PLACEMENT_PATH}`;
  for (const tab of CARD_PLACEMENTS) await rest.call('placement.unbind', { PLACEMENT: tab.placement, HANDLER: handler });
}
