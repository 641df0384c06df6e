/**
 * Whether the CLI colours what it writes to a stream. picocolors guesses on its own at import
 * (it reads process.argv and process.env: FORCE_COLOR=0 counts as set and turns colour on, CI turns
 * it on, TERM=dumb alone does not turn it off when forced), so the CLI never uses that guess: every
 * renderer gets `createColors(colorSupport(...))`, an explicit answer from the rules below, in order.
 *
 * 1. `--color` forces colour on, `--no-color` off.
 * 2. `FORCE_COLOR` set: empty, `1`, `2`, `3` or `true` on, even when piped; any other value (`0`,
 *    `false`) off. It overrides NO_COLOR and TERM=dumb, as Node's own colour detection does.
 * 3. `NO_COLOR` set and not empty: off.
 * 4. `TERM=dumb`: off.
 * 5. Otherwise on only when the stream is a terminal.
 */
const FORCE_ON = new Set(['', '1', '2', '3', 'true']);

export function colorSupport(
  flag: unknown,
  stream: { isTTY?: boolean | undefined },
  env: Readonly<Record<string, string | undefined>>,
): boolean {
  if (flag === true) return true;
  if (flag === false) return false;
  const force = env['FORCE_COLOR'];
  if (force !== undefined) return FORCE_ON.has(force);
  if ((env['NO_COLOR'] ?? '') !== '') return false;
  if (env['TERM'] === 'dumb') return false;
  return stream.isTTY === true;
}
