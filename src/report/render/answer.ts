import { isBusyCode } from '../../codec/error-codes.js';

/** The parts of a deep login result an answer is told apart by. */
export interface DeepAnswerParts {
  session: string;
  login: string;
  code?: number | undefined;
}

/** The parts of a probe (fresh or read from a report) an answer is told apart by. */
export interface AnswerParts {
  status: string;
  code?: number | undefined;
  deep?: DeepAnswerParts | undefined;
}

/** How an MSNP error code reads everywhere: `error 600`. */
export function errorLabel(code: number | string): string {
  return `error ${code}`;
}

/**
 * One probe's answer as a comparable label: the status, `error 600` for errors, and with a deep
 * result the session verdict and login outcome too (`accepted/confirmed/notification`,
 * `accepted/claimed-only/error 911`), since an accepted VER alone says nothing of the login.
 */
export function answerLabel(p: AnswerParts, withDeep = true): string {
  const base = p.status === 'error' && p.code !== undefined ? errorLabel(p.code) : p.status;
  if (!withDeep || !p.deep) return base;
  const login = p.deep.login === 'error' && p.deep.code !== undefined ? errorLabel(p.deep.code) : p.deep.login;
  return `${base}/${p.deep.session}/${login}`;
}

/** A login step that stalled, was reset or met a busy code says nothing lasting about the server. */
export function deepTransient(deep: DeepAnswerParts | undefined): boolean {
  if (!deep) return false;
  if (deep.login === 'timeout' || deep.login === 'reset') return true;
  return deep.login === 'error' && deep.code !== undefined && isBusyCode(deep.code);
}
