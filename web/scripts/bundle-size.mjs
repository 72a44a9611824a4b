// Gzipped size of the built JavaScript (target: <= 300 KB in all). Run after `npm run build`: `npm run size`.
// Prints one line per chunk, the total, and the entry chunks index.html loads first; `--json` prints JSON instead.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const dist = new URL("../dist/", import.meta.url).pathname;
const assets = join(dist, "assets");
let files;
try {
  files = readdirSync(assets).filter((f) => f.endsWith(".js"));
} catch {
  console.error(`No build found in ${dist}: run \`npm run build\` first.`);
  process.exit(2);
}
const html = readFileSync(join(dist, "index.html"), "utf8");
const rows = files
  .map((file) => {
    const bytes = readFileSync(join(assets, file));
    return { file, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length, initial: html.includes(file) };
  })
  .sort((a, b) => b.gzip - a.gzip);
const kb = (n) => (n / 1024).toFixed(1);
const total = rows.reduce((s, r) => s + r.gzip, 0);
const initial = rows.filter((r) => r.initial).reduce((s, r) => s + r.gzip, 0);
const result = { total_gzip_kb: Number(kb(total)), initial_gzip_kb: Number(kb(initial)), target_kb: 300, chunks: rows };
if (process.argv.includes("--json")) {
  console.log(JSON.stringify(result, null, 2));
} else {
  for (const r of rows) console.log(`${kb(r.gzip).padStart(8)} KB gz  ${kb(r.raw).padStart(8)} KB raw  ${r.initial ? "*" : " "} ${r.file}`);
  console.log(`total JS: ${kb(total)} KB gzipped (target <= 300 KB); loaded first (*): ${kb(initial)} KB`);
}
