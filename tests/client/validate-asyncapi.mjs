// Validates an AsyncAPI document with the AsyncAPI initiative's own parser:
// `node validate-asyncapi.mjs <file>` prints each diagnostic and exits 1 on any error.
import { readFile } from "node:fs/promises";
import { Parser } from "@asyncapi/parser";

const [file] = process.argv.slice(2);
const parser = new Parser();
const { document, diagnostics } = await parser.parse(await readFile(file, "utf8"));
const errors = diagnostics.filter((d) => d.severity === 0);
for (const d of diagnostics) {
  console.log(`${["error", "warning", "info", "hint"][d.severity]} ${d.code} ${d.path.join(".")}: ${d.message}`);
}
if (!document || errors.length > 0) process.exit(1);
console.log(`valid: ${document.channels().length} channels, ${document.operations().length} operations`);
