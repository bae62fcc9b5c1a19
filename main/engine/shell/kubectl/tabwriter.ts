// Go's text/tabwriter (the algorithm, not just "pad to the widest"): cells are tab-terminated,
// the text after a line's last tab is not part of any column, and a column's width is decided
// per block of consecutive lines that have a cell in that column. kubectl's tables use
// minwidth 6 and padding 3; `describe` uses minwidth 0 and padding 2.

export interface TabOptions {
  minwidth: number;
  padding: number;
}

export const TABLE: TabOptions = { minwidth: 6, padding: 3 };
export const DESCRIBE: TabOptions = { minwidth: 0, padding: 2 };

const width = (s: string) => [...s].length;

export function tabwrite(text: string, opts: TabOptions): string {
  const endsNl = text.endsWith('\n');
  const lines = (endsNl ? text.slice(0, -1) : text).split('\n').map((l) => l.split('\t'));
  const out: string[] = lines.map(() => '');
  const widths: number[] = [];

  const writeLines = (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const cells = lines[i];
      let s = '';
      for (let j = 0; j < cells.length; j++) {
        if (j < cells.length - 1) s += cells[j] + ' '.repeat(Math.max(0, widths[j] - width(cells[j])));
        else s += cells[j];
      }
      out[i] = s;
    }
  };

  const format = (line0: number, line1: number): void => {
    const column = widths.length;
    let start = line0;
    for (let i = line0; i < line1; i++) {
      if (column >= lines[i].length - 1) continue;
      writeLines(start, i);
      let w = opts.minwidth;
      let j = i;
      for (; j < line1 && column < lines[j].length - 1; j++) w = Math.max(w, width(lines[j][column]) + opts.padding);
      widths.push(w);
      format(i, j);
      widths.pop();
      start = j;
      i = j - 1;
    }
    writeLines(start, line1);
  };

  format(0, lines.length);
  return out.join('\n') + (endsNl ? '\n' : '');
}

/** Rows of cells -> kubectl's table text. */
export function table(rows: string[][]): string {
  return tabwrite(rows.map((r) => r.join('\t')).join('\n') + '\n', TABLE);
}
