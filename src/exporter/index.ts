/** `msnp-probe/exporter`: the Prometheus exporter, its configuration and metrics (docs/EXPORTER.md). */
export { startExporter, DEFAULT_EXPORTER_PORT, DEFAULT_MAX_CONCURRENT_PROBES } from './server.js';
export type { Exporter, ExporterOptions } from './server.js';
export { parseExporterConfig, buildAllowList, AllowList } from './config.js';
export type { ExporterConfig, ExporterModule } from './config.js';
export { PROBE_METRICS } from './metrics.js';
