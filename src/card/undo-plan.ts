import { z } from 'zod';

/**
 * What undoing a robot's action needs, recorded by the robot with the action itself (one place):
 * - `stage`: the stage guard moved the deal back; undo moves it to the stage the manager had chosen;
 * - `responsible`: the takeover timer handed the deal on; undo gives it back to the previous responsible;
 * - `reopen`: the duplicate catcher closed a repeat request; undo reopens it at the stage it had before.
 * `left` is what the robot left the deal with: an undo only writes while the deal still shows it
 * (someone who changed the deal since has the last word).
 */
const stageRef = z.object({ id: z.string().min(1).max(64), name: z.string().max(200).optional() });
const userRef = z.object({ id: z.string().regex(/^\d{1,20}$/), name: z.string().max(200).optional() });

export const undoPlanSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('stage'), to: stageRef, left: stageRef }),
  z.object({ kind: z.literal('responsible'), to: userRef, left: userRef }),
  z.object({ kind: z.literal('reopen'), to: stageRef, left: stageRef }),
]);
export type UndoPlan = z.infer<typeof undoPlanSchema>;

/** Who undid an action and why (the undo's own log row carries it). */
export const undoneBySchema = z.object({
  userId: z.string().regex(/^\d{1,20}$/),
  name: z.string().max(200).optional(),
  role: z.enum(['admin', 'head_of_sales']),
  reason: z.string().max(500).optional(),
});
export type UndoneBy = z.infer<typeof undoneBySchema>;

/**
 * The stage guard's exemption for a head of sales' undo (kept in the installation's robot state for
 * the echo window): the undo is the app's own write, recorded in the own-write ledger like every
 * robot write; this names it once more so the guard never reverts it even when the echo is not
 * recognised (a Bitrix24 event delivered late).
 */
export const undoExemptionKey = (ref: { entity: string; id: string }) => `undo-exempt:${ref.entity}:${ref.id}`;
export const UNDO_EXEMPTION_SECONDS = 15 * 60;
export interface UndoExemption {
  from: string;
  to: string;
}
