// A child process for the crash-safety test: applies a stream of changes to one stored lab and
// prints "ack N" after each change returned (was committed). The test SIGKILLs it at random.
// Usage: node --import tsx crash-child.ts DB
import { writeSync } from 'node:fs';
import { LabService } from '../../main/service/lab-service.ts';

const svc = new LabService({ db: process.argv[2] });
if (!svc.list().some((l) => l.name === 'crash')) {
  svc.create('crash');
  svc.addHost('crash', 'h', []);
}
const doc = svc.doc('crash');
// Change i adds LAN l<i> (even i) or a rule commented c<i> (odd i): the next i is the count so far.
for (let i = doc.lans.length + doc.journal.length; ; i++) {
  if (i % 2 === 0) svc.addLan('crash', `l${i}`);
  else svc.exec('crash', 'h', ['iptables', '-A', 'INPUT', '-s', `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, '-m', 'comment', '--comment', `c${i}`, '-j', 'ACCEPT'], '');
  writeSync(1, `ack ${i}\n`);
}
