// Writes one executor -> SDK execution request for the benchmark function
// `perf-steps-<M+1>` of js/sdk-app/perf.mjs, with its first M steps memoised
// the way the executor stores them ({ "data": <result> } keyed by the hashed
// step id), so that the endpoint replays M steps and answers the StepRun op of
// step s<M>. No `ctx.fn_id`, so v4 answers per step instead of checkpointing.
//
//   node bench/body.mjs 10 > body-10.json
import crypto from "node:crypto";

const memoised = Number(process.argv[2] ?? 10);
const sha1 = (text) => crypto.createHash("sha1").update(text).digest("hex");

const event = { name: "bench/steps", data: {}, id: "01JBENCH0000000000000EVENT", ts: 1767225600000 };
const steps = {};
const stack = [];
for (let i = 0; i < memoised; i++) {
  const id = sha1(`s${i}`);
  steps[id] = { data: { i, ok: true } };
  stack.push(id);
}

process.stdout.write(JSON.stringify({
  event,
  events: [event],
  steps,
  ctx: {
    run_id: "01JBENCH00000000000000RUN0",
    env: "",
    step_id: "step",
    attempt: 0,
    max_attempts: 4,
    stack: { stack, current: stack.length },
    disable_immediate_execution: false,
    use_api: false,
  },
  version: 1,
  use_api: false,
}));
