/**
 * What a manager types into the deal's unit field, reduced to the unit number the inventory
 * keeps: «кв. 5-101» → «5-101», «№ 154» → «154», «Квартира 12» → «12».
 */
export function normalizeUnitNumber(text: string): string {
  return text
    .trim()
    .toLowerCase()
    .replace(/^(квартира|помещение|кв\.?|пом\.?|лот|№|#)\s*/u, '')
    .replace(/^№\s*/u, '')
    .replace(/\s+/g, '');
}
