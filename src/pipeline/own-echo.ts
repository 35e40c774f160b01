import type { DealRef } from '../crm/crm-port';
import type { InboundEvent } from '../events';
import type { OwnWriteLedger } from './own-write-ledger';

/**
 * Whether an update event may be the echo of the app's own write, judged from the event alone,
 * before anything is read. Pure: what the ledger recorded is passed in.
 *
 * - Only webhook updates: a catch-up event is the reconciliation's own check and is always read.
 * - Bitrix24 events carry only the id: nothing to compare, any update may be the echo; whether it
 *   is taken for one is the expected-echo count and its time window (`isEchoOfOwnWrite`).
 * - amoCRM events carry the lead (name, status): the event must show, for every field the app
 *   wrote, the value it wrote, and the stage the app last saw (a stage the app did not write or
 *   accept is a move to judge, and its history must be read).
 */
export function mayBeOwnEcho(event: InboundEvent, lastSeenStage: string | null, recorded: { title: string | null; stage: string | null }): boolean {
  if (event.kind !== 'updated' || event.via === 'catch-up') return false;
  if (event.crm === 'bitrix24') return true;
  const shown = { title: event.hint?.title, stage: event.hint?.toStageId };
  if (shown.stage === undefined || shown.stage !== lastSeenStage) return false;
  if (recorded.title === null && recorded.stage === null) return false;
  if (recorded.title !== null && shown.title !== recorded.title) return false;
  if (recorded.stage !== null && shown.stage !== recorded.stage) return false;
  return true;
}

/**
 * The echo of the app's own write, recognised without reading the deal. On top of `mayBeOwnEcho`,
 * the ledger must hold a write of this deal recorded at most `windowMs` before the CRM raised the
 * event (Bitrix24 `ts`; else when it arrived), and not after it arrived; one write answers one event
 * (consumed atomically, whatever number of workers ask). The CRM's stamp, not the arrival, is what
 * counts: a portal delivering a backlog of events late still shows when each change happened.
 *
 * Why this is sound even though a Bitrix24 event cannot tell our change from a person's:
 * - A person's edit inside the window raises its own event. Each write answers one event only, so
 *   of the two events (ours, the person's) one is dropped and the other is read — and the read
 *   sees the deal as it is now, the person's edit included. Which one is dropped does not matter.
 * - The edit can hide only when our own echo never comes to be read (Bitrix24 does not retry a
 *   lost delivery; a queued job absorbs a later event for the same deal). Then the person's event
 *   is the one dropped. A dropped echo records no handled version, while the person's edit moved the
 *   deal's DATE_MODIFY (`updatedTime`) forward: the next catch-up scan (src/pipeline/catch-up/)
 *   lists the deal as unhandled and enqueues it as an ordinary read-and-judge. So such an edit is
 *   judged late (within RECONCILE_INTERVAL_S), never lost. The window is short to keep that rare.
 * - A write that failed withdraws its expected echo; a write that may change nothing (so raise no
 *   event) records none. A catch-up event is never taken for an echo.
 */
export async function isEchoOfOwnWrite(
  ledger: OwnWriteLedger,
  event: InboundEvent,
  ref: DealRef,
  lastSeenStage: string | null,
  windowMs: number,
): Promise<boolean> {
  if (windowMs <= 0 || event.kind !== 'updated' || event.via === 'catch-up') return false;
  const [title = null, stage = null] = event.crm === 'amocrm' ? await ledger.recorded(event.installationId, ref, ['title', 'stage']) : [];
  if (!mayBeOwnEcho(event, lastSeenStage, { title, stage })) return false;
  return ledger.consumeEcho(event.installationId, ref, event, windowMs);
}
