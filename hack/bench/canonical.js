// canonical.js MODE FILE: prints the workflow output found in FILE as
// canonical JSON (object keys sorted), so that two interpreters' outputs can
// be compared byte for byte.
//   MODE kstates:   FILE holds `kstates run -o json` output; the workflow
//                   output is its "output" field.
//   MODE local-sfn: FILE holds local-sfn's stdout: console.log of the
//                   workflow output (the bench workflows end by serialising
//                   their result with States.JsonToString, so it is JSON text).
// A string output that holds JSON is parsed too.
'use strict';
const fs = require('fs');
const [mode, file] = process.argv.slice(2);
const text = fs.readFileSync(file, 'utf8').trim();
let out;
if (mode === 'kstates') {
  const doc = JSON.parse(text);
  if (doc.status !== 'SUCCEEDED') {
    console.error(`kstates: status ${doc.status}: ${doc.error}: ${doc.cause}`);
    process.exit(1);
  }
  out = doc.output;
} else {
  out = text;
}
if (typeof out === 'string') {
  try { out = JSON.parse(out); } catch (e) { /* a plain string output */ }
}
const canon = (v) => Array.isArray(v) ? v.map(canon)
  : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon(v[k])]))
  : v;
process.stdout.write(JSON.stringify(canon(out)) + '\n');
