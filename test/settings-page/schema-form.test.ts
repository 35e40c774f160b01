import { cellKindOf, choicesOf, kindOf, newItem, variantsOf, type JsonSchema } from '../../pages/settings/src/schema-form';
import { robots } from '../../src/robots';
import { settingsJsonSchema } from '../../src/settings-page/settings-view';

/** The settings page picks an editor per setting from the JSON Schema of the robots' zod schemas. */
const root = settingsJsonSchema(robots) as JsonSchema;
const at = (path: string): JsonSchema => path.split('.').reduce<JsonSchema>((s, key) => s.properties![key]!, root);

describe('which editor a setting gets on the page', () => {
  it.each([
    ['vacations (a list of { userId, from, to }) are a table', 'takeoverTimer.vacations', 'table'],
    ['managers (user id → { weight, schedule }) are rows of key + cells', 'takeoverTimer.managers', 'record'],
    ['rating overrides (user id → factor) are rows of key + one value', 'takeoverTimer.rating.overrides', 'record'],
    ['per-project booking durations (project → { duration, paidDuration }) are rows', 'bookingReleaser.byProject', 'record'],
    ['a list of user ids stays a list', 'headsOfSales', 'list'],
    ['the inventory connection (one of several systems) is a choice of system, then its fields', 'unitStatusSync.inventory', 'variants'],
    ['regulations (objects holding a free-form record) stay JSON', 'stageGuard.regulations', 'json'],
    ['a boolean-or-"auto" is a choice', 'duplicateCatcher.bitrix24ContactsWithoutLeads', 'choice'],
    ['the roster (fixed properties) is a group', 'takeoverTimer.roster', 'group'],
  ])('%s', (_name, path, kind) => {
    expect(kindOf(at(path))).toBe(kind);
  });

  it.each<[string, string, JsonSchema]>([
    ['a list of objects whose cells are all primitives', 'table', { type: 'array', items: { type: 'object', properties: { a: { type: 'string' }, b: { type: 'number' } } } }],
    ['a list of objects with a nested object cell', 'json', { type: 'array', items: { type: 'object', properties: { a: { type: 'object', properties: {} } } } }],
    ['a list of objects with free extra keys', 'json', { type: 'array', items: { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: {} } }],
    ['a list of empty objects', 'json', { type: 'array', items: { type: 'object', properties: {} } }],
    ['a record of anything', 'json', { type: 'object', additionalProperties: {} }],
    ['a record of lists', 'json', { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } } }],
    ['a record of numbers', 'record', { type: 'object', additionalProperties: { type: 'number' } }],
    ['a record of closed objects', 'record', { type: 'object', additionalProperties: { type: 'object', properties: { d: { type: 'string' } }, additionalProperties: false } }],
    ['an object with fixed properties and extra keys', 'json', { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: { type: 'number' } }],
  ])('generic shapes: %s → %s', (_name, kind, schema) => {
    expect(kindOf(schema)).toBe(kind);
  });
});

describe('what a row offers', () => {
  it('CRM user ids are picked by name: the vacation’s userId cell and the managers’ key are marked', () => {
    expect(cellKindOf(at('takeoverTimer.vacations').items!.properties!.userId)).toBe('user');
    expect(at('takeoverTimer.managers').propertyNames?.['x-picker']).toBe('crm-user');
    expect(at('takeoverTimer.rating.overrides').propertyNames?.['x-picker']).toBe('crm-user');
    expect(at('bookingReleaser.byProject').propertyNames?.['x-picker']).toBeUndefined();
  });

  it('a new row starts from the schema’s defaults: a manager with weight 1, an empty vacation', () => {
    expect(newItem(at('takeoverTimer.managers').additionalProperties as JsonSchema)).toEqual({ weight: 1 });
    expect(newItem(at('takeoverTimer.vacations').items!)).toEqual({});
    expect(newItem({ type: 'number', minimum: 2, maximum: 10 })).toBe(2);
  });
});

describe('a union of objects and a choice of constants get their own editors', () => {
  it('the inventory connection is a choice of system, then that system’s fields', () => {
    expect(kindOf(at('unitStatusSync.inventory'))).toBe('variants');
    const union = variantsOf(at('unitStatusSync.inventory'))!;
    expect(union.key).toBe('system');
    expect(union.variants.map((v) => v.value)).toEqual(['profitbase', 'http']);
    expect(Object.keys(union.variants[0]!.schema.properties!)).toEqual(expect.arrayContaining(['baseUrl', 'apiKey', 'houseId']));
    expect(Object.keys(union.variants[0]!.schema.properties!)).not.toContain('system');
  });

  it.each<[string, JsonSchema, unknown[] | null]>([
    ['yes, no or "auto"', { anyOf: [{ type: 'boolean' }, { type: 'string', const: 'auto' }] }, [true, false, 'auto']],
    ['two constants', { anyOf: [{ const: 'a' }, { const: 'b' }] }, ['a', 'b']],
    ['a free string among them', { anyOf: [{ type: 'boolean' }, { type: 'string' }] }, null],
  ])('%s', (_case, schema, values) => {
    expect(choicesOf(schema)).toEqual(values);
    expect(kindOf(schema)).toBe(values ? 'choice' : 'json');
  });
});
