// The Nestling JS SDK test app: the official Inngest SDK's own Node handler
// (`inngest/node` serve) serving the functions of functions.mjs, in dev mode,
// pointed at an Inngest dev server (the real one or the Nestling engine).
//
//   node app.mjs [--sdk v3|v4] [--port N] [--register] [--checkpointing off]
//
// Environment (flags win over it):
//   SDK                v3 | v4 (default v4; v4 is the npm alias "inngest-v4")
//   PORT               port to listen on, 0 for any free one (default 3000)
//   HOST               address to listen on (default 127.0.0.1)
//   INNGEST_BASE_URL   the dev server's URL (default http://127.0.0.1:8288)
//   INNGEST_DEV        dev mode unless "0" or "false" (then INNGEST_SIGNING_KEY is used)
//   APP_ID             the app's id (default js-sdk-app)
//   CHECKPOINTING      "off" turns v4's checkpointing off (v3 has none)
//   LOG_LEVEL          debug | info | warn | error | silent: SDK log lines at or
//                      above it go to stderr (default warn)
//
// Once listening it prints one JSON line on stdout:
//   {"event":"listening","sdk":"v4","sdkVersion":"4.24.0","port":N,"serveUrl":"…/api/inngest",…}
// With --register it then syncs itself (a PUT on its own serve URL, which makes
// the SDK POST /fn/register to INNGEST_BASE_URL) and prints
//   {"event":"registered","status":200,"body":{…}}
// GET /observed answers what the functions saw (see functions.mjs).
import http from "node:http";
import { parseArgs } from "node:util";

import { buildFunctions, observed } from "./functions.mjs";
import { loadSdk } from "./sdk.mjs";
import { syncApp } from "./register.mjs";

const { values: flags } = parseArgs({
  options: {
    sdk: { type: "string" },
    port: { type: "string" },
    register: { type: "boolean", default: false },
    checkpointing: { type: "string" },
  },
});

const major = flags.sdk ?? process.env.SDK ?? "v4";
if (major !== "v3" && major !== "v4") {
  console.error(`app: --sdk must be v3 or v4, got ${JSON.stringify(major)}`);
  process.exit(2);
}
const port = Number(flags.port ?? process.env.PORT ?? 3000);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`app: PORT must be an integer from 0 to 65535, got ${JSON.stringify(flags.port ?? process.env.PORT)}`);
  process.exit(2);
}
const host = process.env.HOST ?? "127.0.0.1";
const baseUrl = process.env.INNGEST_BASE_URL ?? "http://127.0.0.1:8288";
const isDev = !["0", "false"].includes((process.env.INNGEST_DEV ?? "1").toLowerCase());
const appId = process.env.APP_ID ?? "js-sdk-app";
const checkpointingOff = (flags.checkpointing ?? process.env.CHECKPOINTING) === "off";
const servePath = "/api/inngest";

const sdk = await loadSdk(major);
const client = new sdk.core.Inngest({
  id: appId,
  isDev,
  baseUrl,
  logger: stderrLogger(process.env.LOG_LEVEL ?? "warn"),
  ...(major === "v4" && checkpointingOff ? { checkpointing: false } : {}),
});
const functions = buildFunctions({ client, core: sdk.core, major });

// The serve handler is built once the port is known, so that the URL the SDK
// registers is the one it really listens on, even with PORT=0.
let inngestHandler = null;
const server = http.createServer((req, res) => {
  const path = (req.url ?? "").split("?")[0];
  if (path === servePath && inngestHandler) return inngestHandler(req, res);
  if (path === "/observed" && req.method === "GET") return json(res, 200, observed);
  if (path === "/health") return json(res, 200, { ok: true });
  return json(res, 404, { error: `no route for ${req.method} ${path}; the SDK is served at ${servePath}` });
});

server.listen(port, host, async () => {
  const bound = server.address().port;
  const origin = `http://${host}:${bound}`;
  inngestHandler = sdk.node.serve({
    client,
    functions,
    servePath,
    ...(major === "v4" ? { serveOrigin: origin } : { serveHost: origin }),
  });
  const serveUrl = `${origin}${servePath}`;
  line({ event: "listening", sdk: major, sdkVersion: sdk.version, appId, port: bound, serveUrl, baseUrl, functions: functions.length });

  if (flags.register) {
    try {
      line({ event: "registered", ...(await syncApp(serveUrl)) });
    } catch (err) {
      line({ event: "register_failed", message: err.message });
    }
  }
});

const stop = () => server.close(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

function line(obj) {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

function json(res, status, body) {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
}

// The SDK's own logs go to stderr so that stdout carries only the lines above.
function stderrLogger(minLevel) {
  const levels = ["debug", "info", "warn", "error"];
  const floor = minLevel === "silent" ? levels.length : Math.max(0, levels.indexOf(minLevel));
  const at = (level) => (...args) => {
    if (levels.indexOf(level) >= floor) console.error(`[inngest ${level}]`, ...args);
  };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}
