/** What the server does next; the socket layer (or the HTTP gateway) carries these out in order. */
export type Action =
  | { type: 'send'; data: Buffer; style: 'whole' | 'drip' | 'split'; dripMs: number }
  | { type: 'close' }
  | { type: 'reset' }
  /** Stop answering anything on this connection. */
  | { type: 'hang' }
  /** Send an endless line until the client goes away. */
  | { type: 'endless' };

export const DEFAULT_DRIP_MS = 200;

export function send(
  data: string | Buffer,
  style: 'whole' | 'drip' | 'split' = 'whole',
  dripMs = DEFAULT_DRIP_MS,
): Action {
  return { type: 'send', data: typeof data === 'string' ? Buffer.from(data, 'latin1') : data, style, dripMs };
}

export const CLOSE: Action = { type: 'close' };
