import type { Socket } from 'node:net';

/** Where a connection goes: an address, or with a proxy that resolves names (socks5h) a host name. */
export interface DialTarget {
  /** An IP address, or a host name the proxy resolves. */
  address: string;
  port: number;
  family?: 4 | 6 | undefined;
}

export interface DialEvents {
  /** Bytes written from now on reach the server. */
  ready(): void;
  /** The path failed before the server was reached: the errno the outcome is named after. */
  fail(errno: string): void;
}

/**
 * How a socket reaches a server: plain TCP, or through a proxy. A new way of connecting is one file
 * with one `Dialer` and its registration in dialers.ts; the exchange (deadlines, transcript, the
 * conversation) is the same for all. The exchange owns `socket` and its 'error' and 'close'
 * events; data read before `ready` belongs to the dialer (a proxy's handshake), not the server.
 */
export interface Dialer {
  /** Names the path in reports (`socks5h://127.0.0.1:1080`), or null for a direct connection. */
  readonly via: string | null;
  dial(socket: Socket, to: DialTarget, events: DialEvents): void;
}
