import { readFlagFile } from './read-file.js';
import { isIP } from 'node:net';
import { parseHost, formatTarget } from '../input/target.js';
import { isMsnpProbeError } from '../core/errors.js';
import { MAX_CONFIG_BYTES, parseExporterConfig, buildAllowList, type ExporterConfig } from '../exporter/config.js';
import { DEFAULT_EXPORTER_PORT, DEFAULT_MAX_CONCURRENT_PROBES, startExporter } from '../exporter/server.js';
import { resolveTarget, systemLookup, type LookupFn } from '../transport/resolve.js';
import { filteredLookup } from '../input/family.js';
import { listenOrUsage, watchStop } from './listen.js';
import { EXIT, type Io } from './io.js';
import { UsageError, type Args } from './options.js';

/** `HOST:PORT`, `[V6]:PORT`, `HOST` or `:PORT`; port 0 asks for any free one. */
export function parseListen(text: string): { host: string; port: number } {
  const s = text.trim();
  const m =
    /^(?:\[([^\]]+)\]|([^:[\]]*))(?::(\d{1,5}))?$/.exec(s) ?? (isIP(s) === 6 ? [s, s, undefined, undefined] : null);
  if (!m) throw new UsageError(`--listen: '${s}' is not HOST:PORT`);
  const hostText = m[1] ?? m[2] ?? '';
  const port = m[3] === undefined ? DEFAULT_EXPORTER_PORT : Number(m[3]);
  if (port > 65535) throw new UsageError(`--listen: port ${port} is outside 0..65535`);
  let host = '127.0.0.1';
  if (hostText !== '') {
    try {
      host = parseHost(hostText);
    } catch (err) {
      throw new UsageError(`--listen: ${isMsnpProbeError(err) ? err.message : String(err)}`);
    }
  }
  return { host, port };
}

async function readConfig(file: string): Promise<ExporterConfig> {
  const text = await readFlagFile('config', file, MAX_CONFIG_BYTES);
  try {
    return await parseExporterConfig(text);
  } catch (err) {
    throw new UsageError(`--config: '${file}': ${err instanceof Error ? err.message : String(err)}`);
  }
}

function listOf(value: unknown): string[] {
  if (value === undefined) return [];
  const items = Array.isArray(value) ? value.map(String) : [String(value)];
  return items.flatMap((i) => i.split(',')).filter((i) => i.trim() !== '');
}

/** `lookup` resolves the target names scrapes ask for (tests inject one; -4/-6 filter what it finds). */
export async function exporter(args: Args, io: Io, lookup: LookupFn = systemLookup): Promise<number> {
  const listen = parseListen(
    args['listen'] === undefined ? `127.0.0.1:${DEFAULT_EXPORTER_PORT}` : String(args['listen']),
  );
  const config = args['config'] === undefined ? { modules: new Map() } : await readConfig(String(args['config']));
  const allow = listOf(args['allow']);
  let maxProbes = DEFAULT_MAX_CONCURRENT_PROBES;
  if (args['max-probes'] !== undefined) {
    const text = String(args['max-probes']);
    if (!/^\d{1,4}$/.test(text) || Number(text) < 1 || Number(text) > 1000) {
      throw new UsageError(`--max-probes: '${text}' is not a whole number from 1 to 1000`);
    }
    maxProbes = Number(text);
  }
  if (args['ipv4'] === true && args['ipv6'] === true) throw new UsageError('-4 and -6: choose one address family');
  const family = args['ipv4'] === true ? 4 : args['ipv6'] === true ? 6 : undefined;
  let allowed: number;
  try {
    allowed = buildAllowList(allow, config).size;
  } catch (err) {
    throw new UsageError(`--allow: ${err instanceof Error ? err.message : String(err)}`);
  }
  // Nothing allowed would answer every scrape with 403: say so now, not at the first scrape.
  if (allowed === 0) {
    throw new UsageError(
      'exporter: nothing may be probed: give --allow HOST|CIDR or a --config whose modules list targets',
    );
  }
  const resolved = await resolveTarget(listen.host);
  if (!resolved.ok) throw new UsageError(`--listen: cannot listen on '${listen.host}': ${resolved.errno}`);
  const running = await listenOrUsage('exporter', io, () =>
    startExporter({
      host: resolved.address.address,
      port: listen.port,
      config,
      allow,
      maxConcurrentProbes: maxProbes,
      lookup: family === undefined ? lookup : filteredLookup({ family }, lookup),
    }),
  );
  if (typeof running === 'number') return running;
  const stopped = watchStop(io);
  const where = formatTarget(running);
  const modules = config.modules.size;
  io.stdout.write(
    `msnp-probe exporter: listening on http://${where}/ (${modules} module${modules === 1 ? '' : 's'}, ` +
      `${allowed} allowed target entr${allowed === 1 ? 'y' : 'ies'}, ${maxProbes} probes at once)\n`,
  );
  const why = await stopped;
  await running.close();
  io.stdout.write(`msnp-probe exporter: stopped (${why})\n`);
  return EXIT.ok;
}
