// The functions of the test app, written once for both SDK majors. v3 takes
// `createFunction(options, trigger, handler)`, v4 takes the triggers inside the
// options: `createFunction({ ...options, triggers }, handler)`; `define` hides
// that difference and nothing else differs between the two.
//
// Every function covers one step kind or one error kind, and its outcome is
// fixed by its input, so a test can assert the run's status and output exactly.
// README.md lists each function with the event that starts it and its outcome.
//
// `observed` is filled as the functions run: when each step's body (or a
// function's own body) actually executed, per run (one timestamp in ms per
// execution), and which run the
// on-failure handler got for a failed run. The app serves it at GET /observed,
// which lets a test check retries and memoisation from the SDK's side instead
// of trusting the engine's account of them.

export const observed = { executions: {}, failureRuns: {} };

function count(fnSlug, runId, what) {
  const key = `${fnSlug}/${runId}/${what}`;
  (observed.executions[key] ??= []).push(Date.now());
}

/**
 * @param {object} o
 * @param {object} o.client   an Inngest client of the chosen SDK
 * @param {object} o.core     the SDK's main export (errors live there)
 * @param {"v3"|"v4"} o.major
 */
export function buildFunctions({ client, core, major }) {
  const { NonRetriableError, RetryAfterError } = core;
  const define = (options, trigger, handler) =>
    major === "v4"
      ? client.createFunction({ ...options, triggers: [trigger].flat() }, handler)
      : client.createFunction(options, trigger, handler);

  // A step body that counts its own executions before doing its work.
  const counted = (slug, runId, stepId, body) => () => {
    count(slug, runId, stepId);
    return body();
  };

  const multiStep = define(
    { id: "multi-step" },
    { event: "js/multi.step" },
    async ({ event, step, runId }) => {
      const first = await step.run("first", counted("multi-step", runId, "first", () => ({ n: event.data.n ?? 1 })));
      const second = await step.run("second", counted("multi-step", runId, "second", () => first.n + 1));
      const loop = [];
      for (let i = 0; i < 3; i++) {
        // One id used three times: the SDK hashes "loop", "loop:1" and "loop:2".
        loop.push(await step.run("loop", counted("multi-step", runId, `loop:${i}`, () => i * 10)));
      }
      return { first, second, loop };
    },
  );

  const sleeper = define(
    { id: "sleep" },
    { event: "js/sleep" },
    async ({ event, step, runId }) => {
      const before = await step.run("before", counted("sleep", runId, "before", () => "before"));
      await step.sleep("nap", event.data.nap ?? "1s");
      // The deadline must be the same on every replay, so it comes from the event, never
      // from the clock at the time of the request.
      const until = event.data.until ?? new Date(event.ts + 2000).toISOString();
      await step.sleepUntil("until", until);
      const after = await step.run("after", counted("sleep", runId, "after", () => "after"));
      return { before, after, until };
    },
  );

  const waiter = define(
    { id: "wait-for-event" },
    { event: "js/wait.start" },
    async ({ event, step }) => {
      const approval = await step.waitForEvent("wait-approval", {
        event: "js/wait.approved",
        timeout: event.data.timeout ?? "10s",
        match: "data.requestId",
      });
      return { approved: approval !== null, by: approval?.data?.by ?? null };
    },
  );

  const sender = define(
    { id: "send-event" },
    { event: "js/send" },
    async ({ event, step }) => {
      const sent = await step.sendEvent("emit", { name: "js/sent", data: { orderId: event.data.orderId } });
      return { ids: sent.ids };
    },
  );

  const sentReceiver = define(
    { id: "sent-receiver" },
    { event: "js/sent" },
    async ({ event }) => ({ orderId: event.data.orderId }),
  );

  const child = define(
    { id: "invoke-child" },
    { event: "js/child" },
    async ({ event, step, runId }) => {
      const doubled = await step.run("double", counted("invoke-child", runId, "double", () => (event.data.x ?? 0) * 2));
      return { doubled };
    },
  );

  const failingChild = define(
    { id: "invoke-child-fails", retries: 0 },
    { event: "js/child.fails" },
    async () => {
      throw new NonRetriableError("child refused");
    },
  );

  const invoker = define(
    { id: "invoke" },
    { event: "js/invoke" },
    async ({ event, step }) => {
      const result = await step.invoke("call-child", { function: child, data: { x: event.data.x ?? 21 }, timeout: "1m" });
      return { child: result };
    },
  );

  const invokeError = define(
    { id: "invoke-error", retries: 0 },
    { event: "js/invoke.error" },
    async ({ step }) => {
      try {
        await step.invoke("call-failing-child", { function: failingChild, data: {}, timeout: "1m" });
      } catch (err) {
        return { caught: true, message: err.message };
      }
      return { caught: false };
    },
  );

  const parallel = define(
    { id: "parallel" },
    { event: "js/parallel" },
    async ({ step, runId }) => {
      const [a, b, c] = await Promise.all([
        step.run("par-a", counted("parallel", runId, "par-a", () => "A")),
        step.run("par-b", counted("parallel", runId, "par-b", () => "B")),
        step.run("par-c", counted("parallel", runId, "par-c", () => "C")),
      ]);
      const joined = await step.run("join", counted("parallel", runId, "join", () => a + b + c));
      return { joined };
    },
  );

  const flaky = define(
    { id: "retry-then-succeed", retries: 2 },
    { event: "js/flaky" },
    async ({ step, attempt, runId }) => {
      const result = await step.run(
        "flaky",
        counted("retry-then-succeed", runId, "flaky", () => {
          if (attempt < 1) throw new Error(`transient failure on attempt ${attempt}`);
          return { succeededOnAttempt: attempt };
        }),
      );
      return { result };
    },
  );

  const stepErrorCaught = define(
    { id: "step-error-caught", retries: 0 },
    { event: "js/step.error.caught" },
    async ({ step, runId }) => {
      try {
        await step.run(
          "bad-input",
          counted("step-error-caught", runId, "bad-input", () => {
            throw new TypeError("bad input");
          }),
        );
      } catch (err) {
        return { caught: true, message: err.message };
      }
      return { caught: false };
    },
  );

  const stepErrorFinal = define(
    { id: "step-error", retries: 1 },
    { event: "js/step.error" },
    async ({ step, runId }) => {
      await step.run(
        "always-fails",
        counted("step-error", runId, "always-fails", () => {
          throw new Error("kaboom");
        }),
      );
      return "unreachable";
    },
  );

  const nonRetriable = define(
    { id: "non-retriable", retries: 3 },
    { event: "js/non.retriable" },
    async ({ step, runId }) => {
      await step.run(
        "fatal",
        counted("non-retriable", runId, "fatal", () => {
          throw new NonRetriableError("no retry wanted");
        }),
      );
      return "unreachable";
    },
  );

  const retryAfter = define(
    { id: "retry-after", retries: 2 },
    { event: "js/retry.after" },
    async ({ step, attempt, runId }) => {
      const result = await step.run(
        "rate-limited",
        counted("retry-after", runId, "rate-limited", () => {
          if (attempt === 0) throw new RetryAfterError("slow down", "1s");
          return { attempt };
        }),
      );
      return { result };
    },
  );

  const fnThrows = define(
    { id: "fn-throws", retries: 1 },
    { event: "js/fn.throws" },
    async ({ runId }) => {
      count("fn-throws", runId, "body");
      throw new Error("function failed on purpose");
    },
  );

  const withFailure = define(
    {
      id: "on-failure",
      retries: 0,
      onFailure: async ({ error, event, step, runId }) => {
        observed.failureRuns[event.data.run_id] = runId;
        const cleaned = await step.run("cleanup", () => ({
          original: event.data.event.name,
          message: error.message,
        }));
        return { cleaned };
      },
    },
    { event: "js/with.failure" },
    async () => {
      throw new Error("primary failed");
    },
  );

  const cancellable = define(
    {
      id: "cancel-on",
      cancelOn: [{ event: "js/cancel.stop", match: "data.orderId", timeout: "1m" }],
    },
    { event: "js/cancel.start" },
    async ({ step, runId }) => {
      await step.run("started", counted("cancel-on", runId, "started", () => "started"));
      await step.sleep("long-nap", "30s");
      await step.run("never", counted("cancel-on", runId, "never", () => "never"));
      return "not cancelled";
    },
  );

  const batch = define(
    { id: "batch", batchEvents: { maxSize: 3, timeout: "2s" } },
    { event: "js/batch.item" },
    async ({ events, step }) => {
      const summary = await step.run("sum", () => ({
        count: events.length,
        total: events.reduce((sum, e) => sum + (e.data.n ?? 0), 0),
      }));
      return summary;
    },
  );

  const cron = define(
    { id: "cron" },
    { cron: "* * * * *" },
    async ({ event, step }) => {
      const tick = await step.run("tick", () => "tock");
      return { tick, eventName: event.name };
    },
  );

  return [
    multiStep, sleeper, waiter, sender, sentReceiver, child, failingChild, invoker,
    invokeError, parallel, flaky, stepErrorCaught, stepErrorFinal, nonRetriable,
    retryAfter, fnThrows, withFailure, cancellable, batch, cron,
  ];
}
