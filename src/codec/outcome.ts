/** Every status a probe can end in. Names are a public contract (JSON, exit codes, scripts). */
export const STATUSES = [
  'accepted',
  'rejected',
  'mismatch',
  'error',
  'closed',
  'reset',
  'timeout',
  'refused',
  'unreachable',
  'unexpected',
  // Only over the HTTP gateway (`--transport http`):
  'http-error',
  'http-invalid',
] as const;
export type ProbeStatus = (typeof STATUSES)[number];

export type UnexpectedReason = 'tls' | 'http' | 'banner' | 'binary' | 'too-long' | 'malformed' | 'text';

/**
 * What one VER exchange ended in, before timing and byte counts are added. `reply` is the raw first
 * reply line as a latin1 byte string (exact, unescaped), or null when no complete line came.
 */
export type Outcome =
  | { status: 'accepted'; reply: string; version: number; versions: number[]; cvr0: boolean }
  | { status: 'rejected'; reply: string; form: 'zero' | 'cvr0-only'; serverVersions: number[] }
  | {
      status: 'mismatch';
      reply: string;
      reason: 'trid' | 'version' | 'command';
      trId: number | null;
      versions: number[];
    }
  | { status: 'error'; reply: string; code: number; codeName: string | null; trId: number | null; busy: boolean }
  | { status: 'closed'; reply: string | null; out: string | null }
  | { status: 'reset'; reply: null }
  /** `resolve`: the name resolver did not answer within the deadline. */
  | { status: 'timeout'; reply: null; phase: 'connect' | 'reply' | 'resolve' }
  | { status: 'refused'; reply: null; errno: string }
  | { status: 'unreachable'; reply: null; errno: string; reason: 'dns' | 'network' | 'local' }
  | { status: 'unexpected'; reply: string | null; reason: UnexpectedReason }
  /** The gateway answered with an HTTP status other than 200. */
  | { status: 'http-error'; reply: null; httpStatus: number }
  /** What came back was not a usable gateway response. */
  | { status: 'http-invalid'; reply: null; reason: HttpInvalidReason };

/**
 * `not-http`: no HTTP response; `no-session`: 200 without an X-MSN-Messenger SessionID;
 * `too-large`: a body over the cap.
 */
export type HttpInvalidReason = 'not-http' | 'no-session' | 'too-large';

/** Statuses that show an MSNP server answered (as opposed to silence, network failure or another protocol). */
export function answeredAsMsnp(outcome: Outcome): boolean {
  switch (outcome.status) {
    case 'accepted':
    case 'rejected':
    case 'mismatch':
    case 'error':
      return true;
    case 'closed':
      return outcome.out !== null;
    default:
      return false;
  }
}

/** Outcomes worth another try on a flaky network or a busy server. */
export function isTransient(outcome: Outcome, bytesReceived: number): boolean {
  switch (outcome.status) {
    case 'timeout':
    case 'reset':
      return true;
    case 'closed':
      return bytesReceived === 0;
    case 'error':
      return outcome.busy;
    case 'unreachable':
      // Out of descriptors or ports here: another try may well get through.
      return outcome.reason === 'local';
    default:
      return false;
  }
}
