// The serve-endpoint benchmark's JS side (bench/run): the official SDK's Node
// handler serving functions `perf-steps-<N>` of N sequential `step.run("s<i>")`
// calls, each returning `{ i, ok: true }`. A replay request with the first N-1
// steps memoised makes the SDK replay them all and answer 206 with the StepRun
// op of the last one, which is the work the benchmark measures.
//
//   SDK=v4 STEPS=11,101 PORT=0 node perf.mjs
//
// Prints one JSON line once listening: {"event":"listening","port":N,"pid":…,…}.
// Dev mode with a base URL nobody listens on: answering a replay request makes
// no outbound call, and the SDK logs nothing (a no-op logger).
import http from "node:http";

import { loadSdk } from "./sdk.mjs";

const major = process.env.SDK ?? "v4";
const stepCounts = (process.env.STEPS ?? "11,101").split(",").map(Number);
const port = Number(process.env.PORT ?? 0);
const appId = process.env.APP_ID ?? "bench-app";

const sdk = await loadSdk(major);
const noop = () => {};
const client = new sdk.core.Inngest({
  id: appId,
  isDev: true,
  baseUrl: process.env.INNGEST_BASE_URL ?? "http://127.0.0.1:9",
  logger: { debug: noop, info: noop, warn: noop, error: noop },
});

const functions = stepCounts.map((steps) => {
  const options = { id: `perf-steps-${steps}` };
  const trigger = { event: "bench/steps" };
  const handler = async ({ step }) => {
    let last = null;
    for (let i = 0; i < steps; i++) last = await step.run(`s${i}`, () => ({ i, ok: true }));
    return last;
  };
  return major === "v4"
    ? client.createFunction({ ...options, triggers: [trigger] }, handler)
    : client.createFunction(options, trigger, handler);
});

const server = http.createServer(sdk.node.serve({ client, functions }));
server.listen(port, "127.0.0.1", () => {
  const line = { event: "listening", sdk: major, sdkVersion: sdk.version, appId, port: server.address().port, pid: process.pid, steps: stepCounts };
  process.stdout.write(`${JSON.stringify(line)}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
