// The API server's refusals, as kubectl receives them: a reason (`NotFound`, `AlreadyExists`,
// `Invalid`, `BadRequest`...) and a message. kubectl prints an Invalid one as it is and the
// others as `Error from server (Reason): ...`.

import { formatInvalid, type FieldError } from './validate.ts';

export type StatusReason = 'NotFound' | 'AlreadyExists' | 'Invalid' | 'BadRequest' | 'Conflict' | 'Forbidden' | 'MethodNotAllowed';

export class StatusError extends Error {
  constructor(
    readonly reason: StatusReason,
    message: string,
    readonly causes: FieldError[] = [],
  ) {
    super(message);
  }
}

/** `services "x" not found` (plural resource name, as the API server words it). */
export function notFound(plural: string, name: string, group = ''): StatusError {
  return new StatusError('NotFound', `${plural}${group ? '.' + group : ''} ${JSON.stringify(name)} not found`);
}

export function alreadyExists(plural: string, name: string, group = ''): StatusError {
  return new StatusError('AlreadyExists', `${plural}${group ? '.' + group : ''} ${JSON.stringify(name)} already exists`);
}

export function invalidError(kind: string, name: string, errs: FieldError[]): StatusError {
  return new StatusError('Invalid', formatInvalid(kind, name, errs), errs);
}
