import type { Conversation } from '../codec/conversation.js';
import type { ExchangeOptions, ExchangeResult } from './exchange.js';
import type { GatewaySettings } from './http-gateway.js';
import type { TransportName } from './registry.js';

/** Everything one exchange needs, whichever transport carries it. */
export interface ConnectOptions extends ExchangeOptions {
  /** The transport that carries the exchange, by its name in the registry. Default: `tcp`. */
  transport?: TransportName;
  /**
   * The target as it was named (a host name or an address), for a transport that names it on the
   * wire (the gateway's `Host:` header and `IP=`). Default: `address`.
   */
  host?: string;
  /** What the http transport asks the gateway for; other transports ignore it. */
  gateway?: Partial<GatewaySettings>;
}

/**
 * A way of carrying an MSNP conversation to a server. A new transport is one file exporting one of
 * these and one line in `registry.ts`; `--transport`, configs, the report's `transport` and the
 * default port come from there. Every connection a transport opens goes through `options.dialer`
 * (direct TCP unless a proxy is given), so a proxy carries every transport.
 */
export interface Transport {
  /** The name a flag, a config and a report use for it. */
  readonly name: string;
  /** A target's port when it names none. */
  readonly defaultPort: number;
  /** How `--help` describes it, after its name. */
  readonly summary: string;
  /**
   * Runs `conversation` to its result, opening each connection through `options.dialer`. Resolves
   * with the outcome whatever the server does; rejects only when `options.signal` aborts.
   */
  exchange<T>(options: ConnectOptions, conversation: Conversation<T>): Promise<ExchangeResult<T>>;
}
