import express, { type RequestHandler } from 'express';
import { parse } from 'qs';

/**
 * Both CRMs POST `application/x-www-form-urlencoded` with PHP-style bracket keys
 * (`data[FIELDS][ID]`, `leads[status][0][old_status_id]`). We keep the raw text and parse it
 * with qs (arrays up to 1000 items: one amoCRM POST can carry many events). No parameter count
 * limit: the 2 MB body limit bounds the work, and a count cut-off silently dropped the tail of a
 * big amoCRM POST (1,000 `add_lead` events are ~13,000 parameters), `account` included, so the
 * whole POST was refused and its events lost.
 */
export const formText: RequestHandler = express.text({ type: 'application/x-www-form-urlencoded', limit: '2mb' });

export function parseForm(raw: unknown): Record<string, unknown> {
  if (typeof raw !== 'string') return {};
  return parse(raw, { depth: 10, arrayLimit: 1000, parameterLimit: Infinity }) as Record<string, unknown>;
}

/** "field: problem; field: problem" from a zod error, for 400 answers. */
export function describeIssues(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>): string {
  return issues.map((i) => `${i.path.map(String).join('.') || 'body'}: ${i.message}`).join('; ');
}
