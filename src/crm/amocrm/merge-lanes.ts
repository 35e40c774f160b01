import type { AmoRequest } from './rest-client';

/**
 * The amoCRM requests concurrent jobs may share, one lane each: how several callers' elements
 * travel in one list request, how one caller's travels alone (the same wire as without merging),
 * and how each caller's part is picked from the answer.
 */
export type LaneName = 'read-leads' | 'read-contacts' | 'patch-leads' | 'patch-contacts' | 'add-lead-notes' | 'add-tasks' | 'link-leads';

/** One caller's element: the entity it is about (for ordering) and its JSON. */
export interface LaneItem {
  /** `leads:15`, `contacts:7`: items about one entity never share a request nor overtake each other. */
  entity: string;
  /** The entity's id (reads) or the element's JSON without `request_id` (writes). */
  id: number;
  element: Record<string, unknown>;
}

export interface HttpCall extends AmoRequest {
  method: 'GET' | 'PATCH' | 'POST';
  path: string;
}

export interface Lane {
  /** The most elements one request carries. */
  max: number;
  /** A request several callers share; element i carries `request_id` "i". */
  many(items: readonly LaneItem[]): HttpCall;
  /** Each caller's part of the list answer, in the order of `items` (null: not in the answer). */
  pick(answer: unknown, items: readonly LaneItem[]): unknown[];
  /** The request of a caller with no company: as the adapter sent it before merging. */
  one(item: LaneItem): HttpCall;
  /** The caller's part of the single answer. */
  pickOne(answer: unknown): unknown;
}

/**
 * Ids per read. A page holds up to 250, but 250 ids make a ~8 KB URL, the size of common front
 * ends' request-line buffers; 100 keep it near 3 KB.
 */
export const MAX_READ_IDS = 100;
/** amoCRM takes up to 250 elements in one write (`Too many entities in request` above). */
export const MAX_WRITE_ELEMENTS = 250;

const embedded = (answer: unknown, key: string): Array<Record<string, unknown>> =>
  ((answer as { _embedded?: Record<string, unknown> } | null)?._embedded?.[key] as Array<Record<string, unknown>> | undefined) ?? [];

/** A list read by `filter[id][]`; ids missing from the answer (deleted, or none: 204) come back null. */
function readLane(entity: 'leads' | 'contacts', query: Record<string, string>): Lane {
  return {
    max: MAX_READ_IDS,
    many: (items) => ({ method: 'GET', path: `/api/v4/${entity}`, query: { ...query, 'filter[id]': items.map((i) => i.id), limit: items.length } }),
    pick: (answer, items) => {
      const byId = new Map(embedded(answer, entity).map((e) => [Number(e.id), e]));
      return items.map((i) => byId.get(i.id) ?? null);
    },
    one: (item) => ({ method: 'GET', path: `/api/v4/${entity}/${item.id}`, query }),
    pickOne: (answer) => answer ?? null,
  };
}

/** By the `request_id` each element was sent with (amoCRM returns it unchanged). */
const byRequestId = (key: string) => (answer: unknown, items: readonly LaneItem[]) => {
  const byRequest = new Map(embedded(answer, key).map((e) => [String(e.request_id), e]));
  return items.map((_i, n) => byRequest.get(String(n)) ?? null);
};

/** A list write; element n goes with `request_id` "n", the index amoCRM also names it by when none is given. */
function writeLane(method: 'PATCH' | 'POST', path: string, pick: Lane['pick'], one: (item: LaneItem) => HttpCall, pickOne: (answer: unknown) => unknown, tagged = true): Lane {
  return {
    max: MAX_WRITE_ELEMENTS,
    many: (items) => ({ method, path, body: items.map((i, n) => (tagged ? { ...i.element, request_id: String(n) } : i.element)) }),
    pick,
    one,
    pickOne,
  };
}

/** Link answers carry no `request_id`: each link is found by its two ends. */
const linkOf = (answer: unknown, items: readonly LaneItem[]) =>
  items.map((i) => embedded(answer, 'links').find((l) => Number(l.entity_id) === i.id && Number(l.to_entity_id) === Number(i.element.to_entity_id)) ?? null);

const withoutId = ({ id: _id, ...rest }: Record<string, unknown>) => rest;
const withoutEntity = ({ entity_id: _e, ...rest }: Record<string, unknown>) => rest;
const first = (key: string) => (answer: unknown) => embedded(answer, key)[0] ?? null;

export const LANES: Record<LaneName, Lane> = {
  // The adapter always reads leads with their contacts: one lane, one query.
  'read-leads': readLane('leads', { with: 'contacts' }),
  // Contacts always come with their leads: the duplicate catcher judges a candidate by them, and a
  // deal's own contact read with them is the same request (one lane, so concurrent reads share it).
  'read-contacts': readLane('contacts', { with: 'leads' }),
  'patch-leads': writeLane('PATCH', '/api/v4/leads', byRequestId('leads'), (i) => ({ method: 'PATCH', path: `/api/v4/leads/${i.id}`, body: withoutId(i.element) }), (a) => a),
  'patch-contacts': writeLane('PATCH', '/api/v4/contacts', byRequestId('contacts'), (i) => ({ method: 'PATCH', path: `/api/v4/contacts/${i.id}`, body: withoutId(i.element) }), (a) => a),
  'add-lead-notes': writeLane('POST', '/api/v4/leads/notes', byRequestId('notes'), (i) => ({ method: 'POST', path: `/api/v4/leads/${i.id}/notes`, body: [withoutEntity(i.element)] }), first('notes')),
  'add-tasks': writeLane('POST', '/api/v4/tasks', byRequestId('tasks'), (i) => ({ method: 'POST', path: '/api/v4/tasks', body: [i.element] }), first('tasks')),
  'link-leads': writeLane('POST', '/api/v4/leads/link', linkOf, (i) => ({ method: 'POST', path: `/api/v4/leads/${i.id}/link`, body: [withoutEntity(i.element)] }), first('links'), false),
};
