/**
 * `npm run regulation -- <command>`: the integrator's tool for regulations.
 *   list                                        shipped presets
 *   check  <installationId> <preset> [overrides.json]   bind against the live portal, print the result, save nothing
 *   apply  <installationId> <preset> [overrides.json] … binds every given preset and saves them only if all bind
 * Uses the same environment as the app (.env.example).
 */
import { readFileSync } from 'node:fs';
import { bindForInstallation, configureRegulations } from '../src/installations/configure-regulations';
import { listPresets } from '../src/regulation';
import { OPERATOR_AT_CLI } from '../src/settings/settings-history';
import { describeBindingErrors, regulationSpecSchema } from '../src/regulation/installation-bindings';
import { installationIdArg, runCli, withServices } from './cli-services';

runCli(async () => {
  const [command, rawId, ...rest] = process.argv.slice(2);
  if (command === 'list') {
    for (const p of listPresets()) console.log(`${p.name.padEnd(28)} ${p.crm}/${p.entity}  ${p.title}`);
    return;
  }
  if ((command !== 'check' && command !== 'apply') || !rawId || !rest.length) {
    console.error('usage: npm run regulation -- list | check <installationId> <preset> [overrides.json] | apply <installationId> <preset> [overrides.json] …');
    process.exit(2);
  }
  const installationId = installationIdArg(rawId);
  const specs = pairs(rest).map(([preset, file]) => ({ preset, overrides: file ? JSON.parse(readFileSync(file, 'utf8')) : {} }));
  await withServices(async (services) => {
    if (command === 'apply') {
      const result = await configureRegulations(services, installationId, specs, OPERATOR_AT_CLI);
      console.log(result.ok ? `saved ${specs.length} regulation(s) for ${installationId}` : `refused, nothing saved:\n${result.report}`);
      process.exitCode = result.ok ? 0 : 1;
      return;
    }
    for (const binding of await bindForInstallation(services, installationId, specs.map((s) => regulationSpecSchema.parse(s)))) {
      const spec = binding.spec;
      if (binding.ok) {
        console.log(`${spec.preset}: binds to «${binding.regulation.funnel.name}»`);
        for (const s of binding.regulation.stages) console.log(`  ${s.key.padEnd(24)} → ${s.stageId} «${s.name}»`);
        for (const w of binding.warnings) console.log(`  warning: ${w}`);
      } else {
        console.log(`${spec.preset}: refused\n${describeBindingErrors(binding)}`);
        process.exitCode = 1;
      }
    }
  });
});

/** "preset [file.json] preset [file.json]…" → pairs. */
function pairs(args: string[]): Array<[string, string | undefined]> {
  const out: Array<[string, string | undefined]> = [];
  for (let i = 0; i < args.length; i++) {
    const next = args[i + 1];
    if (next?.endsWith('.json')) out.push([args[i]!, next]), i++;
    else out.push([args[i]!, undefined]);
  }
  return out;
}
