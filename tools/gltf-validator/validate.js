// Validate glTF files with the Khronos glTF-Validator; prints one JSON report per file (one line each).
// Usage: node validate.js FILE...   (external .bin buffers of a .gltf are read beside it)
const fs = require("fs");
const path = require("path");
const validator = require("gltf-validator");

async function report(file) {
  const bytes = new Uint8Array(fs.readFileSync(file));
  const external = (uri) => Promise.resolve(new Uint8Array(fs.readFileSync(path.join(path.dirname(file), decodeURIComponent(uri)))));
  const r = await validator.validateBytes(bytes, { uri: path.basename(file), externalResourceFunction: external, maxIssues: 100 });
  return { file, errors: r.issues.numErrors, warnings: r.issues.numWarnings, infos: r.issues.numInfos,
           messages: r.issues.messages.map((m) => `${m.severity} ${m.code} ${m.pointer || ""} ${m.message}`) };
}

(async () => {
  for (const f of process.argv.slice(2)) console.log(JSON.stringify(await report(f)));
})().catch((e) => { console.error(String(e)); process.exit(1); });
