// Command output as terminal text. The engine's outputs hold no escape sequences meant for a
// terminal, and one that got into a lab (a rule's comment, an imported file) must never drive the
// console's terminal: every control character but tab and newline is shown in caret notation as
// `cat -v` shows it (ESC as `^[`, CR as `^M`, BEL as `^G`, DEL as `^?`, the C1 controls as `M-^[`
// and so on), and newlines become CR LF.

export function terminalText(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, (c) => {
    const n = c.charCodeAt(0);
    if (n === 0x7f) return '^?';
    if (n >= 0x80) return n === 0x9f ? 'M-^?' : `M-^${String.fromCharCode(n - 0x80 + 0x40)}`;
    return `^${String.fromCharCode(n + 0x40)}`;
  }).replace(/\n/g, '\r\n');
}
