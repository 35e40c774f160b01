/**
 * `batch` (restdocs `settings/how-to-call-rest-api/batch.md`): up to 50 `method?query` sub-commands
 * executed in order with `$result[key][field]…` references; always HTTP 200 with
 * `result / result_error / result_total / result_next / result_time` maps (PHP arrays: `[]` when empty).
 * Sub-commands beyond the 50th end with ERROR_BATCH_LENGTH_EXCEEDED; a nested `batch` ends with
 * ERROR_BATCH_METHOD_NOT_ALLOWED; `halt=1` stops at the first failed sub-command.
 */
import * as qs from 'qs';
import type { CallContext, MethodOutput, Params } from './rest-context';
import { RestError, isPlainObject, phpArray, toBool } from './util';

export const BATCH_MAX_LENGTH = 50;

export interface BatchDeps {
  /** Runs one method (throws RestError on failure). */
  dispatch(method: string, params: Params, ctx: CallContext): MethodOutput;
  /** `time` block for a sub-command that ran from `startMs` to `finishMs`. */
  subTime(startMs: number, finishMs: number): Record<string, unknown>;
  now(): number;
}

/** PHP `parse_str`-like parsing of a sub-command's query string. */
export function parseCommand(command: string): { method: string; params: Params } {
  const [rawMethod = '', ...rest] = command.split('?');
  const query = rest.join('?');
  const params = qs.parse(query, { depth: 20, arrayLimit: 1000, parameterLimit: 10_000 }) as Params;
  return { method: rawMethod.trim().replace(/^\/+/, '').toLowerCase(), params };
}

type Maps = Record<'result' | 'result_total' | 'result_next' | 'result_error', Map<string, unknown>>;

const REF = /\$(result_total|result_next|result_error|result)((?:\[[^\][]*\])+)/g;
const FULL_REF = /^\$(result_total|result_next|result_error|result)((?:\[[^\][]*\])+)$/;

function resolveRef(maps: Maps, kind: keyof Maps, path: string): unknown {
  const segments = [...path.matchAll(/\[([^\][]*)\]/g)].map((match) => match[1] ?? '');
  const [key, ...rest] = segments;
  let value: unknown = key === undefined ? undefined : maps[kind].get(key);
  for (const segment of rest) {
    if (Array.isArray(value)) value = value[Number(segment)];
    else if (isPlainObject(value)) value = value[segment];
    else return undefined;
  }
  return value;
}

/** Substitutes `$result[key][…]` references in parsed params (a whole-value reference keeps its type). */
function substitute(value: unknown, maps: Maps): unknown {
  if (typeof value === 'string') {
    const full = FULL_REF.exec(value);
    if (full) {
      const resolved = resolveRef(maps, full[1] as keyof Maps, full[2] ?? '');
      return resolved === undefined ? value : resolved;
    }
    return value.replace(REF, (match, kind: string, path: string) => {
      const resolved = resolveRef(maps, kind as keyof Maps, path);
      return resolved === undefined || typeof resolved === 'object' ? match : String(resolved);
    });
  }
  if (Array.isArray(value)) return value.map((item) => substitute(item, maps));
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, substitute(item, maps)]));
  return value;
}

export function runBatch(params: Params, ctx: CallContext, deps: BatchDeps): MethodOutput {
  const halt = toBool(params.halt);
  const cmd = params.cmd;
  const entries: Array<[string, unknown]> = Array.isArray(cmd)
    ? cmd.map((command, index) => [String(index), command])
    : isPlainObject(cmd)
      ? Object.entries(cmd)
      : [];
  const maps: Maps = { result: new Map(), result_total: new Map(), result_next: new Map(), result_error: new Map() };
  const times = new Map<string, unknown>();

  for (const [index, [key, command]] of entries.entries()) {
    const started = deps.now();
    try {
      if (index >= BATCH_MAX_LENGTH) throw new RestError(400, 'ERROR_BATCH_LENGTH_EXCEEDED', 'Max batch length exceeded');
      const parsed = parseCommand(String(command ?? ''));
      if (parsed.method === 'batch') throw new RestError(405, 'ERROR_BATCH_METHOD_NOT_ALLOWED', 'Method is not allowed for batch usage');
      const output = deps.dispatch(parsed.method, substitute(parsed.params, maps) as Params, { ...ctx, viaBatch: true });
      maps.result.set(key, output.result);
      if (output.total !== undefined) maps.result_total.set(key, output.total);
      if (output.next !== undefined) maps.result_next.set(key, output.next);
      times.set(key, deps.subTime(started, deps.now()));
    } catch (error) {
      const restError = error instanceof RestError ? error : new RestError(500, 'INTERNAL_SERVER_ERROR', String(error));
      maps.result_error.set(key, { error: restError.code, error_description: restError.description });
      if (halt) break;
    }
  }

  return {
    result: {
      result: phpArray(maps.result),
      result_error: phpArray(maps.result_error),
      result_total: phpArray(maps.result_total),
      result_next: phpArray(maps.result_next),
      result_time: phpArray(times),
    },
  };
}
