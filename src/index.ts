/**
 * msnp-probe as a library. The CLI is a thin layer over these; nothing here prints.
 */
export { probe, DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT_MS, VER_TRID } from './probe/probe.js';
export type { ProbeOptions, TargetReport, VersionProbe, OfferProbe } from './probe/probe.js';
export { sendVer } from './probe/version-probe.js';
export type { ExchangeOutcome, Measured, ConnectOptions } from './probe/version-probe.js';
export { STATUSES, answeredAsMsnp, isTransient } from './codec/outcome.js';
export type { Outcome, ProbeStatus, UnexpectedReason } from './codec/outcome.js';
export { VerReplyClassifier, classifyLine, classifyChunks, buildVerRequest, couldBeMsnp, notMsnpReason } from './codec/classify.js';
export type { VerRequest } from './codec/classify.js';
export { LineReader, PAYLOAD_COMMANDS, payloadHeader } from './codec/lines.js';
export type { Frame, LineReaderOptions } from './codec/lines.js';
export { parseMessage, versionsIn } from './codec/message.js';
export type { Message } from './codec/message.js';
export { errorCodeName, isBusyCode } from './codec/error-codes.js';
export { parseRange, formatVersions, KNOWN_VERSIONS } from './codec/range.js';
export { parseTarget, parseHost, parsePort, formatTarget, DEFAULT_PORT } from './codec/target.js';
export type { Target } from './codec/target.js';
export { escapeText } from './codec/escape.js';
export { MsnpProbeError, isMsnpProbeError } from './errors.js';
export type { MsnpErrorCode } from './errors.js';
export type { LookupFn, ResolvedAddress } from './transport/resolve.js';
export { startEmulator } from './emulator/server.js';
export type { Emulator, EmulatorOptions, EmulatorStats } from './emulator/server.js';
export { PROFILES, PROFILE_NAMES, getProfile } from './emulator/profiles.js';
export type { Profile } from './emulator/profiles.js';
export { parseFault, FAULT_MODES } from './emulator/faults.js';
export type { Fault, FaultMode } from './emulator/faults.js';
export { EmulatorSession } from './emulator/session.js';
export * as replies from './emulator/replies.js';
export { buildDocument, SCHEMA_VERSION } from './report/json.js';
export type { ReportDocument, TargetDocument } from './report/json.js';
export { compareExpected } from './report/expect.js';
export type { Expectation } from './report/expect.js';
export { renderTarget, summaryLine, describeStatus } from './report/text.js';
