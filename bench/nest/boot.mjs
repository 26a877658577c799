// Boots the graph gen.mjs wrote and prints one JSON line once the app listens, then exits:
// {"event":"listening","port":N,"pid":N,"rss_kib":N,"modules":N}. The harness times the line
// from the moment it spawned this process.
//
//   node boot.mjs GRAPHDIR
import "reflect-metadata";
import path from "node:path";
import { pathToFileURL } from "node:url";

import { NestFactory } from "@nestjs/core";

const dir = path.resolve(process.argv[2]);
const { AppModule, Leaf } = await import(pathToFileURL(path.join(dir, "root.mjs")).href);
const app = await NestFactory.create(AppModule, { logger: false });
await app.listen(0, "127.0.0.1");

let depth = 0;
for (let p = app.get(Leaf); p; p = p.dep) depth++;
const line = {
  event: "listening",
  port: app.getHttpServer().address().port,
  pid: process.pid,
  rss_kib: Math.round(process.memoryUsage().rss / 1024),
  modules: depth,
};
process.stdout.write(`${JSON.stringify(line)}\n`);
await app.close();
process.exit(0);
