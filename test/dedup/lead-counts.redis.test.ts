import { operatorCommand } from '../helpers/operator-command';
import { countLeads, recordLeadFact, type LeadFact } from '../../src/dedup/lead-facts';
import { RedisInstallationState } from '../../src/installations/installation-state';
import { documentedBitrix24Installation, someTokens } from '../helpers/fixtures';
import { createTestServices } from '../helpers/test-services';

/** Seed 004: 100 "qualified" leads for 150,000 ₽, of which 40 were repeats — 2,500 ₽ per genuine lead, not 1,500. */
function seed004Month(): LeadFact[] {
  const classes: Array<LeadFact['class']> = [
    ...Array(20).fill('new_contact_of_active_client'),
    ...Array(10).fill('existing_buyer'),
    ...Array(6).fill('agent'),
    ...Array(4).fill('double_submission'),
    ...Array(60).fill(null),
  ];
  return classes.map((cls, i) => ({ entity: 'lead', id: String(1000 + i), source: 'WEB', class: cls, createdAt: `2026-11-${String(1 + (i % 28)).padStart(2, '0')}T10:00:00.000Z` }));
}

describe('honest lead counts', () => {
  it('100 leads, 40 repeats, 150,000 ₽: 2,500 ₽ per genuine lead (1,500 ₽ per lead as the ad report shows)', () => {
    const { total, sources } = countLeads(seed004Month(), { WEB: 150_000 });
    expect(total).toMatchObject({ leads: 100, genuine: 60, costPerLead: 1500, costPerGenuineLead: 2500 });
    expect(total.repeats).toEqual({ agent: 6, new_contact_of_active_client: 20, existing_buyer: 10, double_submission: 4 });
    expect(sources).toHaveLength(1);
  });

  it('a source with a budget and no leads is shown with no cost per lead', () => {
    const { sources } = countLeads([], { AVITO: 30_000 });
    expect(sources).toEqual([expect.objectContaining({ source: 'AVITO', leads: 0, costPerGenuineLead: null })]);
  });

  describe('npm run report -- leads', () => {
    let services: Awaited<ReturnType<typeof createTestServices>>;
    const installation = documentedBitrix24Installation();

    beforeAll(async () => {
      services = await createTestServices();
      await services.store.save(installation, someTokens());
      const state = new RedisInstallationState(services.redis, services.prefix, installation.id);
      for (const fact of seed004Month()) await recordLeadFact(state, fact);
      // A re-judged lead is one lead, not two; a lead of another month is not counted.
      await recordLeadFact(state, { ...seed004Month()[99]!, class: null });
      await recordLeadFact(state, { entity: 'lead', id: '5000', source: 'WEB', class: null, createdAt: '2026-10-31T20:00:00.000Z' });
    });
    afterAll(() => services.cleanup());

    const report = (...args: string[]) => operatorCommand(services.prefix, 'report.ts', ...args);

    it('prints per source and in total; --json for machines', async () => {
      const json = await report('leads', installation.id, '--month', '2026-11', '--budget', 'WEB=150000', '--json');
      expect(json.code).toBe(0);
      expect(JSON.parse(json.stdout).total).toMatchObject({ leads: 100, genuine: 60, costPerGenuineLead: 2500 });
      const table = await report('leads', installation.id, '--month', '2026-11', '--budget', 'WEB=150000');
      expect(table.stdout).toMatch(/WEB\s+100\s+6\s+20\s+10\s+4\s+60\s+150\s000 ₽\s+1\s500 ₽\s+2\s500 ₽/);
    }, 30_000);

    it('bad arguments exit 2 with the usage', async () => {
      const badBudget = await report('leads', installation.id, '--month', '2026-11', '--budget', 'WEB');
      expect(badBudget.code).toBe(2);
      expect(badBudget.stderr).toContain('source=rubles');
      const unknown = await report('nonsense');
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain('leads <installationId>');
    }, 30_000);
  });
});
