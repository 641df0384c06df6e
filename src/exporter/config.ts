import { BlockList, isIP } from 'node:net';
import { parseRange } from '../input/range.js';
import { parseHost, parsePort, parseTarget, type Target } from '../input/target.js';
import { escapeAndClip } from '../core/escape.js';
import { msnpError, isMsnpProbeError } from '../core/errors.js';
import { DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT_MS } from '../probe/probe.js';
import {
  DEFAULT_TRANSPORT,
  defaultPortFor,
  isTransportName,
  TRANSPORT_NAMES,
  type TransportName,
} from '../transport/registry.js';
import { parseDuration } from '../input/duration.js';
import { targetKey } from '../core/model.js';
import {
  MAX_CONFIG_BYTES,
  MAX_MODULE_CONCURRENCY,
  MAX_MODULES,
  MAX_MODULE_TARGETS,
  OPTION_LIMITS,
} from '../core/limits.js';

/** What one `/probe` request runs: the options of a module, or the CLI's defaults without one. */
export interface ExporterModule {
  name: string;
  versions: number[];
  timeoutMs: number;
  concurrency: number;
  deep: boolean;
  /** Name the implementation too (`--fingerprint`): about a dozen more connections per probe. */
  fingerprint: boolean;
  transport: TransportName;
  /** Targets this module names: each is allowed to be probed, whatever `--allow` says. */
  targets: Target[];
}

export interface ExporterConfig {
  modules: Map<string, ExporterModule>;
}

export { MAX_CONFIG_BYTES, MAX_MODULES, MAX_MODULE_TARGETS, MAX_MODULE_CONCURRENCY } from '../core/limits.js';
/** A module's timeout has the bounds of the probe command's --timeout. */
const TIMEOUT = OPTION_LIMITS.timeoutMs;
const MODULE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const MODULE_KEYS = ['range', 'timeout', 'concurrency', 'deep', 'fingerprint', 'transport', 'targets'] as const;

/** The module a request without `module=` uses: the probe command's defaults. */
export function defaultModule(): ExporterModule {
  return {
    name: '',
    versions: parseRange('2-21'),
    timeoutMs: DEFAULT_TIMEOUT_MS,
    concurrency: DEFAULT_CONCURRENCY,
    deep: false,
    fingerprint: false,
    transport: DEFAULT_TRANSPORT,
    targets: [],
  };
}

function fail(message: string): never {
  throw msnpError('ERR_OPTION', message);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function wholeNumber(value: unknown, min: number, max: number, where: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(`${where}: must be a whole number from ${min} to ${max}`);
  }
  return value;
}

function moduleOf(name: string, raw: unknown): ExporterModule {
  const where = `module '${name}'`;
  if (!isRecord(raw)) fail(`${where}: must be a mapping of options`);
  for (const key of Object.keys(raw)) {
    if (!(MODULE_KEYS as readonly string[]).includes(key)) {
      fail(`${where}: unknown option '${escapeAndClip(key, 40)}' (known: ${MODULE_KEYS.join(', ')})`);
    }
  }
  const module = defaultModule();
  module.name = name;
  const { range, timeout, concurrency, deep, fingerprint, transport, targets } = raw;
  if (range !== undefined) {
    // YAML reads `range: 15` as a number: a single version is a fine range.
    if (typeof range !== 'string' && typeof range !== 'number') fail(`${where}: range must be text such as 2-21`);
    try {
      module.versions = parseRange(String(range));
    } catch (err) {
      fail(`${where}: range: ${isMsnpProbeError(err) ? err.message : String(err)}`);
    }
  }
  if (typeof timeout === 'string') {
    // A config names times like the command line does: `timeout: 5s`.
    try {
      module.timeoutMs = parseDuration(timeout, TIMEOUT.min, TIMEOUT.max);
    } catch (err) {
      fail(`${where}: timeout: ${err instanceof Error ? err.message : String(err)}`);
    }
  } else if (timeout !== undefined)
    module.timeoutMs = wholeNumber(timeout, TIMEOUT.min, TIMEOUT.max, `${where}: timeout (ms)`);
  if (concurrency !== undefined) {
    module.concurrency = wholeNumber(concurrency, 1, MAX_MODULE_CONCURRENCY, `${where}: concurrency`);
  }
  if (deep !== undefined) {
    if (typeof deep !== 'boolean') fail(`${where}: deep must be true or false`);
    module.deep = deep;
  }
  if (fingerprint !== undefined) {
    if (typeof fingerprint !== 'boolean') fail(`${where}: fingerprint must be true or false`);
    module.fingerprint = fingerprint;
  }
  if (transport !== undefined) {
    if (!isTransportName(transport)) fail(`${where}: transport must be ${TRANSPORT_NAMES.join(' or ')}`);
    module.transport = transport;
  }
  if (targets !== undefined) {
    if (!Array.isArray(targets)) fail(`${where}: targets must be a list of HOST[:PORT]`);
    if (targets.length > MAX_MODULE_TARGETS) fail(`${where}: more than ${MAX_MODULE_TARGETS} targets`);
    const port = defaultPortFor(module.transport);
    module.targets = targets.map((t, i) => {
      if (typeof t !== 'string') fail(`${where}: target ${i + 1} must be text HOST[:PORT]`);
      try {
        return parseTarget(t, port);
      } catch (err) {
        return fail(`${where}: target ${i + 1}: ${isMsnpProbeError(err) ? err.message : String(err)}`);
      }
    });
  }
  return module;
}

/**
 * Reads an exporter config (YAML, or JSON, which YAML 1.2 also reads) of the form
 * `modules: { NAME: { range, timeout, concurrency, deep, fingerprint, transport, targets } }`.
 * Throws MsnpProbeError ERR_OPTION with a one-line message on anything else.
 */
export async function parseExporterConfig(text: string): Promise<ExporterConfig> {
  if (Buffer.byteLength(text) > MAX_CONFIG_BYTES) fail(`the config is larger than ${MAX_CONFIG_BYTES} bytes`);
  // Loaded here, not at start-up: only the exporter reads YAML (the CLI bundle leaves it out).
  const { parse: parseYaml } = await import('yaml');
  let doc: unknown;
  try {
    // Few aliases: a config needs none, and each can multiply the document (the "billion laughs").
    doc = parseYaml(text, { maxAliasCount: 16, prettyErrors: false, uniqueKeys: true });
  } catch (err) {
    const first = (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
    fail(`not valid YAML or JSON: ${escapeAndClip(first, 160)}`);
  }
  if (doc === null || doc === undefined) return { modules: new Map() };
  if (!isRecord(doc)) fail('the config must be a mapping with a `modules` key');
  for (const key of Object.keys(doc)) {
    if (key !== 'modules') fail(`unknown top-level key '${escapeAndClip(key, 40)}' (known: modules)`);
  }
  const modules = new Map<string, ExporterModule>();
  const raw = doc['modules'];
  if (raw === undefined || raw === null) return { modules };
  if (!isRecord(raw)) fail('modules must be a mapping of NAME: options');
  const names = Object.keys(raw);
  if (names.length > MAX_MODULES) fail(`more than ${MAX_MODULES} modules`);
  for (const name of names) {
    if (!MODULE_NAME.test(name)) fail(`module name '${escapeAndClip(name, 40)}': use 1-64 of A-Z a-z 0-9 _ . -`);
    modules.set(name, moduleOf(name, raw[name]));
  }
  return { modules };
}

/**
 * Who may be probed: `--allow` entries (an IP, a CIDR block, or a host name, each with an optional
 * `:PORT`) and the targets the config's modules name. Host names match by name only: a name is
 * never resolved to decide, so a scrape cannot make the exporter look up names of its choosing.
 */
export class AllowList {
  readonly #blocks = new BlockList();
  /** Address blocks limited to one port, tested one by one. */
  readonly #portBlocks: { port: number; list: BlockList }[] = [];
  /** `host` (any port) and `targetKey(host, port)`, host names lowercased without a final dot. */
  readonly #names = new Set<string>();
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** Adds one `--allow` entry. Throws MsnpProbeError ERR_TARGET on a malformed one. */
  add(entry: string): void {
    const text = entry.trim();
    if (text === '') throw msnpError('ERR_TARGET', 'an empty entry');
    const cidr = /^(\[[^\]]+\]|[^/[\]]+)\/(\d{1,3})(?::(\d{1,5}))?$/.exec(text);
    if (cidr) {
      const address = (cidr[1] ?? '').replace(/^\[(.*)\]$/, '$1');
      const family = isIP(address);
      const prefix = Number(cidr[2]);
      if (family === 0) throw msnpError('ERR_TARGET', `'${escapeAndClip(address, 60)}' is not an IP address`);
      if (prefix > (family === 6 ? 128 : 32)) throw msnpError('ERR_TARGET', `prefix /${prefix} is too long`);
      const list = cidr[3] === undefined ? this.#blocks : this.#portList(parsePort(cidr[3]));
      list.addSubnet(address, prefix, family === 6 ? 'ipv6' : 'ipv4');
    } else if (isIP(text) !== 0 || /^[^:]+$/.test(text) || /^\[[^\]]*\]$/.test(text)) {
      // No port named: any port of this host.
      const host = parseHost(text);
      if (isIP(host) !== 0) this.#blocks.addAddress(host, isIP(host) === 6 ? 'ipv6' : 'ipv4');
      else this.#names.add(nameKey(host));
    } else {
      this.addTarget(parseTarget(text));
      return;
    }
    this.#size++;
  }

  /** Allows exactly this target (a module's listed target). */
  addTarget(target: Target): void {
    if (isIP(target.host) !== 0) {
      this.#portList(target.port).addAddress(target.host, isIP(target.host) === 6 ? 'ipv6' : 'ipv4');
    } else {
      this.#names.add(targetKey(nameKey(target.host), target.port));
    }
    this.#size++;
  }

  #portList(port: number): BlockList {
    let found = this.#portBlocks.find((p) => p.port === port);
    if (!found) {
      found = { port, list: new BlockList() };
      this.#portBlocks.push(found);
    }
    return found.list;
  }

  allows(target: Target): boolean {
    const family = isIP(target.host);
    if (family !== 0) {
      const type = family === 6 ? 'ipv6' : 'ipv4';
      if (this.#blocks.check(target.host, type)) return true;
      return this.#portBlocks.some((p) => p.port === target.port && p.list.check(target.host, type));
    }
    const key = nameKey(target.host);
    return this.#names.has(key) || this.#names.has(targetKey(key, target.port));
  }
}

function nameKey(host: string): string {
  return host.toLowerCase().replace(/\.$/, '');
}

/** The allow list of an exporter: `--allow` entries plus every target the config's modules name. */
export function buildAllowList(entries: readonly string[], config: ExporterConfig): AllowList {
  const list = new AllowList();
  for (const entry of entries) {
    try {
      list.add(entry);
    } catch (err) {
      throw msnpError(
        'ERR_TARGET',
        `allow '${escapeAndClip(entry, 80)}': ${isMsnpProbeError(err) ? err.message : String(err)}`,
      );
    }
  }
  for (const module of config.modules.values()) for (const target of module.targets) list.addTarget(target);
  return list;
}
