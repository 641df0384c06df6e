import type { Dialer } from './dialer.js';

/** A direct TCP connection. */
export const tcpDialer: Dialer = {
  via: null,
  dial(socket, to, events) {
    socket.once('connect', () => events.ready());
    socket.connect({ host: to.address, port: to.port, family: to.family ?? 0 });
  },
};
