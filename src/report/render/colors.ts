import type { createColors } from 'picocolors';
import type { ProbeStatus } from '../../codec/outcome.js';

type Colors = ReturnType<typeof createColors>;

/**
 * One colour per status for every coloured output (the table and the matrix): green for accepted,
 * yellow for a clean rejection, magenta for an MSNP answer that is neither, red for no MSNP answer.
 */
export function paintStatus(c: Colors, status: ProbeStatus, text: string): string {
  switch (status) {
    case 'accepted':
      return c.green(text);
    case 'rejected':
      return c.yellow(text);
    case 'error':
    case 'mismatch':
      return c.magenta(text);
    default:
      return c.red(text);
  }
}
