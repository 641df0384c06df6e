/**
 * Shell completion: what `msnp-probe --get-yargs-completions WORD...` answers for the word being
 * typed (the last one). yargs' own completer knows only the top-level options; this one knows the
 * subcommands, each one's options and the values of options that take a known set.
 */
import { FAULT_MODES } from '../emulator/faults.js';
import { ESCARGOT_ERAS, PROFILE_NAMES } from '../emulator/profiles.js';
import { FORMAT_NAMES } from '../report/formats/registry.js';
import { COMMANDS, commandOptions, firstPositional, type CommandName } from './parser.js';

/** Values of options whose values are a known set, beyond those yargs lists as `choices`. */
const VALUES: Record<string, () => readonly string[]> = {
  profile: () => [...PROFILE_NAMES, ...ESCARGOT_ERAS.map((era) => `escargot@${era.from}`)],
  output: () => FORMAT_NAMES,
  fault: () => FAULT_MODES,
};

/** The long name an option word stands for (`-o` → output), or null when the command has no such option. */
function optionName(word: string, options: ReturnType<typeof commandOptions>): string | null {
  const name = word.replace(/^--?/, '');
  if (options.names.includes(name) && name.length > 1) return name;
  for (const [long, aliases] of Object.entries(options.aliases)) if (aliases.includes(name)) return long;
  return null;
}

/**
 * The completions of the last of `words` (the command line after the program name). An empty list
 * lets the shell complete file names, which is what a FILE or HOST argument wants.
 */
export function completions(words: readonly string[]): string[] {
  const current = words[words.length - 1] ?? '';
  const before = words.slice(0, -1);
  const first = firstPositional(before, commandOptions(null).booleans);
  const command = (COMMANDS as readonly string[]).includes(first ?? '') ? (first as CommandName) : null;
  const options = commandOptions(command);
  const previous = before[before.length - 1];
  const start = (list: readonly string[]): string[] => list.filter((c) => c.startsWith(current));
  if (previous?.startsWith('-') && !previous.includes('=')) {
    const name = optionName(previous, options);
    if (name !== null && !options.booleans.includes(name)) {
      return start(options.choices[name] ?? VALUES[name]?.() ?? []);
    }
  }
  const flags = options.names.filter((n) => n.length > 1).map((n) => `--${n}`);
  if (current.startsWith('-')) return start(flags);
  if (command === null && first === undefined) return start([...COMMANDS, ...flags]);
  // A probe's HOST, badge's HOST or merge's FILE: the shell's own completion does better.
  if (command === null || command === 'badge' || command === 'merge') return [];
  return start(flags);
}
