// Writes the NestJS side of the boot benchmark (bench/run, row c): N modules in plain ESM,
// one file each, decorated with Reflect.decorate the way tsc emits decorators. The graph is
// the one bench/app/build.rs generates for Nestling: module M<i> provides A<i> and B<i> and
// exports both, imports M<i-1>, and A<i>/B<i> inject A<i-1>/B<i-1>. The last module is the root.
//
//   node gen.mjs 100 OUTDIR
import fs from "node:fs";
import path from "node:path";

const modules = Number(process.argv[2] ?? 100);
const out = process.argv[3];
if (!out) throw new Error("usage: node gen.mjs MODULES OUTDIR");
fs.mkdirSync(out, { recursive: true });

for (let i = 0; i < modules; i++) {
  const prev = i > 0 ? i - 1 : null;
  const src = [`import { Injectable, Module } from "@nestjs/common";`];
  if (prev !== null) src.push(`import { M${prev}, A${prev}, B${prev} } from "./m${prev}.mjs";`);
  for (const p of ["A", "B"]) {
    const dep = prev !== null ? `${p}${prev}` : "";
    src.push(
      `export class ${p}${i} { constructor(dep) { this.dep = dep ?? null; } }`,
      `Reflect.decorate([Injectable(), Reflect.metadata("design:paramtypes", [${dep}])], ${p}${i});`,
    );
  }
  src.push(
    `export class M${i} {}`,
    `Reflect.decorate([Module({ imports: [${prev !== null ? `M${prev}` : ""}], providers: [A${i}, B${i}], exports: [A${i}, B${i}] })], M${i});`,
    "",
  );
  fs.writeFileSync(path.join(out, `m${i}.mjs`), src.join("\n"));
}
fs.writeFileSync(
  path.join(out, "root.mjs"),
  `export { M${modules - 1} as AppModule, A${modules - 1} as Leaf } from "./m${modules - 1}.mjs";\n`,
);
