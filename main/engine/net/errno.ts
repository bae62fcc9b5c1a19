// Kernel errors as rtnetlink reports them: an errno, and sometimes an extended-ack message.
// iproute2 prints the message as "Error: <msg>." when there is one, else
// "RTNETLINK answers: <strerror>"; either way it exits 2.

export type Errno =
  | 'EPERM'
  | 'ENOENT'
  | 'ESRCH'
  | 'EACCES'
  | 'EEXIST'
  | 'EXDEV'
  | 'ENODEV'
  | 'ENOTDIR'
  | 'EISDIR'
  | 'EINVAL'
  | 'ERANGE'
  | 'EOPNOTSUPP'
  | 'EADDRNOTAVAIL'
  | 'ENETDOWN'
  | 'ENETUNREACH'
  | 'EHOSTUNREACH'
  | 'EBUSY';

/** glibc's strerror() texts. */
export const STRERROR: Readonly<Record<Errno, string>> = {
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  ESRCH: 'No such process',
  EACCES: 'Permission denied',
  EEXIST: 'File exists',
  EXDEV: 'Invalid cross-device link',
  ENODEV: 'No such device',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  EINVAL: 'Invalid argument',
  ERANGE: 'Numerical result out of range',
  EOPNOTSUPP: 'Operation not supported',
  EADDRNOTAVAIL: 'Cannot assign requested address',
  ENETDOWN: 'Network is down',
  ENETUNREACH: 'Network is unreachable',
  EHOSTUNREACH: 'No route to host',
  EBUSY: 'Device or resource busy',
};

/** A failed kernel operation. `extack` is the kernel's message without the final period. */
export class KernelError extends Error {
  readonly errno: Errno;
  readonly extack: string | undefined;
  constructor(errno: Errno, extack?: string) {
    super(extack ?? STRERROR[errno]);
    this.errno = errno;
    this.extack = extack;
  }
}

/** What iproute2 prints for a kernel error (without the newline). */
export function rtnlMessage(e: KernelError): string {
  return e.extack !== undefined ? `Error: ${e.extack}.` : `RTNETLINK answers: ${STRERROR[e.errno]}`;
}
