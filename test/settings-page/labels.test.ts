import { labelOf } from '../../pages/settings/src/i18n';
import type { JsonSchema } from '../../pages/settings/src/schema-form';
import { robots } from '../../src/robots';
import { settingsJsonSchema } from '../../src/settings-page/settings-view';

/** What the page would show for a setting nobody named: its key made readable (English). */
const readableKey = (key: string) => key.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());

/** Every setting the page shows as a field, as dotted paths (robot sections are titled elsewhere; regulations have their editor). */
function shownSettings(schema: JsonSchema, path: string[] = []): string[] {
  return Object.entries(schema.properties ?? {}).flatMap(([key, child]) => {
    const here = [...path, key];
    if (here.join('.') === 'stageGuard.regulations') return [];
    const nested = [child, child.items, typeof child.additionalProperties === 'object' ? (child.additionalProperties as JsonSchema) : undefined, ...(child.oneOf ?? []), ...(child.anyOf ?? [])].filter((s): s is JsonSchema => !!s);
    const isSection = !path.length && robots.some((r) => r.name === key);
    return [...(isSection ? [] : [here.join('.')]), ...nested.flatMap((s) => shownSettings(s, here))];
  });
}

describe('the settings page names every setting in Russian (and English)', () => {
  const paths = [...new Set(shownSettings(settingsJsonSchema(robots) as JsonSchema))];
  it.each(paths)('%s has a label', (path) => {
    const key = path.split('.').at(-1)!;
    expect(labelOf('ru', path)).not.toBe(readableKey(key));
    expect(labelOf('en', path)).toMatch(/\S/);
  });
});
