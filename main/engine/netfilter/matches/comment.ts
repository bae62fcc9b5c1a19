// -m comment --comment TEXT: matches everything; the kernel keeps at most 255 bytes.

import type { MatchModule } from '../types.ts';
import { saveString, xterr } from '../xtopt.ts';

export interface CommentData {
  text: string;
  seen: boolean;
}

/** The longest prefix of `s` that fits in `max` UTF-8 bytes (the kernel's char[256] - NUL). */
export function truncateUtf8(s: string, max: number): string {
  if (s.length * 3 <= max) return s; // no UTF-16 unit takes more than three bytes
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const n = c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c <= 0xdbff ? 4 : 3;
    if (bytes + n > max) return s.slice(0, i);
    bytes += n;
    if (n === 4) i++;
  }
  return s;
}

export const commentMatch: MatchModule<CommentData> = {
  kind: 'match',
  name: 'comment',
  options: { comment: 1 },
  create: () => ({ text: '', seen: false }),
  parse(d, _opt, args) {
    if (d.seen) throw xterr.once('comment', 'comment');
    d.seen = true;
    d.text = truncateUtf8(args[0], 255);
  },
  finish(d) {
    if (!d.seen) throw xterr.must('comment', 'comment');
  },
  save: (d) => ' --comment' + saveString(d.text),
  list: (d) => ` /* ${d.text} */`,
  match: () => true,
  why: () => '',
};
