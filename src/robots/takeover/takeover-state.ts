import type { InstallationState } from '../../app';
import type { DealRef } from '../../crm/crm-port';

/**
 * The takeover of one lead, kept in the installation's state under `takeover:<entity>:<id>`.
 * `seq` numbers the timer: a fire carrying an older `seq` is stale (the lead was taken,
 * reassigned or restarted meanwhile) and does nothing, so a timer acts at most once.
 */
export interface TakeoverState {
  status: 'pending' | 'taken' | 'escalated' | 'stopped';
  /** The stage the takeover runs in; leaving it means the lead was taken. */
  stageId: string;
  responsibleId: string;
  /** Everyone who held the lead, first to last. */
  holders: string[];
  names: Record<string, string>;
  hops: number;
  seq: number;
  assignedAt: string;
  dueAt: string;
  /** The distribution's explanations, newest last ("why did Б get this lead"). */
  decisions: string[];
  takenBy?: string;
  /** A reassignment decided but not yet carried out (a retried fire finishes it, never decides again). */
  pending?: { seq: number; to: string; name: string; dueAt: string; why: string };
}

const TTL = 60 * 86_400;
export const takeoverKey = (ref: DealRef) => `${ref.entity}:${ref.id}`;
const stateKey = (ref: DealRef) => `takeover:${takeoverKey(ref)}`;

export async function loadTakeover(state: InstallationState, ref: DealRef): Promise<{ raw: string; state: TakeoverState } | null> {
  const raw = await state.get(stateKey(ref));
  return raw ? { raw, state: JSON.parse(raw) as TakeoverState } : null;
}

/** Compare-and-set from `expected` (the raw value read; null: none): false when someone changed it meanwhile. */
export function saveTakeover(state: InstallationState, ref: DealRef, expected: string | null, next: TakeoverState): Promise<boolean> {
  return state.compareAndSet(stateKey(ref), expected, JSON.stringify(next), TTL);
}
