/**
 * Every default a user can change with a flag or an option, in one place: the CLI's --help, the
 * library's option bags and the benchmark read them from here, never from a literal of their own.
 */
import { KNOWN_VERSIONS } from '../input/range.js';

/** MSNP's registered port. */
export const DEFAULT_PORT = 1863;
/** The HTTP gateway's port: the http transport's default (src/transport/registry.ts has each transport's). */
export const DEFAULT_GATEWAY_PORT = 80;
export const DEFAULT_TIMEOUT_MS = 5000;
/** Four connections at a time: quick on a real server, gentle enough for a small revival server. */
export const DEFAULT_CONCURRENCY = 4;
/** Connections in flight at once across all targets. */
export const DEFAULT_GLOBAL_CONCURRENCY = 64;
/** `--max-rate`: new connections per second across the whole run; 0: no limit but the concurrency bounds. */
export const DEFAULT_MAX_RATE = 0;
/** Redirect hops followed from one starting target at the most. */
export const DEFAULT_MAX_HOPS = 4;
/**
 * Servers followed from one starting target at the most. Twenty versions naming twenty servers,
 * four hops deep, would otherwise be 168,421 targets from one line.
 */
export const DEFAULT_FOLLOW_MAX = 16;
/** The usual SOCKS port, when a proxy URL names none. */
export const DEFAULT_SOCKS_PORT = 1080;
/** The exporter's port unless `--listen` names another (beside MSNP's 1863; unassigned by IANA). */
export const DEFAULT_EXPORTER_PORT = 9863;
/** Probes the exporter runs at once; a scrape beyond gets HTTP 503. */
export const DEFAULT_MAX_CONCURRENT_PROBES = 4;
/** HTTP connections the exporter keeps open at once. */
export const DEFAULT_MAX_CONNECTIONS = 64;
/** The versions probed when no range is given: every version a real server is known to have spoken. */
export const DEFAULT_VERSIONS: readonly number[] = KNOWN_VERSIONS;
