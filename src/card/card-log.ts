import type { RobotAction } from '../app';
import type { DealRef } from '../crm/crm-port';
import type { Services } from '../services';
import { actionTitle, robotTitle, type CardLang } from './card-texts';
import { undoneActions } from './undo-action';

/** One row of the card's robot log, as the card page and the amoCRM widget show it. */
export interface CardLogEntry {
  id: string;
  robot: string;
  robotTitle: string;
  /** What the robot did, in words. */
  title: string;
  /** Why: the text the robot wrote in the card (the installation's language). */
  why: string | null;
  at: string;
  kind: string | null;
  /** True when this user may undo it now (an undoable action, not undone yet, a head of sales or an admin). */
  canUndo: boolean;
  /** The undo row that undid this action. */
  undoneBy: string | null;
  /** For an undo row: the action it undid and who undid it. */
  undoOf: string | null;
  by: { userId: string; name?: string; role: string; reason?: string } | null;
}

export async function cardLog(
  services: Pick<Services, 'actions' | 'redis' | 'prefix'>,
  installationId: string,
  target: DealRef,
  viewer: { mayUndo: boolean },
  lang: CardLang,
): Promise<CardLogEntry[]> {
  const rows = (await services.actions.ofTarget(installationId, target, 100)).filter((r): r is RobotAction & { id: string } => Boolean(r.id));
  const undone = await undoneActions(services, installationId, rows.filter((r) => r.undo).map((r) => r.id));
  return rows.map((row) => ({
    id: row.id,
    robot: row.robot,
    robotTitle: robotTitle(row.robot, lang),
    title: actionTitle(row, lang),
    why: row.why ?? null,
    at: row.at,
    kind: row.kind ?? null,
    canUndo: viewer.mayUndo && Boolean(row.undo) && !row.undoOf && !undone.has(row.id),
    undoneBy: undone.get(row.id) ?? null,
    undoOf: row.undoOf ?? null,
    by: row.by ?? null,
  }));
}
