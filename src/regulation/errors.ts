/**
 * Regulation errors: each one points at the exact place (file and path) and says what is wrong
 * in words an integrator can act on, e.g.
 * `presets/amocrm-primary-market.json › stages.meeting_held.requiredFields[0]: field «Дата встречи»
 * does not exist in the CRM (known fields: …)`.
 *
 * They are read by the integrator or CRM admin who sets the app up, so they are in English and
 * quote the CRM's own (Russian) names.
 */
import { z } from 'zod';

export const RegulationErrorCodeSchema = z.enum([
  /** The file is missing or not JSON. */
  'file_unreadable',
  /** The data does not match the schema (types, unknown keys, missing properties). */
  'invalid_shape',
  /** The preset key differs from the file name. */
  'key_mismatch',
  /** A stage key, field key or selector that the preset does not define. */
  'unknown_reference',
  /** A rule that cannot be meaningful (e.g. `@forward` in `from`, a stage before itself). */
  'invalid_rule',
  /** A unique role given to two stages. */
  'duplicate_role',
  /** Two stages (or two fields) of a preset share a name alias. */
  'duplicate_name',
  /** A message template uses a placeholder the template does not have. */
  'unknown_placeholder',
  /** No funnel of the portal matches the preset. */
  'funnel_not_found',
  'funnel_ambiguous',
  /** The funnel is a lead funnel and the preset a deal one, or the other way round. */
  'entity_mismatch',
  /** A preset stage has no counterpart in the funnel. */
  'stage_not_found',
  /** A name alias matches several stages of the funnel. */
  'stage_ambiguous',
  /** Two preset stages bound to the same CRM stage. */
  'stage_bound_twice',
  /** A stage whose role means won/lost bound to an in-progress stage, or the other way round. */
  'stage_semantics_mismatch',
  /** A stage the regulation cannot do without was left unmapped. */
  'stage_required',
  /** A required or reason field has no counterpart among the CRM's fields. */
  'field_not_found',
  'field_ambiguous',
]);
export type RegulationErrorCode = z.infer<typeof RegulationErrorCodeSchema>;

export const RegulationErrorSchema = z.strictObject({
  code: RegulationErrorCodeSchema,
  /** The document at fault: `presets/<key>.json`, `overrides`, or `crm` (the portal's data). */
  file: z.string(),
  /** The place inside it, e.g. `stages.meeting_held.requiredFields[0]`; empty for the whole document. */
  path: z.string(),
  message: z.string(),
});
export type RegulationError = z.infer<typeof RegulationErrorSchema>;

/** `file › path: message`, one line. */
export function formatRegulationError(error: RegulationError): string {
  const where = error.path === '' ? error.file : `${error.file} › ${error.path}`;
  return `${where}: ${error.message}`;
}

/** All errors, one per line. */
export function formatRegulationErrors(errors: readonly RegulationError[]): string {
  return errors.map(formatRegulationError).join('\n');
}

/** Thrown by the loaders that cannot return a result (`loadPreset`); carries every error. */
export class RegulationValidationError extends Error {
  readonly errors: readonly RegulationError[];

  constructor(errors: readonly RegulationError[]) {
    super(`Regulation is invalid:\n${formatRegulationErrors(errors)}`);
    this.name = 'RegulationValidationError';
    this.errors = errors;
  }
}

type PathSegment = PropertyKey;

/** `['stages', 'meeting_held', 'requiredFields', 0]` → `stages.meeting_held.requiredFields[0]`. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (typeof segment === 'string' && /^[A-Za-z_$][\w$]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}

export function regulationError(
  code: RegulationErrorCode,
  file: string,
  path: readonly PathSegment[] | string,
  message: string,
): RegulationError {
  return { code, file, path: typeof path === 'string' ? path : formatPath(path), message };
}

/** Turns zod issues into regulation errors with readable messages. */
export function fromZodError(error: z.ZodError, file: string): RegulationError[] {
  return error.issues.flatMap((issue) => fromZodIssue(issue, file, []));
}

function fromZodIssue(issue: z.core.$ZodIssue, file: string, prefix: readonly PathSegment[]): RegulationError[] {
  const path = [...prefix, ...issue.path];
  switch (issue.code) {
    case 'unrecognized_keys': {
      return issue.keys.map((key) =>
        regulationError('invalid_shape', file, [...path, key], `unknown property «${key}» (a typo?)`),
      );
    }
    case 'invalid_key': {
      const inner = issue.issues[0];
      const key = path[path.length - 1];
      return [
        regulationError(
          'invalid_shape',
          file,
          path,
          `invalid key «${String(key)}»: ${inner ? inner.message : issue.message}`,
        ),
      ];
    }
    case 'invalid_union': {
      // A custom union message is clearer than any branch's; otherwise report the branch that
      // got furthest (the deepest path), which is the one the author meant.
      if (issue.message !== 'Invalid input' || issue.errors.length === 0) {
        return [regulationError('invalid_shape', file, path, issue.message)];
      }
      const branches = issue.errors.map((branch) => branch.flatMap((inner) => fromZodIssue(inner, file, path)));
      const depth = (branch: RegulationError[]): number => Math.max(0, ...branch.map((e) => e.path.length));
      const best = branches.reduce((a, b) => (depth(b) > depth(a) ? b : a));
      return best;
    }
    case 'invalid_type': {
      if (issue.message.endsWith('received undefined')) {
        return [regulationError('invalid_shape', file, path, `required property is missing (expected ${issue.expected})`)];
      }
      return [regulationError('invalid_shape', file, path, issue.message)];
    }
    default:
      return [regulationError('invalid_shape', file, path, issue.message)];
  }
}
