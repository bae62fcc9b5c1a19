// The three ways iptables 1.8.9 (nf_tables) reports a failure, as error classes the command
// layer formats: a parameter problem (IptablesError, status 2, "Try `iptables -h' ..."), a
// refused operation found in userspace ("iptables: No chain/target/match by that name.",
// status 1) and a refusal by the kernel when the batch is committed (status 4).

import { IptablesError } from './types.ts';

export const XT_VERSION = 'v1.8.9 (nf_tables)';

/** Printed without the "iptables v1.8.9 (nf_tables): " prefix, then the try-help lines
 *  (iptables prints "Bad argument `x'" this way). */
export class BareError extends IptablesError {}

/** A refusal found before the kernel is asked (nft_strerror's texts). */
export type OpErrno = 'ENOENT' | 'EEXIST' | 'E2BIG' | 'EINVAL' | 'EBADRULE';

export class OpError extends IptablesError {
  readonly errno: OpErrno;
  /** The text without program name and final period, e.g. "Chain already exists". */
  readonly text: string;
  constructor(errno: OpErrno, text: string) {
    super(`iptables: ${text}.${errno === 'EINVAL' ? " Run `dmesg' for more information." : ''}`, 1);
    this.errno = errno;
    this.text = text;
  }
}

export const noSuchChain = (): OpError => new OpError('ENOENT', 'No chain/target/match by that name');
export const badRule = (): OpError => new OpError('EBADRULE', 'Bad rule (does a matching rule exist in that chain?)');

/** The kernel refused one message of the batch. */
export type KernelOp =
  | 'RULE_APPEND' | 'RULE_INSERT' | 'RULE_REPLACE' | 'RULE_DELETE' | 'CHAIN_DEL' | 'CHAIN_USER_ADD' | 'CHAIN_ZERO'
  | 'CHAIN_RENAME';

export const KERNEL_ERRNO = {
  EINVAL: 'Invalid argument',
  EMLINK: 'Too many links',
  EBUSY: 'Device or resource busy',
  ENOENT: 'No such file or directory',
  EOPNOTSUPP: 'Operation not supported',
} as const;

export interface KernelFailure {
  op: KernelOp;
  errno: keyof typeof KERNEL_ERRNO;
  /** "rule in chain INPUT", "chain X" */
  object: string;
  /** iptables-restore input line of the failing command, when known. */
  line?: number;
}

export function kernelFailureText(f: KernelFailure): string {
  return `${f.op} failed (${KERNEL_ERRNO[f.errno]}): ${f.object}`;
}

export class KernelError extends IptablesError {
  readonly failures: KernelFailure[];
  constructor(failures: KernelFailure[]) {
    // iptables prints each failure after a space ("... (nf_tables):  RULE_APPEND failed ...").
    super(failures.map((f) => ` ${kernelFailureText(f)}`).join('\n'), 4);
    this.failures = failures;
  }
}

/** A parameter problem preceded by a notice line iptables prints first (REJECT's
 *  "--reject-with echo-reply no longer supported"). */
export class NotedError extends IptablesError {
  readonly note: string;
  constructor(note: string, message: string) {
    super(message, 2);
    this.note = note;
  }
}
