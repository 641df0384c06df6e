/**
 * Names for MSNP numeric error codes (from libpurple's error.c, MSNPSharp and the protocol pages).
 * Unknown codes still get reported by number; the name is only a reading aid.
 */
const NAMES: Readonly<Record<number, string>> = {
  200: 'syntax error',
  201: 'invalid parameter',
  205: 'unknown user',
  206: 'domain name missing',
  207: 'already logged in',
  208: 'invalid username',
  209: 'invalid friendly name',
  210: 'list full',
  215: 'already on list',
  216: 'not on list',
  217: 'user not online',
  218: 'already in that mode',
  219: 'user is in the opposite list',
  223: 'too many groups',
  224: 'invalid group',
  225: 'user not in group',
  229: 'group name too long',
  230: 'cannot remove group 0',
  231: 'invalid group',
  280: 'switchboard failed',
  281: 'transfer to switchboard failed',
  300: 'required field missing',
  302: 'not logged in',
  500: 'internal server error / service unavailable',
  501: 'database server error',
  502: 'command disabled',
  510: 'file operation failed',
  520: 'memory allocation failed',
  540: 'challenge response failed',
  600: 'server is busy',
  601: 'server is unavailable',
  602: 'peer name server is down',
  603: 'database connection failed',
  604: 'server is going down',
  605: 'server unavailable',
  707: 'could not create connection',
  710: 'bad CVR parameters',
  711: 'write is blocking',
  712: 'session is overloaded',
  713: 'calling too rapidly',
  714: 'too many sessions',
  715: 'not expected',
  717: 'bad friend file',
  731: 'not expected',
  800: 'changing too rapidly',
  910: 'server too busy',
  911: 'authentication failed',
  912: 'server too busy',
  913: 'not allowed when offline',
  914: 'server unavailable',
  915: 'server unavailable',
  916: 'server unavailable',
  917: 'authentication failed',
  918: 'server too busy',
  919: 'server too busy',
  920: 'not accepting new users',
  921: 'server too busy',
  922: 'server too busy',
  923: 'kids passport without parental consent',
  924: 'passport account not yet verified',
  928: 'bad ticket',
};

export function errorCodeName(code: number): string | null {
  return NAMES[code] ?? null;
}

/**
 * Busy, unavailable and rate-limit codes: a reason to back off from a server and try again later.
 * 5xx, 6xx and the 91x-92x busy codes (docs/PROTOCOL.md), and 712-714 (session overloaded, calling too
 * rapidly, too many sessions), which are a server asking to be called less often.
 */
export function isBusyCode(code: number): boolean {
  return (
    (code >= 500 && code < 700) ||
    (code >= 712 && code <= 714) ||
    (code >= 910 && code <= 922 && code !== 911 && code !== 913 && code !== 917)
  );
}
