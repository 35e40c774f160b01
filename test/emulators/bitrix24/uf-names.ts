/**
 * User-field name conversion between the original `UF_CRM_…` names (legacy `crm.deal.*`, and
 * `crm.item.*` with `useOriginalUfNames=Y`) and the camelCase names of `crm.item.*`.
 *
 * Rules from restdocs `api-reference/crm/universal/index.md` ("Field Naming Conventions"):
 * - regular conversion when only letters, or only digits, follow `UF_CRM_` and the object number:
 *   `UF_CRM_3_DIGIT` → `ufCrm3Digit`, `UF_CRM_3_1747309727` → `ufCrm3_1747309727`, `UF_CRM_UNIT` → `ufCrmUnit`;
 * - simplified conversion otherwise (mixed letters+digits, or a bare number without an object number):
 *   the prefix `UF_CRM_` becomes `ufCrm_` and the rest is kept:
 *   `UF_CRM_3_DIGIT10` → `ufCrm_3_DIGIT10`, `UF_CRM_1747309879` → `ufCrm_1747309879`.
 */

const capitalize = (word: string): string => word.charAt(0) + word.slice(1).toLowerCase();

export function ufToCamel(original: string): string {
  const upper = original.toUpperCase();
  if (!upper.startsWith('UF_CRM_')) return original;
  const rest = upper.slice('UF_CRM_'.length);
  const letters = /^(?:(\d+)_)?([A-Z]+(?:_[A-Z]+)*)$/.exec(rest);
  if (letters) {
    const objectNumber = letters[1] ?? '';
    const words = (letters[2] ?? '').split('_').map(capitalize).join('');
    return `ufCrm${objectNumber}${words}`;
  }
  const digits = /^(\d+)_(\d+(?:_\d+)*)$/.exec(rest);
  if (digits) return `ufCrm${digits[1] ?? ''}_${digits[2] ?? ''}`;
  return `ufCrm_${rest}`;
}

export type UfNaming = 'camel' | 'original';

/** Resolves a client-given field name to a known original UF name (`null`: not a known user field). */
export function resolveUfName(name: string, knownOriginals: Iterable<string>, naming: UfNaming): string | null {
  for (const original of knownOriginals) {
    if (naming === 'original' ? name.toUpperCase() === original : ufToCamel(original) === name) return original;
  }
  return null;
}

export const ufOutputName = (original: string, naming: UfNaming): string =>
  naming === 'original' ? original : ufToCamel(original);
