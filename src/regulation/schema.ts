/**
 * The regulation model ("регламент"), as zod schemas. Every TS type of the regulation is
 * derived from these schemas with `z.infer`, never written twice.
 *
 * Three layers:
 * - **Preset** (`config/presets/*.json`): a funnel's regulation written against stage *names*
 *   and field *names*, CRM-neutral, portable between portals. See `config/regulation.schema.md`.
 * - **Overrides**: what one installation adds: stage key → real stage id, field key → real field
 *   code, the funnel id, robot settings (exempt users, heads of sales…), message texts.
 * - **BoundRegulation**: a preset bound to one portal's funnel and fields (`bindRegulation`).
 *   Only a bound regulation is ever evaluated; it is plain JSON, so it can be stored and
 *   re-validated with `BoundRegulationSchema`.
 */
export * from './regulation-basics';
export * from './preset-schema';
export * from './bound-schema';
export * from './move-schema';
