#!/usr/bin/env node
// `npm start`: the desktop app (Electron, or browser mode on 127.0.0.1) is not built yet.
// Until it is, say so plainly and point at what works today: the kpl command line.
console.error(`Kube Packet Lab: the desktop app is not built yet (see "Feature status" in README.md).
What works today is the lab engine through the kpl command line, for example:

  node bin/kpl.mjs new demo.kpl
  node bin/kpl.mjs help
`);
process.exitCode = 1;
