// The ipset session's report buffer (libipset session.c, ipset_session_report): parsers and
// the kernel answer append warnings, notices and errors to one buffer, which the tool prints
// once. Its quirks are kept because they show in the output: an error in restore mode
// starts the buffer afresh with "Error in line N: " (so only the last error survives),
// while on the command line successive errors pile up line after line.

export type ReportType = 'none' | 'warning' | 'notice' | 'error';

const RANK: Readonly<Record<ReportType, number>> = { none: 0, warning: 1, notice: 2, error: 3 };

/** Thrown after a message was put in the report: the command stops there. */
export class SessionError extends Error {
  constructor() {
    super('ipset session error');
  }
}

export class Report {
  text = '';
  type: ReportType = 'none';
  /** Restore line the current command came from (0 on the command line). */
  lineno = 0;

  add(type: ReportType, msg: string): void {
    if (this.type !== 'none' && RANK[this.type] < RANK[type]) this.text = '';
    if (this.lineno !== 0 && type === 'error') this.text = `Error in line ${this.lineno}: `;
    this.text += msg + '\n';
    this.type = type;
  }

  error(msg: string): void {
    this.add('error', msg);
  }

  warn(msg: string): void {
    this.add('warning', msg);
  }

  notice(msg: string): void {
    this.add('notice', msg);
  }

  warningAsError(): void {
    this.type = 'error';
  }

  reset(): void {
    this.text = '';
    this.type = 'none';
  }

  snapshot(): [string, ReportType] {
    return [this.text, this.type];
  }

  restore(s: [string, ReportType]): void {
    [this.text, this.type] = s;
  }
}
