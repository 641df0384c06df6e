/**
 * Did-you-mean for the command line: a mistyped subcommand would otherwise be taken for a host
 * name and sent to DNS, and a mistyped option would only be called unknown. Pure functions.
 */

/** Optimal string alignment distance: Levenshtein plus swapping two neighbours (`dmeo` → `demo`) as one edit. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    const row = d[i] as number[];
    const above = d[i - 1] as number[];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min((above[j] as number) + 1, (row[j - 1] as number) + 1, (above[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, ((d[i - 2] as number[])[j - 2] as number) + 1);
      }
      row[j] = best;
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

/**
 * The candidate `word` most likely meant, or null. Close means one edit for words of up to four
 * letters and two for longer ones (a third of the word at most, so short words do not match everything),
 * or `word` being the start (three letters or more) of exactly one candidate. Case is ignored.
 */
export function closest(word: string, candidates: readonly string[]): string | null {
  const w = word.toLowerCase();
  if (w === '') return null;
  const allowed = w.length <= 4 ? 1 : 2;
  let best: string | null = null;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = editDistance(w, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best !== null && bestDistance <= allowed) return best;
  const prefixed = w.length >= 3 ? candidates.filter((c) => c.toLowerCase().startsWith(w)) : [];
  return prefixed.length === 1 ? (prefixed[0] as string) : null;
}

/**
 * The subcommand a first positional most likely means, or null when it reads as a target. Anything
 * with a dot, colon, slash, bracket or digit is an address, a name with a domain, a block or a URL,
 * and is left alone: a single-label host name close to a command name is rare, and can still be
 * probed as `NAME.` (a trailing dot, the root) or with `--host NAME`.
 */
export function mistypedCommand(positional: string, commands: readonly string[]): string | null {
  if (!/^[A-Za-z-]+$/.test(positional)) return null;
  if (commands.includes(positional)) return null;
  return closest(positional, commands);
}

/** The one-line usage message for a mistyped subcommand. */
export function mistypedCommandMessage(positional: string, command: string): string {
  return (
    `unknown command '${positional}': did you mean ${command}? ` +
    `(to probe a host of that name, write '${positional}.' or --host ${positional})`
  );
}

const OCTET = /^(?:\*|\d{1,3}(?:-\d{1,3})?)$/;

/**
 * nmap's IPv4 spellings (`10.0.0.1-9`, `10.0.0.*`, `10.0-3.0.1`), which are not ours: a message
 * naming the spelling that is (`10.0.0.1-10.0.0.9`, `10.0.0.0/24`), or null for anything else.
 * Without it `10.0.0.1-9` reads as a range ending at 0.0.0.9, and `10.0.0.*` as a bad host name.
 */
export function nmapRangeMessage(text: string): string | null {
  const m = /^(.*?)(?::(\d{1,5}))?$/.exec(text.trim());
  const address = m?.[1] ?? '';
  const port = m?.[2] === undefined ? '' : `:${m[2]}`;
  const octets = address.split('.');
  if (octets.length !== 4 || !octets.every((o) => OCTET.test(o))) return null;
  const ranged = octets.map((o) => o === '*' || o.includes('-'));
  const first = ranged.indexOf(true);
  if (first < 0) return null;
  const bounds = octets.map((o) => (o === '*' ? [0, 255] : o.split('-').map(Number)));
  if (bounds.some((b) => b.some((n) => (n as number) > 255))) return null;
  const ours = oursFor(octets, bounds as number[][], first, port);
  const hint = ours ?? 'a range of whole addresses (10.0.0.1-10.0.0.9) or a CIDR block (10.0.0.0/24), one per argument';
  return `target '${text}': nmap-style ranges are not understood; write ${hint}`;
}

/** Our spelling of an nmap range, when one argument can say it: the ranged octets are the last ones. */
function oursFor(octets: string[], bounds: number[][], first: number, port: string): string | null {
  const rest = octets.slice(first + 1);
  if (!rest.every((o) => o === '*')) return null;
  const low = bounds.map((b, i) => (i > first ? 0 : (b[0] as number)));
  const high = bounds.map((b, i) => (i > first ? 255 : (b[b.length - 1] as number)));
  if ((low[first] as number) > (high[first] as number)) return null;
  const whole = (low[first] as number) === 0 && (high[first] as number) === 255;
  if (whole) return `${low.map((n, i) => (i >= first ? 0 : n)).join('.')}/${first * 8}${port}`;
  return `${low.join('.')}-${high.join('.')}${port}`;
}

/**
 * yargs' "Unknown argument(s): a, b" as our message, with a suggestion for the first when one of
 * `known` (long option names, without dashes) is close: "unknown option --rnage; did you mean --range?".
 */
export function unknownOptionMessage(yargsMessage: string, known: readonly string[]): string | null {
  const m = /^Unknown arguments?: (.+)$/.exec(yargsMessage.trim());
  if (!m) return null;
  const listed = (m[1] as string).split(', ').map((n) => n.trim());
  // yargs names `--a-b` twice, as a-b and aB: keep the spelling typed.
  const kebab = (n: string): string => n.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  const names = listed.filter((n) => kebab(n) === n || !listed.includes(kebab(n)));
  const dashed = names.map((n) => (n.length === 1 ? `-${n}` : `--${n}`));
  const what = `unknown option${names.length > 1 ? 's' : ''} ${dashed.join(', ')}`;
  const first = names[0] as string;
  const guess =
    first.length > 1
      ? closest(
          first.replace(/^no-/, ''),
          known.filter((k) => k.length > 1),
        )
      : null;
  return guess === null ? what : `${what}; did you mean --${first.startsWith('no-') ? 'no-' : ''}${guess}?`;
}
