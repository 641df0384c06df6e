/**
 * `msnp-probe/codec`: the pure protocol code, usable without sockets (framing with caps, VER
 * classification, the deep conversation, messages). Ranges, targets and escaping live in src/input
 * and src/core now; they stay exported here because this subpath has promised them since 0.1.0.
 */
export { DeepConversation, parseRedirect, authMethodFor, buildCvrRequest, PROBE_HANDLE } from './deep.js';
export type { DeepResult, DeepOutcome, Redirect, StepOutcome, LoginStatus } from './deep.js';
export { isValidHandle, ACCOUNT_REFUSED_CODES } from './deep.js';
export type { SessionVerdict } from './deep.js';
export { VerConversation } from './conversation.js';
export type { Conversation, Step } from './conversation.js';
export { STATUSES, answeredAsMsnp, isTransient } from './outcome.js';
export type { Outcome, ProbeStatus, UnexpectedReason } from './outcome.js';
export {
  VerReplyClassifier,
  classifyLine,
  classifyChunks,
  buildVerRequest,
  couldBeMsnp,
  notMsnpReason,
} from './classify.js';
export type { VerRequest } from './classify.js';
export { LineReader, PAYLOAD_COMMANDS, payloadHeader } from './lines.js';
export type { Frame, LineReaderOptions } from './lines.js';
export { parseMessage, versionsIn } from './message.js';
export type { Message } from './message.js';
export { errorCodeName, isBusyCode } from './error-codes.js';
export { parseRange, formatVersions, KNOWN_VERSIONS, range } from '../input/range.js';
export { parseTarget, parseHost, parsePort, formatTarget, DEFAULT_PORT } from '../input/target.js';
export type { Target } from '../input/target.js';
export { escapeText } from '../core/escape.js';
