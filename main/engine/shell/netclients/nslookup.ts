// `nslookup NAME [SERVER]` as BIND's nslookup prints it, in two releases:
//
//   bind9.9   the dnsutils image of the Kubernetes docs (registry.k8s.io/e2e-test-images/
//             jessie-dnsutils, BIND 9.9.5) that the article ran: A queries only, no remarks about
//             the missing RA flag (one server, nothing to "try next").
//   bind9.18  Debian 12's dnsutils: after an A answer it asks AAAA for the same (CNAME-chased)
//             name, prints `;; Got recursion not available from S` for every reply without RA
//             when the server came from resolv.conf, and leaves out the Server/Address header of
//             reverse and AAAA lookups. Checked line for line against the real tool
//             (test/kernel/netclients-format.test.ts).
//
// The search walk is BIND's (dighost.c): a name with fewer dots than ndots goes through each
// search domain, then as is; otherwise (or with a trailing dot) only as is; only NXDOMAIN moves
// on to the next name.

import { fqdn, makeQuery, RCODE, rdataText, typeCode, TYPE_CODES, type DnsMessage, type ResourceRecord } from '../../kube/dns/message.ts';
import { reverseName } from '../../kube/dns/records.ts';
import { fail, type CommandResult } from '../types.ts';
import { exchangeErrorText, isIPv4Literal, randomId, type NetEnv } from './common.ts';

export type NslookupProfile = 'bind9.9' | 'bind9.18';

export interface NslookupRequest {
  name: string;
  /** SERVER as typed on the command line; absent means resolv.conf's first nameserver. */
  server?: string;
  /** The query type; `A` unless -type= was given. */
  type: number;
  /** No -type= given: bind9.18 then adds the AAAA lookup. */
  defaultLookups: boolean;
  port: number;
  timeout?: number;
  tries?: number;
  search: boolean;
  ndots?: number;
  recurse: boolean;
  /** Lines nslookup printed while reading its options (`*** Invalid option: x`). */
  notes: string;
}

const RTYPE_TEXT: Record<number, string> = {
  1: 'internet address = ',
  2: 'nameserver = ',
  5: 'canonical name = ',
  6: 'soa = ',
  12: 'name = ',
  13: 'hinfo = ',
  15: 'mail exchanger = ',
  16: 'text = ',
  28: 'has AAAA address ',
  33: 'service = ',
};

/** Options of the command line (`-type=srv`, `-port=5353`, `-norecurse`...), as setoption() reads them. */
export function parseNslookup(argv: string[]): NslookupRequest | CommandResult {
  const req: NslookupRequest = { name: '', type: TYPE_CODES.A, defaultLookups: true, port: 53, search: true, recurse: true, notes: '' };
  let haveLookup = false;
  for (const arg of argv.slice(1)) {
    if (arg.startsWith('-') && arg.length > 1) {
      const opt = arg.slice(1);
      const lower = opt.toLowerCase();
      const val = opt.slice(opt.indexOf('=') + 1);
      const setType = (): void => {
        const t = typeCode(val);
        if (t === undefined) req.notes += `unknown query type: ${val}\n`;
        else {
          req.type = t;
          req.defaultLookups = false;
        }
      };
      if (/^(type|ty|querytype|query|qu|q)=/.test(lower)) setType();
      else if (/^(port|po)=/.test(lower)) req.port = Number(val) || 53;
      else if (/^(timeout|t)=/.test(lower)) req.timeout = Number(val);
      else if (/^(retry|ret)=/.test(lower)) req.tries = Number(val);
      else if (/^ndots=/.test(lower)) req.ndots = Number(val);
      else if (/^(class|cl)=/.test(lower)) {
        if (!/^(in|ch|hs|any)$/i.test(val)) req.notes += `unknown query class: ${val}\n`;
      } else if (lower.startsWith('norec')) req.recurse = false;
      else if (lower.startsWith('rec')) req.recurse = true;
      else if (lower.startsWith('nosea') || lower.startsWith('nodef')) req.search = false;
      else if (lower.startsWith('sea') || lower.startsWith('def')) req.search = true;
      else if (/^(domain|do)=/.test(lower) || /^(no)?(vc|deb|d2|fail|sil)/.test(lower)) {
        /* accepted, no effect in the lab */
      } else req.notes += `*** Invalid option: ${opt}\n`;
    } else if (arg === '-') haveLookup = true;
    else if (!haveLookup) {
      haveLookup = true;
      req.name = arg;
    } else req.server = arg;
  }
  if (!req.name) return fail('nslookup: interactive mode is not available in the lab console', 1, req.notes);
  return req;
}

interface Lookup {
  textname: string;
  type: number;
  /** Walk the search list (a fresh lookup); the AAAA follow-up does not. */
  newSearch: boolean;
}

/** BIND's order of names for a lookup (dighost.c setup_lookup/next_origin). */
export function bindCandidates(name: string, search: string[], ndots: number, useSearch = true): string[] {
  const dots = (name.match(/\./g) ?? []).length;
  if (name.endsWith('.') || !useSearch || dots >= ndots) return [fqdn(name)];
  return [...search.map((d) => fqdn(`${name}.${d.replace(/\.$/, '')}`)), fqdn(name)];
}

function bare(name: string): string {
  return name === '.' ? '.' : name.replace(/\.$/, '');
}

// printsection(): records grouped by owner name, then by type, in order of first appearance.
function printSection(records: ResourceRecord[], profile: NslookupProfile, answerSection: boolean): string {
  const groups: { name: string; sets: { type: string; rrs: ResourceRecord[] }[] }[] = [];
  for (const rr of records) {
    let g = groups.find((x) => x.name.toLowerCase() === rr.name.toLowerCase());
    if (!g) groups.push((g = { name: rr.name, sets: [] }));
    let set = g.sets.find((x) => x.type === rr.data.type);
    if (!set) g.sets.push((set = { type: rr.data.type, rrs: [] }));
    set.rrs.push(rr);
  }
  let out = '';
  for (const g of groups) {
    for (const set of g.sets) {
      for (const rr of set.rrs) {
        const d = rr.data;
        const isAddr = d.type === 'A' || (d.type === 'AAAA' && profile === 'bind9.18');
        if (isAddr && answerSection) out += `Name:\t${bare(g.name)}\nAddress: ${rdataText(d)}\n`;
        else if (d.type === 'SOA') {
          out += `${bare(g.name)}\n\torigin = ${bare(d.mname)}\n\tmail addr = ${bare(d.rname)}\n\tserial = ${d.serial}\n\trefresh = ${d.refresh}\n`;
          out += `\tretry = ${d.retry}\n\texpire = ${d.expire}\n\tminimum = ${d.minimum}\n`;
        } else {
          const code = d.type === 'RAW' ? d.code : TYPE_CODES[d.type];
          out += `${bare(g.name)}\t${RTYPE_TEXT[code] ?? (code <= 41 ? `rtype_${code} = ` : `rdata_${code} = `)}${rdataText(d)}\n`;
        }
      }
    }
  }
  return out;
}

/** Follows the CNAMEs of an answer from `name` (chase_cnamechain): the AAAA follow-up asks the end. */
function chaseCnames(reply: DnsMessage, name: string): string {
  let cur = fqdn(name);
  for (let i = 0; i < reply.answer.length; i++) {
    const c = reply.answer.find((r) => r.data.type === 'CNAME' && r.name.toLowerCase() === cur.toLowerCase());
    if (!c || c.data.type !== 'CNAME') break;
    cur = c.data.target;
  }
  return cur;
}

export interface NslookupEnv extends NetEnv {
  profile?: NslookupProfile;
}

/** Runs nslookup: the queries go through env.ask (each one a UDP packet in the lab). */
export function nslookup(argv: string[], _stdin: string, env: NslookupEnv): CommandResult {
  const parsed = parseNslookup(argv);
  if ('code' in parsed) return parsed;
  const req = parsed;
  const profile = env.profile ?? 'bind9.9';
  const modern = profile === 'bind9.18';
  let out = req.notes;
  let server = req.server ?? env.resolvConf.nameservers[0] ?? '127.0.0.1';
  if (req.server !== undefined && !isIPv4Literal(req.server)) {
    // A server given by name is looked up with the system resolver first.
    return { stdout: out, stderr: `nslookup: couldn't get address for '${req.server}': not found\n`, code: 1, changed: false };
  }
  const userarg = req.server ?? server;
  server = server.trim();
  const checkRa = req.server === undefined;
  const ndots = req.ndots ?? env.resolvConf.ndots;
  const tries = Math.max(1, req.tries ?? 3);
  let queryError = 1;
  let printError = 0;
  let aNoAnswer = false;

  const first: Lookup = isIPv4Literal(req.name)
    ? { textname: reverseName(req.name), type: TYPE_CODES.PTR, newSearch: true }
    : { textname: req.name, type: req.type, newSearch: true };
  const queue: Lookup[] = [first];

  const printMessage = (lookup: Lookup, qname: string, reply: DnsMessage): void => {
    queryError = 0;
    const headerWanted = !modern || !req.defaultLookups || lookup.type === TYPE_CODES.A;
    if (headerWanted) out += `Server:\t\t${userarg}\nAddress:\t${server}#${req.port}\n\n`;
    if (reply.rcode !== RCODE.NOERROR) {
      const shown = !modern && reply.rcode === RCODE.NXDOMAIN ? lookup.textname : bare(qname);
      out += `** server can't find ${shown}: ${rcodeText(reply.rcode)}\n`;
      printError = 1;
      return;
    }
    if (modern && req.defaultLookups && lookup.type === TYPE_CODES.A) {
      queue.push({ textname: bare(chaseCnames(reply, qname)), type: TYPE_CODES.AAAA, newSearch: false });
    }
    if (!reply.aa && (!modern || !req.defaultLookups || lookup.type === TYPE_CODES.A)) out += 'Non-authoritative answer:\n';
    if (reply.answer.length) out += printSection(reply.answer, profile, true);
    else if (!modern) out += `*** Can't find ${lookup.textname}: No answer\n`;
    else if (req.defaultLookups && lookup.type === TYPE_CODES.A) aNoAnswer = true;
    else if (!req.defaultLookups || (lookup.type === TYPE_CODES.AAAA && aNoAnswer)) out += `*** Can't find ${lookup.textname}: No answer\n`;
    const noAuthList = modern ? [TYPE_CODES.A, TYPE_CODES.AAAA] : [TYPE_CODES.A];
    if (!reply.aa && !noAuthList.includes(lookup.type)) {
      out += '\nAuthoritative answers can be found from:\n';
      out += printSection(reply.authority, profile, false) + printSection(reply.additional, profile, false);
    }
  };

  lookups: while (queue.length) {
    const lookup = queue.shift() as Lookup;
    const names = lookup.newSearch ? bindCandidates(lookup.textname, env.resolvConf.search, ndots, req.search) : [fqdn(lookup.textname)];
    for (let i = 0; i < names.length; i++) {
      let reply: DnsMessage | undefined;
      for (let attempt = 0; attempt < tries && !reply; attempt++) {
        const outcome = env.ask(server, makeQuery(randomId(env.random), names[i], lookup.type, { rd: req.recurse }));
        if (outcome.kind === 'reply') reply = outcome.reply;
        else if (modern) out += `;; communications error to ${server}#${req.port}: ${exchangeErrorText(outcome)}\n`;
      }
      if (!reply) {
        out += modern ? ';; no servers could be reached\n' : ';; connection timed out; no servers could be reached\n';
        break lookups;
      }
      if (modern) {
        if (reply.rcode === RCODE.SERVFAIL) out += `;; Got SERVFAIL reply from ${server}\n`;
        else if (checkRa && !reply.ra && req.recurse) out += `;; Got recursion not available from ${server}\n`;
      }
      if (reply.rcode === RCODE.NXDOMAIN && i < names.length - 1) continue;
      printMessage(lookup, names[i], reply);
      break;
    }
  }
  out += '\n';
  return { stdout: out, stderr: '', code: queryError | printError, changed: false };
}

function rcodeText(rcode: number): string {
  const names = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE'];
  if (rcode < names.length) return names[rcode];
  if (rcode < 16) return `RESERVED${rcode}`;
  return rcode === 16 ? 'BADVERS' : `?${rcode}`;
}
