/**
 * msnp-probe as a library: probe servers, judge the results, run an emulated server. The CLI is a
 * thin layer over these; nothing here prints. More in the subpaths: `msnp-probe/codec` (pure
 * protocol code), `msnp-probe/emulator`, `msnp-probe/report` (renderers, formats, baseline, SVG),
 * `msnp-probe/fingerprint` and `msnp-probe/exporter`.
 */
export { probe, VER_TRID } from './probe/probe.js';
export type { ProbeOptions, Gate } from './probe/probe.js';
export { sendVer, sendDeep } from './probe/version-probe.js';
export type { ConnectOptions } from './probe/version-probe.js';
export { scan } from './probe/scan.js';
export type { ScanOptions } from './probe/scan.js';
export { BudgetRegistry, RateLimiter } from './probe/budget.js';
export { probeFollowing } from './probe/follow.js';
export type { FollowOptions } from './probe/follow.js';
export { addressClass, isHostName } from './probe/follow-policy.js';
export type { AddressClass } from './probe/follow-policy.js';
export { readTargets, parseTargetLine, parseShard, inShard } from './probe/targets.js';
export { resolveShard, SHARD_INDEX_ENV, SHARD_COUNT_ENV } from './probe/shard-auto.js';
export type { Shard } from './probe/shard-auto.js';
export { parseRange, formatVersions, KNOWN_VERSIONS } from './input/range.js';
export { parseTarget, formatTarget } from './input/target.js';
export type { Target } from './input/target.js';
export { escapeText } from './core/escape.js';
export { parseProxy, formatProxy } from './transport/socks.js';
export type { ProxySpec } from './transport/socks.js';
export type { Dialer, DialTarget, DialEvents } from './transport/dialer.js';
export type { LookupFn, ResolvedAddress } from './transport/resolve.js';
export * from './core/defaults.js';
export { defaultPortFor, DEFAULT_TRANSPORT, TRANSPORT_NAMES } from './transport/registry.js';
export type { Transport } from './transport/transport.js';
export { OPTION_LIMITS } from './core/limits.js';
export { checkOptions, OptionValueError } from './probe/options.js';
export type { CheckedOptions, NumericOptions, OptionName } from './probe/options.js';
export { targetKey } from './core/model.js';
export type * from './core/model.js';
export type { Outcome, ProbeStatus } from './codec/outcome.js';
export { MsnpProbeError, isMsnpProbeError } from './core/errors.js';
export type { MsnpErrorCode } from './core/errors.js';
export { startEmulator } from './emulator/server.js';
export type { Emulator, EmulatorOptions, EmulatorStats } from './emulator/server.js';
export { judge, Tally } from './verdict/judge.js';
export type { Checks, Judgement } from './verdict/judge.js';
export { exitCode, EXIT_CODES } from './verdict/exit-code.js';
export type { RunSummary, ExitCode } from './verdict/exit-code.js';
export { SCHEMA_VERSION } from './report/render/json.js';
export type { ReportDocument, TargetDocument } from './report/render/json.js';
export { startExporter, DEFAULT_EXPORTER_PORT, DEFAULT_MAX_CONCURRENT_PROBES } from './exporter/server.js';
export type { Exporter, ExporterOptions } from './exporter/server.js';
