import type { createColors } from 'picocolors';
import type { ProbeStatus } from '../../codec/outcome.js';

type Colors = ReturnType<typeof createColors>;

/** The terminal colours a status may take (picocolors' names). */
export type TerminalColor = 'green' | 'yellow' | 'magenta' | 'red';

/**
 * Every status's colour in every coloured output, in one table. `terminal` (the table and the
 * matrix) has eight colours to work with, so it groups: green for accepted, yellow for a clean
 * rejection, magenta for an MSNP answer that is neither, red for no MSNP answer. The SVG can tell
 * each status apart: `fill` for its cell and `text`, a colour that reads on that fill. The marks
 * (as in the terminal matrix) carry the status without colour.
 */
export const STATUS_COLORS: Readonly<Record<ProbeStatus, { terminal: TerminalColor; fill: string; text: string }>> = {
  accepted: { terminal: 'green', fill: '#2e7d32', text: '#ffffff' },
  rejected: { terminal: 'yellow', fill: '#fbc02d', text: '#000000' },
  mismatch: { terminal: 'magenta', fill: '#8e24aa', text: '#ffffff' },
  error: { terminal: 'magenta', fill: '#c62828', text: '#ffffff' },
  closed: { terminal: 'red', fill: '#795548', text: '#ffffff' },
  reset: { terminal: 'red', fill: '#e64a19', text: '#ffffff' },
  timeout: { terminal: 'red', fill: '#616161', text: '#ffffff' },
  refused: { terminal: 'red', fill: '#37474f', text: '#ffffff' },
  unreachable: { terminal: 'red', fill: '#bdbdbd', text: '#000000' },
  unexpected: { terminal: 'red', fill: '#ad1457', text: '#ffffff' },
  'http-error': { terminal: 'red', fill: '#1565c0', text: '#ffffff' },
  'http-invalid': { terminal: 'red', fill: '#4fc3f7', text: '#000000' },
};

/** `text` in the terminal colour of `status` (plain when `c` is picocolors without colour). */
export function paintStatus(c: Colors, status: ProbeStatus, text: string): string {
  return c[STATUS_COLORS[status].terminal](text);
}
