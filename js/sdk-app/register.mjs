// Syncs a served app with its dev server the way the dev server's own sync does:
// a PUT on the app's serve URL, after which the SDK POSTs its function
// configuration to `{INNGEST_BASE_URL}/fn/register` and answers the PUT.
//
//   node register.mjs http://127.0.0.1:3000/api/inngest
//
// prints {"status":200,"body":{"message":"Successfully registered",…}} and
// exits non-zero when the SDK did not answer 200.
import { pathToFileURL } from "node:url";

export async function syncApp(serveUrl, { timeoutMs = 10_000 } = {}) {
  const res = await fetch(serveUrl, { method: "PUT", signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, body };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const url = process.argv[2];
  if (!url) {
    console.error("usage: node register.mjs <serve URL>");
    process.exit(2);
  }
  const result = await syncApp(url);
  console.log(JSON.stringify(result));
  process.exit(result.status === 200 ? 0 : 1);
}
