/**
 * Stage selectors (`meeting_held`, `*`, `@failure`, `@forward`…) expanded to stage keys.
 * Used by preset validation and by binding, so both read a rule the same way.
 */
import { STAGE_ROLES, type StageRole, type StageSelection, type StageSelector } from './schema';

export interface OrderedStage {
  key: string;
  role: StageRole;
}

export function selectorsOf(selection: StageSelection): StageSelector[] {
  return Array.isArray(selection) ? selection : [selection];
}

/** Whether a selector names a group rather than one stage. */
export function isGroupSelector(selector: string): boolean {
  return selector === '*' || selector.startsWith('@');
}

/**
 * The keys a selection covers among `stages` (in their order). `reference` is the stage that
 * `@forward` / `@backward` are relative to. Keys that are not among `stages` are skipped: the
 * preset validator reports unknown keys, and binding drops stages a portal does not have.
 */
export function expandSelection(selection: StageSelection, stages: readonly OrderedStage[], reference?: string): string[] {
  const chosen = new Set<string>();
  const referenceIndex = reference === undefined ? -1 : stages.findIndex((s) => s.key === reference);
  stages.forEach((stage, index) => {
    for (const selector of selectorsOf(selection)) {
      if (covers(selector, stage, index, referenceIndex)) chosen.add(stage.key);
    }
  });
  return stages.filter((s) => chosen.has(s.key)).map((s) => s.key);
}

function covers(selector: StageSelector, stage: OrderedStage, index: number, referenceIndex: number): boolean {
  switch (selector) {
    case '*':
      return true;
    case '@process':
    case '@success':
    case '@failure':
      return STAGE_ROLES[stage.role].semantics === selector.slice(1);
    case '@forward':
      return referenceIndex >= 0 && index > referenceIndex;
    case '@backward':
      return referenceIndex >= 0 && index < referenceIndex;
    default:
      return selector === stage.key;
  }
}
