import { formatTarget, parseTarget } from '../input/target.js';
import { msnpError } from '../core/errors.js';
import type { Dialer } from './dialer.js';
import { isLocalErrno } from './exchange.js';
import { errnoOf } from './resolve.js';

/** `--proxy socks5://HOST:PORT` or `socks5h://` (the proxy resolves target names). */
export interface ProxySpec {
  protocol: 'socks5' | 'socks5h';
  /** The proxy's address (a literal IP, resolved by the caller when given as a name). */
  host: string;
  port: number;
}

export { DEFAULT_SOCKS_PORT } from '../core/defaults.js';
import { DEFAULT_SOCKS_PORT } from '../core/defaults.js';

/** Parses `socks5://HOST[:PORT]` or `socks5h://HOST[:PORT]` (port 1080 when none is named). */
export function parseProxy(text: string): ProxySpec {
  const m = /^(socks5h?):\/\/([^/?#]+)\/?$/i.exec(text.trim());
  if (!m?.[1] || !m[2]) throw msnpError('ERR_OPTION', `'${text}' is not socks5://HOST:PORT or socks5h://HOST:PORT`);
  const { host, port } = parseTarget(m[2], DEFAULT_SOCKS_PORT);
  return { protocol: m[1].toLowerCase() === 'socks5h' ? 'socks5h' : 'socks5', host, port };
}

export function formatProxy(proxy: ProxySpec): string {
  return `${proxy.protocol}://${formatTarget({ host: proxy.host, port: proxy.port })}`;
}

/**
 * The errno an outcome is named after when the proxy reports that it could not reach the target
 * (RFC 1928 reply codes): the proxy's word for refused or unreachable is the target's status. Any
 * other failure of the proxy itself is `EPROXY`: unreachable, never a verdict on the server.
 */
function errnoOfSocks(message: string): string {
  if (/ConnectionRefused/.test(message)) return 'ECONNREFUSED';
  if (/HostUnreachable/.test(message)) return 'EHOSTUNREACH';
  if (/NetworkUnreachable/.test(message)) return 'ENETUNREACH';
  return 'EPROXY';
}

/** A SOCKS5 connection through `proxy`, made by the `socks` package on the exchange's own socket. */
export function socksDialer(proxy: ProxySpec): Dialer {
  return {
    via: formatProxy(proxy),
    dial(socket, to, events) {
      // Failing to reach the proxy says nothing about the server: `EPROXY`, not the socket's own
      // ECONNREFUSED (which would read as the server's refusal). Ahead of the exchange's listener,
      // so the failure is named first; a local errno stays local, to be tried again.
      const onProxyError = (err: Error): void => {
        const errno = errnoOf(err);
        if (errno === undefined || !isLocalErrno(errno)) events.fail('EPROXY');
      };
      socket.prependOnceListener('error', onProxyError);
      socket.once('connect', async () => {
        socket.off('error', onProxyError);
        // Loaded by the first proxied connection, not at start-up: most runs use no proxy, and the
        // package (with ip-address and smart-buffer) is most of the CLI's code by size.
        let SocksClient: typeof import('socks').SocksClient;
        try {
          // A CommonJS package: its module.exports is the default export, bundled or not.
          ({ SocksClient } = (await import('socks')).default);
        } catch {
          events.fail('EPROXY');
          return;
        }
        // The deadline may have ended the exchange meanwhile; the proxy speaks only after our greeting.
        if (socket.destroyed) return;
        const client = new SocksClient({
          proxy: { host: proxy.host, port: proxy.port, type: 5 },
          command: 'connect',
          destination: { host: to.address, port: to.port },
          existing_socket: socket,
          // The exchange's deadline covers the handshake; this one only has to be later.
          timeout: 24 * 3600_000,
        });
        // Both fire synchronously in the client: before the socket's own 'close' reaches the exchange.
        client.once('error', (err: Error) => events.fail(errnoOfSocks(err.message)));
        client.once('established', () => events.ready());
        client.connect(socket);
      });
      socket.connect({ host: proxy.host, port: proxy.port });
    },
  };
}
