import { fail } from '../cli-services';

/** `--name value` and `--flag` options around positional arguments; anything unknown is refused with the usage. */
export function parseOptions(args: string[], valued: string[], booleans: string[], usage: string) {
  const positional: string[] = [];
  const flags: Record<string, string | undefined> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const name = a.replace(/^--/, '');
    if (a.startsWith('--') && valued.includes(name)) flags[name] = args[++i] ?? fail(`${a} needs a value`, 2);
    else if (a.startsWith('--') && booleans.includes(name)) flags[name] = 'true';
    else if (a.startsWith('--')) fail(`unknown option ${a}\nusage: npm run report -- ${usage}`, 2);
    else positional.push(a);
  }
  return { positional, flags };
}
