// Text the ipset tool prints for sets and elements: `ipset list` (plain), `ipset save` /
// `-o save`, `-o xml`, the element part of test messages, and the -sorted order. Layout and
// option order follow libipset's session.c / print.c and the type definitions of v7.17:
//   Name/Type/Revision/Header/Size in memory/References/Number of entries/Members,
//   a blank line before every set but the first, "Members:" left out with -terse.
// Member order is the kernel's (bucket order, see hash-table.ts); -sorted reorders members
// of hash types with the tool's own comparator (bystrcmp).

import { formatIPv4 } from '../../net/ipv4.ts';
import { icmpName, protoName } from './netdb.ts';
import type { AdtAttrs, HeaderView, MemberView, SetTypeName, SetView } from './types.ts';

export type OutputMode = 'plain' | 'save' | 'xml';

function hex8(n: number): string {
  return '0x' + (n >>> 0).toString(16).padStart(8, '0');
}

/** The create options a header prints, in the order of the type's create arguments. */
export function headerOptions(h: HeaderView): [string, string | null][] {
  const o: [string, string | null][] = [];
  const ext = (): void => {
    if (h.timeout !== undefined) o.push(['timeout', String(h.timeout)]);
    if (h.counters) o.push(['counters', null]);
    if (h.comment) o.push(['comment', null]);
    if (h.skbinfo) o.push(['skbinfo', null]);
  };
  if (h.type === 'list:set') {
    o.push(['size', String(h.size)]);
    ext();
    return o;
  }
  o.push(['family', h.family], ['hashsize', String(h.hashsize)], ['maxelem', String(h.maxelem)]);
  if (h.type === 'hash:ip' && h.netmask !== undefined) o.push(['netmask', String(h.netmask)]);
  if (h.type === 'hash:ip' && h.bitmask !== undefined) o.push(['bitmask', formatIPv4(h.bitmask)]);
  ext();
  o.push(['bucketsize', String(h.bucketsize)], ['initval', hex8(h.initval ?? 0)]);
  if (h.type === 'hash:ip,port' && h.netmask !== undefined) o.push(['netmask', String(h.netmask)]);
  if (h.type === 'hash:ip,port' && h.bitmask !== undefined) o.push(['bitmask', formatIPv4(h.bitmask)]);
  return o;
}

function protoPort(proto: number, port: number, portTo?: number): string {
  const name = protoName(proto) ?? String(proto);
  if (proto === 1) return `${name}:${icmpName(port) ?? `${port >>> 8}/${port & 0xff}`}`;
  return `${name}:${port}${portTo !== undefined ? `-${portTo}` : ''}`;
}

/** An address as getnameinfo prints it: numeric, or with -resolve the name /etc/hosts
 *  gives it (the lab resolves nothing else, as the reference machine in its namespace). */
function hostText(ip: number, resolve: boolean): string {
  return resolve && ip === 0x7f000001 ? 'localhost' : formatIPv4(ip);
}

function ipText(ip: number, cidr: number | undefined, resolve = false): string {
  return hostText(ip, resolve) + (cidr !== undefined && cidr !== 32 ? `/${cidr}` : '');
}

/** The element itself as listings print it. */
export function memberElem(type: SetTypeName, m: MemberView, resolve = false): string {
  if (type === 'list:set') return m.name ?? '';
  let s = ipText(m.ip ?? 0, m.cidr, resolve);
  if (type === 'hash:ip,port' || type === 'hash:net,port') s += ',' + protoPort(m.proto ?? 0, m.port ?? 0);
  return s;
}

/** The element of an add/del/test command as the tool echoes it in test messages
 *  (ipset_print_elem on the parsed data: ranges and prefixes as given). */
export function attrsElem(type: SetTypeName, a: AdtAttrs): string {
  if (type === 'list:set') {
    // The tool looks for "before" in the wrong flags word: it always says "after".
    return (a.name ?? '') + (a.nameref !== undefined ? ` after ${a.nameref}` : '');
  }
  let s = ipText(a.ip ?? 0, a.cidr);
  if (a.ipTo !== undefined) s += '-' + ipText(a.ipTo, a.cidr);
  if (type === 'hash:ip,port' || type === 'hash:net,port') s += ',' + protoPort(a.proto ?? 6, a.port ?? 0, a.portTo);
  return s;
}

/** Extension options after a member, in the order of the type's add arguments. */
function memberOptions(m: MemberView): [string, string | null][] {
  const o: [string, string | null][] = [];
  if (m.timeout !== undefined) o.push(['timeout', String(m.timeout)]);
  if (m.nomatch) o.push(['nomatch', null]);
  if (m.packets !== undefined) o.push(['packets', m.packets.toString()]);
  if (m.bytes !== undefined) o.push(['bytes', m.bytes.toString()]);
  if (m.comment !== undefined) o.push(['comment', `"${m.comment}"`]);
  if (m.skbmark !== undefined) {
    const mask = m.skbmarkmask ?? 0xffffffff;
    const v = '0x' + (m.skbmark >>> 0).toString(16) + (mask === 0xffffffff ? '' : '/0x' + (mask >>> 0).toString(16));
    o.push(['skbmark', v]);
  }
  if (m.skbprio !== undefined) o.push(['skbprio', `${(m.skbprio >>> 16).toString(16)}:${(m.skbprio & 0xffff).toString(16)}`]);
  if (m.skbqueue !== undefined) o.push(['skbqueue', String(m.skbqueue)]);
  return o;
}

function optsText(opts: [string, string | null][], mode: OutputMode): string {
  let s = '';
  for (const [k, v] of opts) {
    if (mode === 'xml') s += v === null ? `<${k}/>` : `<${k}>${v}</${k}>`;
    else s += v === null ? ` ${k}` : ` ${k} ${v}`;
  }
  return s;
}

export interface ListFlags {
  mode: OutputMode;
  terse: boolean; // -t: headers only
  names: boolean; // -n: names only
  sorted: boolean;
  resolve: boolean;
}

/** One set as list/save print it. `first` is false for every set after the first of a
 *  listing (plain mode then starts with a blank line). */
export function formatSet(v: SetView, f: ListFlags, first: boolean): string {
  const h = v.header;
  // -name and -terse do not apply to save mode.
  if (f.names && f.mode !== 'save') return f.mode === 'xml' ? `<ipset name="${h.name}"/>\n` : `${h.name}\n`;
  const terse = f.terse && f.mode !== 'save';
  let s: string;
  const opts = headerOptions(h);
  if (f.mode === 'save') {
    s = `create ${h.name} ${h.type}${optsText(opts, 'save')}\n`;
  } else if (f.mode === 'plain') {
    s =
      `${first ? '' : '\n'}Name: ${h.name}\nType: ${h.type}\nRevision: ${h.revision}\nHeader:${optsText(opts, 'plain')}\n` +
      `Size in memory: ${h.memsize}\nReferences: ${h.references}\nNumber of entries: ${h.elements}\n` +
      (terse ? '' : 'Members:\n');
  } else {
    s =
      `<ipset name="${h.name}">\n<type>${h.type}</type>\n<revision>${h.revision}</revision>\n` +
      `<header>${optsText(opts, 'xml')}\n<memsize>${h.memsize}</memsize>\n<references>${h.references}</references>\n` +
      `<numentries>${h.elements}</numentries>\n` +
      (terse ? '</header>\n' : '</header>\n<members>\n');
  }
  if (!terse) {
    let lines = v.members.map((m) => {
      const elem = memberElem(h.type, m, f.resolve);
      const ext = optsText(memberOptions(m), f.mode);
      if (f.mode === 'save') return `add ${h.name} ${elem}${ext}\n`;
      if (f.mode === 'xml') return `<member><elem>${elem}</elem>${ext}</member>\n`;
      return `${elem}${ext}\n`;
    });
    if (f.sorted && h.type.startsWith('hash:')) {
      const skip = f.mode === 'save' ? h.name.length + 5 : f.mode === 'xml' ? 14 : 0;
      lines = lines.slice().sort((a, b) => bystrcmp(a.slice(skip), b.slice(skip), f.resolve));
    }
    s += lines.join('');
  }
  if (f.mode === 'xml') s += terse ? '</ipset>\n' : '</members>\n</ipset>\n';
  return s;
}

// -------------------------------------------------------------------------------------------
// The tool's sort comparator (session.c bystrcmp): hexadecimal number runs compared as
// numbers, prefixes ordered after their addresses, other words by length then bytes.

function strtol16(s: string, i: number): { n: number; end: number } {
  let j = i;
  while (j < s.length && ' \t\n\v\f\r'.includes(s[j])) j++;
  let neg = false;
  if (s[j] === '+' || s[j] === '-') {
    neg = s[j] === '-';
    j++;
  }
  if (s[j] === '0' && (s[j + 1] === 'x' || s[j + 1] === 'X') && /[0-9a-fA-F]/.test(s[j + 2] ?? '')) j += 2;
  const start = j;
  let n = 0;
  while (j < s.length && /[0-9a-fA-F]/.test(s[j])) n = n * 16 + parseInt(s[j++], 16);
  if (j === start) return { n: 0, end: i };
  return { n: neg ? -n : n, end: j };
}

function strcspn(s: string, i: number, chars: string): number {
  let j = i;
  while (j < s.length && !chars.includes(s[j])) j++;
  return j - i;
}

function cmpBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function bystrcmp(x: string, y: string, resolve = false): number {
  if (resolve) return cmpBytes(x, y);
  let i = 0;
  let j = 0;
  let neg = 1;
  while (i < x.length && j < y.length) {
    const a = strtol16(x, i);
    const b = strtol16(y, j);
    if (a.end === i || b.end === j) {
      const n1 = strcspn(x, i, ':,');
      const n2 = strcspn(y, j, ':,');
      if (n1 !== 0 || n2 !== 0) {
        if (n1 === n2) {
          const c = cmpBytes(x.slice(i, i + n1), y.slice(j, j + n1));
          if (c === 0) {
            i += n1 + 1;
            j += n1 + 1;
            neg = 1;
            continue;
          }
          return c;
        }
        return n1 < n2 ? -1 : 1;
      }
      return cmpBytes(x.slice(i), y.slice(j));
    }
    if (a.n !== b.n) return neg * (a.n - b.n);
    const s1 = x[a.end];
    const s2 = y[b.end];
    if (s1 === '/' || s2 === '/') {
      if (s1 === s2) neg = s1 === '/' ? -1 : 1;
      else if (s1 === '/') return 1;
      else return -1;
    }
    i = a.end + 1;
    j = b.end + 1;
    if (x[i] === ':' || y[j] === ':') {
      if (x[i] === y[j]) {
        i++;
        j++;
      } else if (x[i] === ':') return -1;
      else return 1;
    }
  }
  return i < x.length ? 1 : j < y.length ? -1 : 0;
}
