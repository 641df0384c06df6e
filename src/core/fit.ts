/**
 * Fitting text to a terminal's width. The text here is escaped already (src/core/escape.ts): an
 * escape such as `\x1b` is one unit, never cut, so a clipped reply still says honestly what came.
 */

const ANSI = /\x1b\[[0-9;]*m/g;
/** One unit of escaped text: an escape sequence, or one character. */
const UNIT = /\\(?:x[0-9a-fA-F]{2}|u\{[0-9a-fA-F]+\}|[\\rnt])|[\s\S]/gu;

/** Columns a string takes on a terminal: colours take none, every character here takes one. */
export function displayWidth(text: string): number {
  let n = 0;
  for (const _ of text.replace(ANSI, '')) n++;
  return n;
}

/** At most `max` columns: the end is cut at a unit boundary and marked with `mark`. */
export function clipText(text: string, max: number, mark = '…'): string {
  if (displayWidth(text) <= max) return text;
  const room = Math.max(0, max - displayWidth(mark));
  let out = '';
  let used = 0;
  for (const [unit] of text.matchAll(UNIT)) {
    const w = displayWidth(unit);
    if (used + w > room) break;
    out += unit;
    used += w;
  }
  return out + mark;
}

/** The longest start of `word` that fits `room` columns, at a unit boundary (one unit at least). */
function head(word: string, room: number): string {
  let out = '';
  for (const [unit] of word.matchAll(UNIT)) {
    if (out && displayWidth(out) + displayWidth(unit) > room) break;
    out += unit;
  }
  return out;
}

/**
 * Lines of at most `width` columns: breaks at spaces, continuation lines indented by `indent`; a
 * word wider than a line is broken between units. Nothing is dropped. No width: the text as it is.
 */
export function wrapText(text: string, width: number | null | undefined, indent = '  '): string[] {
  if (!width || displayWidth(text) <= width) return [text];
  const lines: string[] = [];
  let line = '';
  // Leading spaces (an indented line) stay on the first line.
  let prefix = /^ */.exec(text)?.[0] ?? '';
  const room = (): number => Math.max(1, width - displayWidth(prefix));
  const flush = (): void => {
    lines.push(prefix + line);
    line = '';
    prefix = indent;
  };
  for (const word of text.slice(prefix.length).split(' ')) {
    const joined = line ? `${line} ${word}` : word;
    if (displayWidth(joined) <= room()) {
      line = joined;
      continue;
    }
    if (line) flush();
    let rest = word;
    while (displayWidth(rest) > room()) {
      const part = head(rest, room());
      line = part;
      flush();
      rest = rest.slice(part.length);
    }
    line = rest;
  }
  if (line || lines.length === 0) lines.push(prefix + line);
  return lines;
}
