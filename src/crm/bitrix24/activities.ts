import type { CrmActivity, CrmTask, DealEntity, DealRef, NewTask } from '../crm-port';
import type { Bitrix24RestClient } from './rest-client';

/**
 * Tasks, calls and messages of a Bitrix24 deal or lead: CRM activities (`crm.activity.list`),
 * to-dos (`crm.activity.todo.add`), timeline comments. Activity TYPE_ID: 1 meeting, 2 call,
 * 3 task, 4 e-mail, 6 "universal" (to-dos: PROVIDER_ID `CRM_TODO`; open-line chats:
 * `IMOPENLINES_SESSION`); DIRECTION 1 incoming, 2 outgoing.
 */
const OWNER_TYPE_ID: Record<DealEntity, number> = { lead: 1, deal: 2 };
const TYPE = { meeting: 1, call: 2, task: 3, email: 4, universal: 6 } as const;
const DIRECTION_INCOMING = 1;

type Row = Record<string, unknown>;

export async function listOpenTasks(rest: Bitrix24RestClient, ref: DealRef): Promise<CrmTask[]> {
  const rows = await rest.call<Row[]>('crm.activity.list', {
    filter: { OWNER_TYPE_ID: OWNER_TYPE_ID[ref.entity], OWNER_ID: Number(ref.id), COMPLETED: 'N' },
    select: ['ID', 'SUBJECT', 'DEADLINE', 'RESPONSIBLE_ID', 'TYPE_ID', 'PROVIDER_ID'],
    order: { ID: 'ASC' },
  });
  return (rows ?? []).map((r) => ({
    id: String(r.ID),
    text: String(r.SUBJECT ?? ''),
    dueAt: r.DEADLINE ? new Date(String(r.DEADLINE)).toISOString() : null,
    responsibleId: r.RESPONSIBLE_ID ? String(r.RESPONSIBLE_ID) : null,
  }));
}

export async function createTask(rest: Bitrix24RestClient, ref: DealRef, task: NewTask): Promise<string> {
  // The first line is the to-do's title; the rest, if any, its description.
  const [title, ...more] = task.text.split('\n');
  const result = await rest.call<{ id: number }>('crm.activity.todo.add', {
    ownerTypeId: OWNER_TYPE_ID[ref.entity],
    ownerId: Number(ref.id),
    deadline: task.dueAt.toISOString(),
    title: title ?? task.text,
    ...(more.length ? { description: more.join('\n') } : {}),
    responsibleId: Number(task.responsibleId),
  });
  return String(result.id);
}

export async function listActivities(rest: Bitrix24RestClient, ref: DealRef, since: Date): Promise<CrmActivity[]> {
  const owner = { OWNER_TYPE_ID: OWNER_TYPE_ID[ref.entity], OWNER_ID: Number(ref.id) };
  const { result } = await rest.batch({
    activities: {
      method: 'crm.activity.list',
      params: {
        filter: { ...owner, '>=CREATED': since.toISOString(), '!PROVIDER_ID': 'CRM_TODO' },
        select: ['ID', 'TYPE_ID', 'PROVIDER_ID', 'DIRECTION', 'COMPLETED', 'CREATED', 'START_TIME', 'END_TIME', 'AUTHOR_ID', 'RESPONSIBLE_ID', 'SUBJECT'],
        order: { ID: 'ASC' },
      },
    },
    comments: {
      method: 'crm.timeline.comment.list',
      params: { filter: { ENTITY_ID: Number(ref.id), ENTITY_TYPE: ref.entity, '>=CREATED': since.toISOString() }, select: ['ID', 'CREATED', 'AUTHOR_ID'] },
    },
  });
  const activities = ((result.activities as Row[] | undefined) ?? []).flatMap(activityOf);
  const comments = ((result.comments as Row[] | undefined) ?? []).map(
    (c): CrmActivity => ({ id: `comment:${c.ID}`, kind: 'note', direction: null, at: iso(c.CREATED), authorId: c.AUTHOR_ID ? String(c.AUTHOR_ID) : null, answered: null, summary: 'комментарий' }),
  );
  return [...activities, ...comments].filter((a) => a.at >= since.toISOString()).sort((a, b) => a.at.localeCompare(b.at));
}

function activityOf(r: Row): CrmActivity[] {
  const type = Number(r.TYPE_ID);
  const direction = Number(r.DIRECTION) === DIRECTION_INCOMING ? 'incoming' : 'outgoing';
  const base = { id: `activity:${r.ID}`, at: iso(r.START_TIME ?? r.CREATED), authorId: r.RESPONSIBLE_ID ? String(r.RESPONSIBLE_ID) : r.AUTHOR_ID ? String(r.AUTHOR_ID) : null };
  if (type === TYPE.call) {
    // crm.activity.list does not say whether a call was answered (the telephony statistics do).
    return [{ ...base, kind: 'call', direction, answered: null, summary: `${direction === 'incoming' ? 'входящий' : 'исходящий'} звонок${r.SUBJECT ? `: ${String(r.SUBJECT)}` : ''}` }];
  }
  if (type === TYPE.email) return [{ ...base, kind: 'email', direction, answered: null, summary: 'письмо' }];
  if (String(r.PROVIDER_ID) === 'IMOPENLINES_SESSION') return [{ ...base, kind: 'message', direction: 'incoming', answered: null, summary: 'сообщение в открытой линии' }];
  return [];
}

export async function countDealsInStage(rest: Bitrix24RestClient, entity: DealEntity, funnelId: string, stageId: string, responsibleId: string, cap: number): Promise<number> {
  // One page (50 items) is enough to compare with a threshold up to 50.
  const result = await rest.call<{ items: Row[] }>('crm.item.list', {
    entityTypeId: OWNER_TYPE_ID[entity],
    filter: { stageId, assignedById: Number(responsibleId), ...(entity === 'deal' ? { categoryId: Number(funnelId) } : {}) },
    select: ['id'],
  });
  return Math.min(cap, result.items?.length ?? 0);
}

function iso(value: unknown): string {
  const d = new Date(String(value ?? ''));
  return Number.isNaN(d.getTime()) ? new Date(0).toISOString() : d.toISOString();
}
