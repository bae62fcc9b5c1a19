// The debugger's pure parts live in shared/api/trace-nav.ts, so `kpl open --trace` numbers and
// shows a trace's steps exactly as the app does.
export * from '../shared/api/trace-nav.ts';
