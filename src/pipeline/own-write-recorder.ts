import type { OwnWriteLedger } from './own-write-ledger';
import type { StageTracker } from './stage-tracker';
import type { CrmPort, DealRef, MoveOptions, RepeatClosing } from '../crm/crm-port';

/**
 * Wraps an installation's CrmPort so every write a robot makes is recorded before it is
 * sent: the echo webhook is then recognised as ours, and a stage the app moved a deal to
 * becomes the stage the app last saw (its echo is not a new stage change).
 *
 * Each of these writes changes the deal, so the CRM raises an update event for it (Bitrix24: one
 * `crm.item.update`, one ONCRMDEALUPDATE / ONCRMLEADUPDATE; amoCRM: at least one `leads[…]` entry):
 * one expected echo is recorded per write, withdrawn when the write fails (see own-echo.ts). A write
 * that may change nothing (`linkContact`) records none: its echo is read, as any event.
 */
export function recordOwnWrites(port: CrmPort, installationId: string, ownWrites: OwnWriteLedger, tracker: StageTracker, moved: Map<string, string>): CrmPort {
  const expectingEcho = async (ref: DealRef, write: () => Promise<void>) => {
    const mark = await ownWrites.expectEcho(installationId, ref);
    try {
      await write();
    } catch (err) {
      // Perhaps applied all the same (an answer lost): withdrawing only costs reading that echo.
      await ownWrites.withdrawEcho(installationId, ref, mark).catch(() => undefined);
      throw err;
    }
  };
  return Object.assign(Object.create(port) as CrmPort, {
    crm: port.crm,
    renameDeal: async (ref: DealRef, title: string) => {
      await ownWrites.record(installationId, ref, 'title', title);
      await expectingEcho(ref, () => port.renameDeal(ref, title));
    },
    moveDeal: async (ref: DealRef, stageId: string, options?: MoveOptions) => {
      await ownWrites.record(installationId, ref, 'stage', stageId);
      await expectingEcho(ref, () => port.moveDeal(ref, stageId, options));
      await tracker.set(installationId, ref, stageId);
      moved.set(`${ref.entity}:${ref.id}`, stageId);
    },
    closeAsRepeat: async (ref: DealRef, close: RepeatClosing) => {
      await ownWrites.record(installationId, ref, 'stage', close.stageId);
      await expectingEcho(ref, () => port.closeAsRepeat(ref, close));
      await tracker.set(installationId, ref, close.stageId);
      moved.set(`${ref.entity}:${ref.id}`, close.stageId);
    },
    assignResponsible: (ref: DealRef, userId: string) => expectingEcho(ref, () => port.assignResponsible(ref, userId)),
  });
}
