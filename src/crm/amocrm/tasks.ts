import type { CrmActivity, CrmTask, DealEntity, DealRef, NewTask } from '../crm-port';
import type { AmoRestClient } from './rest-client';

/**
 * Tasks, calls and messages of an amoCRM lead (API v4). Calls are notes (`call_in`, `call_out`),
 * usually on the contact, sometimes on the lead; chat messages are events
 * (`incoming_chat_message`, `outgoing_chat_message`).
 */
const TASK_TYPE = { call: 1, follow_up: 1, meeting: 2 } as const; // built-in types: 1 follow-up, 2 meeting
const NOTE_TYPES = ['call_in', 'call_out', 'common', 'sms_in', 'sms_out'];
const CHAT_EVENTS = ['incoming_chat_message', 'outgoing_chat_message'];
/** Kommo call_status: 4 = a conversation took place. */
const CALL_TALKED = 4;

interface AmoTaskJson {
  id: number;
  text: string;
  complete_till: number;
  responsible_user_id: number;
  is_completed: boolean;
}
interface AmoNoteJson {
  id: number;
  note_type: string;
  created_at: number;
  created_by: number;
  params?: { text?: string; duration?: number; call_status?: number; phone?: string };
}
interface AmoEventJson {
  id: string;
  type: string;
  created_at: number;
  created_by: number;
}

export async function listOpenTasks(rest: AmoRestClient, ref: DealRef): Promise<CrmTask[]> {
  const page = await rest.get<{ _embedded: { tasks: AmoTaskJson[] } }>('/api/v4/tasks', {
    'filter[entity_type]': 'leads',
    'filter[entity_id][]': ref.id,
    'filter[is_completed]': 0,
    limit: 250,
  });
  return (page?._embedded.tasks ?? []).map((t) => ({
    id: String(t.id),
    text: t.text,
    dueAt: new Date(t.complete_till * 1000).toISOString(),
    responsibleId: String(t.responsible_user_id),
  }));
}

/** A task on a lead as `POST /api/v4/tasks` takes it (the lead's `entity_id` is added by the adapter). */
export function taskElement(task: NewTask): Record<string, unknown> {
  return {
    text: task.text,
    complete_till: Math.floor(task.dueAt.getTime() / 1000),
    task_type_id: TASK_TYPE[task.kind],
    responsible_user_id: Number(task.responsibleId),
    entity_type: 'leads',
  };
}

export async function listActivities(rest: AmoRestClient, ref: DealRef, contactIds: readonly string[], since: Date): Promise<CrmActivity[]> {
  const from = Math.floor(since.getTime() / 1000);
  const noteQuery = { 'filter[note_type]': NOTE_TYPES.join(','), 'filter[updated_at][from]': from, limit: 250 };
  const leadNotes = await rest.get<{ _embedded: { notes: AmoNoteJson[] } }>(`/api/v4/leads/${encodeURIComponent(ref.id)}/notes`, noteQuery);
  const contacts = contactIds.slice(0, 10);
  const contactNotes = contacts.length
    ? await rest.get<{ _embedded: { notes: AmoNoteJson[] } }>('/api/v4/contacts/notes', { ...noteQuery, 'filter[entity_id]': contacts.join(',') })
    : null;
  const chats = await rest.get<{ _embedded: { events: AmoEventJson[] } }>('/api/v4/events', {
    'filter[entity]': 'lead',
    'filter[entity_id][]': ref.id,
    'filter[type]': CHAT_EVENTS.join(','),
    'filter[created_at][from]': from,
    limit: 100,
  });
  const notes = [...(leadNotes?._embedded.notes ?? []), ...(contactNotes?._embedded.notes ?? [])].filter((n) => n.created_at >= from);
  const activities = [...notes.map(noteActivity), ...(chats?._embedded.events ?? []).map(chatActivity)];
  return activities.sort((a, b) => a.at.localeCompare(b.at));
}

function noteActivity(n: AmoNoteJson): CrmActivity {
  const at = new Date(n.created_at * 1000).toISOString();
  const base = { id: `note:${n.id}`, at, authorId: n.created_by ? String(n.created_by) : null };
  if (n.note_type === 'call_in' || n.note_type === 'call_out') {
    const duration = Number(n.params?.duration ?? 0);
    const answered = n.params?.call_status !== undefined ? Number(n.params.call_status) === CALL_TALKED : duration > 0;
    const direction = n.note_type === 'call_in' ? 'incoming' : 'outgoing';
    return { ...base, kind: 'call', direction, answered, summary: `${direction === 'incoming' ? 'входящий' : 'исходящий'} звонок, ${answered ? formatSeconds(duration) : 'без ответа'}` };
  }
  if (n.note_type === 'sms_in' || n.note_type === 'sms_out') {
    return { ...base, kind: 'message', direction: n.note_type === 'sms_in' ? 'incoming' : 'outgoing', answered: null, summary: 'SMS' };
  }
  return { ...base, kind: 'note', direction: null, answered: null, summary: 'примечание' };
}

function chatActivity(e: AmoEventJson): CrmActivity {
  const incoming = e.type === 'incoming_chat_message';
  return {
    id: `event:${e.id}`,
    kind: 'message',
    direction: incoming ? 'incoming' : 'outgoing',
    at: new Date(e.created_at * 1000).toISOString(),
    authorId: e.created_by ? String(e.created_by) : null,
    answered: null,
    summary: incoming ? 'входящее сообщение' : 'исходящее сообщение',
  };
}

export async function countDealsInStage(rest: AmoRestClient, _entity: DealEntity, funnelId: string, stageId: string, responsibleId: string, cap: number): Promise<number> {
  const page = await rest.get<{ _embedded: { leads: unknown[] } }>('/api/v4/leads', {
    'filter[statuses][0][pipeline_id]': funnelId,
    'filter[statuses][0][status_id]': stageId,
    'filter[responsible_user_id]': responsibleId,
    limit: Math.min(250, Math.max(1, cap)),
  });
  return Math.min(cap, page?._embedded.leads.length ?? 0);
}

export function formatSeconds(total: number): string {
  const s = Math.max(0, Math.round(total));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
