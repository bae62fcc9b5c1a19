// xterm.js under the app's CSP (`style-src 'self'`, which must stay as it is). Two things xterm 6's
// DOM renderer does are refused by it, and are done through the CSSOM instead (which the CSP does
// not govern):
//  - its generated CSS (cell sizes, theme colours, scrollbar) goes into <style> elements it makes
//    while Terminal.open builds its DOM: withAdoptedStyles hands it, for that time, a hidden
//    stand-in whose textContent goes into a constructed stylesheet adopted by the document
//    (removing the stand-in drops the sheet);
//  - a cell drawn with an RGB colour (the selected cells' opaque background) gets a style
//    *attribute* (setAttribute('style')): cssomCellStyles makes its row factory set the same
//    declarations through element.style.
// The end-to-end tests listen for securitypolicyviolation events while consoles are used.

import type { Terminal } from '@xterm/xterm';

export function withAdoptedStyles<T>(fn: () => T): T {
  const doc = document;
  const create = Document.prototype.createElement;
  const patched = function (this: Document, tag: string, options?: ElementCreationOptions): HTMLElement {
    if (this === doc && String(tag).toLowerCase() === 'style') return standIn(doc, create);
    return create.call(this, tag, options);
  };
  Object.defineProperty(doc, 'createElement', { value: patched, configurable: true, writable: true });
  try {
    return fn();
  } finally {
    delete (doc as unknown as { createElement?: unknown }).createElement;
  }
}

function standIn(doc: Document, create: typeof Document.prototype.createElement): HTMLElement {
  const el = create.call(doc, 'span');
  el.hidden = true;
  el.dataset.adoptedStyle = '';
  const sheet = new CSSStyleSheet();
  doc.adoptedStyleSheets = [...doc.adoptedStyleSheets, sheet];
  let text = '';
  Object.defineProperty(el, 'textContent', {
    configurable: true,
    get: () => text,
    set: (v: unknown) => {
      text = v === null || v === undefined ? '' : String(v);
      sheet.replaceSync(text);
    },
  });
  const remove = el.remove.bind(el);
  el.remove = () => {
    doc.adoptedStyleSheets = doc.adoptedStyleSheets.filter((s) => s !== sheet);
    remove();
  };
  return el;
}

interface RowFactory { _addStyle(element: HTMLElement, style: string): void }

/**
 * Makes the DOM renderer's row factory of `term` (after open) write cell styles through the
 * CSSOM. Its prototype is shared by every terminal: patched once. False when xterm's internals
 * are not where this version has them (the CSP test then fails on a selection).
 */
export function cssomCellStyles(term: Terminal): boolean {
  const core = (term as unknown as { _core?: { _renderService?: { _renderer?: { value?: { _rowFactory?: RowFactory } } } } })._core;
  const factory = core?._renderService?._renderer?.value?._rowFactory;
  const proto = factory ? (Object.getPrototypeOf(factory) as RowFactory & { __kplCssom?: boolean }) : undefined;
  if (!proto || typeof proto._addStyle !== 'function') return false;
  if (!proto.__kplCssom) {
    proto._addStyle = (element: HTMLElement, style: string): void => {
      element.style.cssText = `${element.style.cssText}${style};`;
    };
    proto.__kplCssom = true;
  }
  return true;
}
