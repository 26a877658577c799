// The NestJS peer of row (c)'s idle memory: what an app built on the NestJS package
// @torixtv/nestjs-inngest amounts to, assembled here from its parts because npm does not serve
// that package: NestJS 12 on express, one module with an injectable service that owns the
// official SDK's client and the benchmark's functions, and the SDK's express handler mounted at
// /api/inngest. Dev mode with a base URL nobody listens on, as bench/app is run.
//
//   node inngest-app.mjs      prints {"event":"listening","port":N,"pid":N,...} once listening
import "reflect-metadata";

import { Injectable, Module } from "@nestjs/common";
import { NestFactory } from "@nestjs/core";
import { Inngest } from "inngest";
import { serve } from "inngest/express";

const noop = () => {};

export class InngestFunctions {
  constructor() {
    this.client = new Inngest({
      id: "bench-app",
      isDev: true,
      baseUrl: process.env.INNGEST_BASE_URL ?? "http://127.0.0.1:9",
      logger: { debug: noop, info: noop, warn: noop, error: noop },
    });
    this.functions = [11, 101].map((steps) =>
      this.client.createFunction({ id: `perf-steps-${steps}`, triggers: [{ event: "bench/steps" }] }, async ({ step }) => {
        let last = null;
        for (let i = 0; i < steps; i++) last = await step.run(`s${i}`, () => ({ i, ok: true }));
        return last;
      }),
    );
  }
}
Reflect.decorate([Injectable(), Reflect.metadata("design:paramtypes", [])], InngestFunctions);

export class AppModule {}
Reflect.decorate([Module({ providers: [InngestFunctions], exports: [InngestFunctions] })], AppModule);

const app = await NestFactory.create(AppModule, { logger: false });
const { client, functions } = app.get(InngestFunctions);
app.use("/api/inngest", serve({ client, functions }));
await app.listen(Number(process.env.PORT ?? 0), "127.0.0.1");

const line = {
  event: "listening",
  appId: "bench-app",
  port: app.getHttpServer().address().port,
  pid: process.pid,
  rss_kib: Math.round(process.memoryUsage().rss / 1024),
};
process.stdout.write(`${JSON.stringify(line)}\n`);
process.on("SIGTERM", () => app.close().then(() => process.exit(0)));
