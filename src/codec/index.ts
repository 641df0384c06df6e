/**
 * `msnp-probe/codec`: the pure protocol code, usable without sockets (framing with caps, VER
 * classification, the deep conversation, messages, ranges, targets, escaping).
 */
export { DeepConversation, parseRedirect, authMethodFor, buildCvrRequest, PROBE_HANDLE } from './deep.js';
export type { DeepResult, DeepOutcome, Redirect, StepOutcome, LoginStatus } from './deep.js';
export { isValidHandle, ACCOUNT_REFUSED_CODES } from './deep.js';
export type { SessionVerdict } from './deep.js';
export { VerConversation } from './conversation.js';
export type { Conversation, Step } from './conversation.js';
export { STATUSES, answeredAsMsnp, isTransient } from './outcome.js';
export type { Outcome, ProbeStatus, UnexpectedReason } from './outcome.js';
export { VerReplyClassifier, classifyLine, classifyChunks, buildVerRequest, couldBeMsnp, notMsnpReason } from './classify.js';
export type { VerRequest } from './classify.js';
export { LineReader, PAYLOAD_COMMANDS, payloadHeader } from './lines.js';
export type { Frame, LineReaderOptions } from './lines.js';
export { parseMessage, versionsIn } from './message.js';
export type { Message } from './message.js';
export { errorCodeName, isBusyCode } from './error-codes.js';
export { parseRange, formatVersions, KNOWN_VERSIONS, range } from './range.js';
export { parseTarget, parseHost, parsePort, formatTarget, DEFAULT_PORT } from './target.js';
export type { Target } from './target.js';
export { escapeText } from './escape.js';
