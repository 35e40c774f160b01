/**
 * apps/inventory-http/openapi.yaml is the contract a 1C programmer implements. The test parses it,
 * checks its shape (every write takes an Idempotency-Key, conflicts carry the holder, every $ref
 * resolves), then drives the adapter against the 1C emulator and validates every request the app
 * sent and every answer the emulator gave against the contract's schemas.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { HttpInventory } from '../../src/inventory/http/http-inventory';
import { InventoryHttpEmulator, ONEC_BASE_PATH } from '../emulators/inventory-http-service';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any
const spec: Json = parse(readFileSync(path.join(__dirname, '../../apps/inventory-http/openapi.yaml'), 'utf8'));

function resolve(ref: string): Json {
  return ref.replace(/^#\//, '').split('/').reduce((node: Json, key) => node?.[key], spec);
}

/** The JSON Schema subset the contract uses: $ref, type (with null), const, enum, pattern, required, properties, additionalProperties, items, oneOf. */
function validate(schema: Json, value: unknown, at = '$'): string[] {
  if (schema.$ref) return validate(resolve(schema.$ref), value, at);
  if (schema.oneOf) {
    const passing = schema.oneOf.filter((s: Json) => validate(s, value, at).length === 0).length;
    return passing === 1 ? [] : [`${at}: matches ${passing} of oneOf`];
  }
  const errors: string[] = [];
  const types: string[] | undefined = schema.type ? [schema.type].flat() : undefined;
  const typeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v);
  if (types && !types.some((t) => t === typeOf(value) || (t === 'number' && typeof value === 'number'))) return [`${at}: expected ${types.join('|')}, got ${typeOf(value)}`];
  if ('const' in schema && value !== schema.const) errors.push(`${at}: expected ${schema.const}`);
  if (schema.enum && !schema.enum.includes(value)) errors.push(`${at}: ${String(value)} not in ${schema.enum.join(',')}`);
  if (schema.pattern && typeof value === 'string' && !new RegExp(schema.pattern).test(value)) errors.push(`${at}: ${value} does not match ${schema.pattern}`);
  if (typeOf(value) === 'object') {
    const obj = value as Record<string, unknown>;
    for (const key of schema.required ?? []) if (!(key in obj)) errors.push(`${at}.${key}: required`);
    for (const [key, v] of Object.entries(obj)) {
      if (schema.properties?.[key]) errors.push(...validate(schema.properties[key], v, `${at}.${key}`));
      else if (schema.additionalProperties === false) errors.push(`${at}.${key}: not allowed`);
    }
  }
  if (typeOf(value) === 'array' && schema.items) (value as unknown[]).forEach((v, i) => errors.push(...validate(schema.items, v, `${at}[${i}]`)));
  return errors;
}

/** The operation a recorded call hit: `/units/u1003/booking` → `/units/{unitId}/booking`. */
function operationOf(method: string, fullPath: string): { op: Json; template: string } {
  const rel = fullPath.slice(ONEC_BASE_PATH.length);
  for (const [template, item] of Object.entries<Json>(spec.paths)) {
    const re = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
    if (re.test(rel) && item[method.toLowerCase()]) return { op: item[method.toLowerCase()], template };
  }
  throw new Error(`${method} ${rel} is not in the contract`);
}

describe('the 1C inventory contract (OpenAPI 3.1)', () => {
  test('is OpenAPI 3.1 with the operations the app uses', () => {
    expect(spec.openapi).toBe('3.1.0');
    const ops = Object.entries<Json>(spec.paths).flatMap(([p, item]) => Object.keys(item).filter((k) => k !== 'parameters').map((m) => `${m.toUpperCase()} ${p}`));
    expect(ops.sort()).toEqual(['DELETE /units/{unitId}/booking', 'GET /changes', 'GET /health', 'GET /units', 'GET /units/{unitId}', 'PATCH /units/{unitId}/booking', 'POST /units/{unitId}/booking', 'POST /units/{unitId}/sale'].sort());
    expect(spec.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(spec.webhooks.unitChanged.post.parameters[0].name).toBe('X-Reglament-Signature');
  });

  test('every write takes an Idempotency-Key and answers a conflict with the holder', () => {
    for (const [p, item] of Object.entries<Json>(spec.paths)) {
      for (const method of ['post', 'patch', 'delete']) {
        const op = item[method];
        if (!op) continue;
        expect({ op: `${method} ${p}`, idempotent: op.parameters.some((x: Json) => x.$ref === '#/components/parameters/IdempotencyKey') }).toEqual({ op: `${method} ${p}`, idempotent: true });
        const conflict = op.responses['409'];
        const schema = conflict.$ref ? resolve(conflict.$ref).content['application/json'].schema : conflict.content['application/json'].schema;
        expect(schema.$ref).toBe('#/components/schemas/UnitConflict');
      }
    }
    expect(resolve('#/components/schemas/UnitConflict').required).toEqual(['code', 'message', 'holder']);
  });

  test('every $ref resolves', () => {
    const refs = JSON.stringify(spec).match(/"\$ref":"[^"]+"/g) ?? [];
    expect(refs.length).toBeGreaterThan(20);
    for (const r of refs) expect({ ref: r, found: resolve(r.slice(8, -1)) !== undefined }).toEqual({ ref: r, found: true });
  });

  test('the adapter and the emulator speak it: every request and answer validates', async () => {
    const onec = await InventoryHttpEmulator.start({ apiKey: 'k' });
    try {
      const inventory = new HttpInventory({ system: 'http', baseUrl: onec.url, apiKey: 'k', project: 'ЖК Северный' });
      const a = { crm: 'bitrix24' as const, id: '759', title: 'Сделка' };
      const b = { crm: 'amocrm' as const, id: '31254877' };
      const until = new Date(Date.now() + 3 * 86_400_000);
      await inventory.health();
      const unit = (await inventory.findUnit('кв. 5-101'))!;
      await inventory.book(unit.id, a, until);
      await inventory.book(unit.id, a, until); // the same write again
      await inventory.book(unit.id, b, until); // conflict
      await inventory.extend(unit.id, a, new Date(until.getTime() + 86_400_000));
      await inventory.release(unit.id, b, 'lost'); // not the holder
      await inventory.markInExecution(unit.id, a);
      await inventory.markSold(unit.id, a);
      const other = (await inventory.findUnit('5-102'))!;
      await inventory.book(other.id, b, until);
      await inventory.release(other.id, b, 'expired', { booking: 'x' });
      await inventory.getUnit(unit.id);
      await inventory.changesSince('0');

      expect(onec.calls.length).toBeGreaterThanOrEqual(14);
      const problems: string[] = [];
      const recorded = onec.calls.map((c) => ({ ...c }));
      for (const call of recorded) {
        const { op, template } = operationOf(call.method, call.path);
        const where = `${call.method} ${template}`;
        const body = op.requestBody?.content['application/json'].schema;
        if (body) problems.push(...validate(body, call.body, `${where} request`));
        if (['POST', 'PATCH', 'DELETE'].includes(call.method) && !call.headers['idempotency-key']) problems.push(`${where}: no Idempotency-Key`);
        const declared = op.responses[String(call.status)];
        if (!declared) {
          problems.push(`${where}: status ${call.status} is not declared`);
          continue;
        }
        const response = declared.$ref ? resolve(declared.$ref) : declared;
        const schema = response.content?.['application/json']?.schema;
        const answered = await replay(onec, call);
        if (schema) problems.push(...validate(schema, answered, `${where} ${call.status}`));
      }
      expect(problems).toEqual([]);
      expect(recorded.map((c) => c.status)).toEqual(expect.arrayContaining([200, 409]));
    } finally {
      await onec.stop();
    }
  });
});

/** The emulator keeps bodies it answered writes with (idempotency); reads are asked again. */
async function replay(onec: InventoryHttpEmulator, call: { method: string; path: string; query: Record<string, unknown>; headers: Record<string, string | undefined>; body: unknown }): Promise<unknown> {
  const qs = new URLSearchParams(call.query as Record<string, string>).toString();
  const url = `${onec.url.slice(0, -ONEC_BASE_PATH.length)}${call.path}${qs ? `?${qs}` : ''}`;
  const headers: Record<string, string> = { Authorization: call.headers.authorization ?? '' };
  if (call.headers['idempotency-key']) headers['Idempotency-Key'] = call.headers['idempotency-key'];
  if (call.body && Object.keys(call.body as object).length) headers['Content-Type'] = 'application/json';
  const res = await fetch(url, { method: call.method, headers, body: headers['Content-Type'] ? JSON.stringify(call.body) : undefined });
  return res.json();
}
