import type { Dialer } from './dialer.js';

/** A direct TCP connection. */
export const tcpDialer: Dialer = {
  via: null,
  dial(socket, to, events) {
    // 'connect' fires once per socket: a plain listener does what `once` would, without its wrapper.
    socket.on('connect', () => events.ready());
    socket.connect({ host: to.address, port: to.port, family: to.family ?? 0 });
  },
};
