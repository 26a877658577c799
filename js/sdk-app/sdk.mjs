// Loads one major of the official SDK: "v3" is the package `inngest`, "v4" the
// npm alias `inngest-v4`. Only one may be loaded per process: both keep their
// async context under the same global symbol, with shapes that do not mix.
import fs from "node:fs";
import { fileURLToPath } from "node:url";

export async function loadSdk(major) {
  const pkg = major === "v4" ? "inngest-v4" : "inngest";
  const core = await import(pkg);
  const node = await import(`${pkg}/node`);
  return { major, pkg, core, node, version: installedVersion(pkg) };
}

// The version of the installed package, read from its package.json (the SDK's
// exports do not include it).
function installedVersion(pkg) {
  let dir = fileURLToPath(new URL(".", import.meta.resolve(pkg)));
  while (!fs.existsSync(`${dir}/package.json`)) dir = `${dir}/..`;
  return JSON.parse(fs.readFileSync(`${dir}/package.json`, "utf8")).version;
}
