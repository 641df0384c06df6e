/** One MSNP line parsed into a union on `type`. Pure: strings in, values out, never throws. */
export type Message =
  | { type: 'ver'; trId: number | null; args: string[] }
  | { type: 'error'; code: number; trId: number | null; args: string[] }
  | { type: 'out'; reason: string | null; args: string[] }
  | { type: 'command'; command: string; trId: number | null; args: string[] }
  | { type: 'invalid' };

const PRINTABLE = /^[\x20-\x7e]*$/;
const TRID = /^\d{1,10}$/;

export function isPrintableAscii(text: string): boolean {
  return PRINTABLE.test(text);
}

export function parseMessage(line: string): Message {
  if (line === '' || !PRINTABLE.test(line)) return { type: 'invalid' };
  const tokens = line.split(' ').filter((t) => t !== '');
  const head = tokens[0] ?? '';
  const second = tokens[1];
  const hasTrId = second !== undefined && TRID.test(second);
  const trId = hasTrId ? Number(second) : null;
  if (/^\d{3}$/.test(head)) {
    // `220 mail.example ESMTP` is a banner, not an MSNP error: the second token must be a trId.
    if (second !== undefined && !hasTrId) return { type: 'invalid' };
    return { type: 'error', code: Number(head), trId, args: tokens.slice(2) };
  }
  if (!/^[A-Z]{3}$/.test(head)) return { type: 'invalid' };
  if (head === 'OUT') return { type: 'out', reason: second ?? null, args: tokens.slice(1) };
  if (head === 'VER') {
    return { type: 'ver', trId, args: hasTrId ? tokens.slice(2) : tokens.slice(1) };
  }
  return { type: 'command', command: head, trId, args: hasTrId ? tokens.slice(2) : tokens.slice(1) };
}

/** The MSNP version numbers named in VER arguments, in the order given (`msnp8` counts too). */
export function versionsIn(args: readonly string[]): number[] {
  const out: number[] = [];
  for (const arg of args) {
    const m = /^MSNP(\d{1,3})$/i.exec(arg);
    if (m?.[1]) out.push(Number(m[1]));
  }
  return out;
}
