import { createServer, connect, isIP, type Server, type Socket } from 'node:net';

/** What the test proxy was asked: each CONNECT's address type and destination. */
export interface SocksRequest {
  kind: 'ipv4' | 'name' | 'ipv6';
  host: string;
  port: number;
}

export interface TestSocks {
  port: number;
  requests: SocksRequest[];
  close(): Promise<void>;
}

/** The proxy connects only here: tests must never reach past the loopback interface. */
function isLoopback(host: string): boolean {
  return (isIP(host) === 4 && host.startsWith('127.')) || host === '::1';
}

/**
 * The one name the test proxy resolves, by this table and never by a query: socks5h can be shown
 * reaching a server without any name leaving the machine.
 */
const NAMES: ReadonlyMap<string, string> = new Map([['localhost', '127.0.0.1']]);

/**
 * A minimal SOCKS5 server (RFC 1928, no authentication, CONNECT only) on 127.0.0.1. It relays to
 * loopback addresses only, resolves no name but `localhost` (to 127.0.0.1, from a table; any
 * other name is answered "host unreachable"), and answers "connection refused" when the loopback
 * target refuses.
 */
export async function startTestSocks(): Promise<TestSocks> {
  const requests: SocksRequest[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    let buffer = Buffer.alloc(0);
    let stage: 'greeting' | 'request' | 'relay' = 'greeting';
    const reply = (code: number): void => {
      client.end(Buffer.from([5, code, 0, 1, 0, 0, 0, 0, 0, 0]));
    };
    const onData = (chunk: Buffer): void => {
      buffer = Buffer.concat([buffer, chunk]);
      if (stage === 'greeting') {
        if (buffer.length < 2 || buffer.length < 2 + (buffer[1] ?? 0)) return;
        buffer = buffer.subarray(2 + (buffer[1] ?? 0));
        client.write(Buffer.from([5, 0]));
        stage = 'request';
      }
      if (stage !== 'request' || buffer.length < 5) return;
      const atyp = buffer[3];
      let host: string;
      let end: number;
      if (atyp === 1) {
        end = 8;
        host = [...buffer.subarray(4, 8)].join('.');
      } else if (atyp === 3) {
        end = 5 + (buffer[4] ?? 0);
        host = buffer.subarray(5, end).toString('latin1');
      } else {
        end = 20;
        const words = [];
        for (let i = 4; i < 20 && buffer.length >= 20; i += 2) words.push(buffer.readUInt16BE(i).toString(16));
        host = words.join(':').replace(/^(0:)+/, '::');
      }
      if (buffer.length < end + 2) return;
      const port = buffer.readUInt16BE(end);
      const rest = buffer.subarray(end + 2);
      stage = 'relay';
      client.off('data', onData);
      requests.push({ kind: atyp === 1 ? 'ipv4' : atyp === 3 ? 'name' : 'ipv6', host, port });
      const to = atyp === 3 ? NAMES.get(host.toLowerCase()) : host;
      if (to === undefined || !isLoopback(to)) {
        reply(4);
        return;
      }
      const upstream = connect({ host: to, port });
      sockets.add(upstream);
      upstream.on('close', () => sockets.delete(upstream));
      upstream.once('error', (err: NodeJS.ErrnoException) => {
        if (!upstream.readyState.includes('open') && err.code === 'ECONNREFUSED') reply(5);
        else client.destroy();
      });
      upstream.once('connect', () => {
        client.write(Buffer.from([5, 0, 0, 1, 127, 0, 0, 1, 0, 0]));
        if (rest.length) upstream.write(rest);
        client.pipe(upstream);
        upstream.pipe(client);
      });
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.end());
    };
    client.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    requests,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
