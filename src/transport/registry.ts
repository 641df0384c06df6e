import { tcpTransport } from './exchange.js';
import { httpTransport } from './http-gateway.js';
import type { Transport } from './transport.js';
import { msnpError } from '../core/errors.js';

/** Every transport, the default first. Adding one is its file and one entry here. */
const TRANSPORT_LIST = [tcpTransport, httpTransport] as const satisfies readonly Transport[];

/** How probes reach a server: `tcp`, or `http` (tunnelled through the MSN HTTP gateway). */
export type TransportName = (typeof TRANSPORT_LIST)[number]['name'];

export const TRANSPORT_NAMES: readonly TransportName[] = TRANSPORT_LIST.map((t) => t.name);

export const DEFAULT_TRANSPORT: TransportName = TRANSPORT_LIST[0].name;

export function isTransportName(text: unknown): text is TransportName {
  return TRANSPORT_NAMES.includes(text as TransportName);
}

/** A transport as registered: its name is one of `TransportName`. */
export type RegisteredTransport = (typeof TRANSPORT_LIST)[number];

/** The transport registered under `name` (the default one when none is named). */
export function transportOf(name: TransportName = DEFAULT_TRANSPORT): RegisteredTransport {
  const found = TRANSPORT_LIST.find((t) => t.name === name);
  if (!found) throw msnpError('ERR_OPTION', `transport '${String(name)}' is not ${TRANSPORT_NAMES.join(' or ')}`);
  return found;
}

/** A target's port when it names none: the transport's own (1863 for tcp, 80 for the gateway). */
export function defaultPortFor(transport: TransportName | undefined): number {
  return transportOf(transport).defaultPort;
}
