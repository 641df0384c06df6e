import type { Socket } from 'node:net';
import type { DialEvents, Dialer } from './dialer.js';

/** Where a socket's 'connect' listener finds what to tell: one listener function for every socket. */
const EVENTS: unique symbol = Symbol('msnp-probe.dialEvents');
type DialingSocket = Socket & { [EVENTS]?: DialEvents };

function onConnect(this: DialingSocket): void {
  this[EVENTS]?.ready();
}

/** A direct TCP connection. */
export const tcpDialer: Dialer = {
  via: null,
  dial(socket, to, events) {
    // 'connect' fires once per socket: a plain listener does what `once` would, without its wrapper,
    // and a module function finding `events` on the socket costs no closure per connection.
    (socket as DialingSocket)[EVENTS] = events;
    socket.on('connect', onConnect);
    socket.connect({ host: to.address, port: to.port, family: to.family ?? 0 });
  },
};
