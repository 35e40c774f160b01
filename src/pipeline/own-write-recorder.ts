import type { OwnWriteLedger } from './own-write-ledger';
import type { StageTracker } from './stage-tracker';
import type { CrmPort, DealRef, MoveOptions, RepeatClosing } from '../crm/crm-port';

/**
 * Wraps an installation's CrmPort so every write a robot makes is recorded before it is
 * sent: the echo webhook is then recognised as ours, and a stage the app moved a deal to
 * becomes the stage the app last saw (its echo is not a new stage change).
 */
export function recordOwnWrites(port: CrmPort, installationId: string, ownWrites: OwnWriteLedger, tracker: StageTracker, moved: Map<string, string>): CrmPort {
  return Object.assign(Object.create(port) as CrmPort, {
    crm: port.crm,
    renameDeal: async (ref: DealRef, title: string) => {
      await ownWrites.record(installationId, ref, 'title', title);
      await port.renameDeal(ref, title);
    },
    moveDeal: async (ref: DealRef, stageId: string, options?: MoveOptions) => {
      await ownWrites.record(installationId, ref, 'stage', stageId);
      await port.moveDeal(ref, stageId, options);
      await tracker.set(installationId, ref, stageId);
      moved.set(`${ref.entity}:${ref.id}`, stageId);
    },
    closeAsRepeat: async (ref: DealRef, close: RepeatClosing) => {
      await ownWrites.record(installationId, ref, 'stage', close.stageId);
      await port.closeAsRepeat(ref, close);
      await tracker.set(installationId, ref, close.stageId);
      moved.set(`${ref.entity}:${ref.id}`, close.stageId);
    },
  });
}
