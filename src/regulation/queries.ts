/**
 * Questions other robots ask a bound regulation: which stage has a role, what role a stage
 * has, whether a move records a held meeting, whether a manager's violations call for an alert.
 * All pure.
 */
import { indexRegulation } from './evaluate-move';
import type { BoundRegulation, BoundStage, StageRole } from './schema';

/** The stage with `role`, or null (for repeatable roles such as `lost`: the first one). */
export function stageByRole(regulation: BoundRegulation, role: StageRole): BoundStage | null {
  return regulation.stages.find((s) => s.role === role) ?? null;
}

/** Every stage with `role`, in funnel order. */
export function stagesByRole(regulation: BoundRegulation, role: StageRole): BoundStage[] {
  return regulation.stages.filter((s) => s.role === role);
}

/** The governed stage with this CRM id, or null. */
export function stageById(regulation: BoundRegulation, stageId: string): BoundStage | null {
  return indexRegulation(regulation).byId.get(stageId) ?? null;
}

/** Whether the move `from → to` enters a stage with `role` (a move within that stage does not). */
export function entersRole(
  regulation: BoundRegulation,
  move: { fromStageId: string; toStageId: string },
  role: StageRole,
): boolean {
  if (move.fromStageId === move.toStageId) return false;
  const to = stageById(regulation, move.toStageId);
  if (to?.role !== role) return false;
  return stageById(regulation, move.fromStageId)?.role !== role;
}

/**
 * "Meeting held is a fact": whether this move enters the `meeting_held` stage, so the caller
 * records the meeting date and the manager (they feed next month's lead distribution, seed 002).
 * Call it for moves the stage guard allowed.
 */
export function entersMeetingHeld(regulation: BoundRegulation, move: { fromStageId: string; toStageId: string }): boolean {
  return entersRole(regulation, move, 'meeting_held');
}

/**
 * Whether a manager's violation count for today has just reached the alert threshold
 * (`settings.violationAlertThreshold`, default 3): true exactly once a day, when the count
 * equals the threshold, so the heads of sales are told once.
 */
export function isViolationAlertDue(regulation: BoundRegulation, violationsToday: number): boolean {
  return violationsToday === regulation.settings.violationAlertThreshold;
}
