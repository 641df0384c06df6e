/** Milliseconds per unit a duration may name; a bare number is milliseconds. */
const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000 };

const DURATION = /^(\d{1,9}(?:\.\d{1,3})?)(ms|s|m)?$/;

/**
 * `500`, `500ms`, `5s`, `1.5s`, `1m` to whole milliseconds. One number and at most one unit, with no
 * space and no sign: `5 s`, `-1s` and `1h30` are refused rather than guessed at. A result that is not
 * a whole number of milliseconds (`0.5ms`) is refused too, since timers count whole milliseconds.
 * Throws RangeError with a message fit for a usage error.
 */
export function parseDuration(text: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const m = DURATION.exec(text.trim());
  if (!m?.[1]) {
    const units = 'or a duration with a unit: 500ms, 5s, 1.5s, 1m';
    throw new RangeError(`'${text}' is not a whole number of milliseconds ${units}`);
  }
  const ms = Number(m[1]) * (UNITS[m[2] ?? 'ms'] ?? 1);
  // 1.001s is 1001 ms exactly, but floating point may say 1000.9999999999999.
  const rounded = Math.round(ms);
  if (Math.abs(ms - rounded) > 1e-6) {
    throw new RangeError(`'${text}' is not a whole number of milliseconds (timers count whole ms)`);
  }
  if (rounded < min || rounded > max) {
    const what = m[2] === undefined ? String(rounded) : `${text.trim()} (${rounded} ms)`;
    throw new RangeError(`${what} is outside ${min}..${max} ms`);
  }
  return rounded;
}
