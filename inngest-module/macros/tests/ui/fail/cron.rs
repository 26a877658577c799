#![allow(dead_code, unused_variables)]
use nestling_inngest_macros::functions;

struct Context;
struct Svc;

#[functions]
impl Svc {
    #[on_cron("0 9 * *")]
    async fn four_fields(&self, ctx: Context) {}

    #[on_cron("@daily")]
    async fn descriptor(&self, ctx: Context) {}

    #[on_cron("0 25 * * *")]
    async fn bad_hour(&self, ctx: Context) {}

    #[on_cron("0 9 * * 1-5", timezone = "Europe Paris")]
    async fn bad_zone(&self, ctx: Context) {}

    #[on_cron("TZ=Europe/Paris 0 9 * * 1-5", timezone = "Europe/Paris")]
    async fn two_zones(&self, ctx: Context) {}

    #[on_cron("0 9 * * *", jitter = "10m")]
    async fn long_jitter(&self, ctx: Context) {}

    #[function(event = "a", timezone = "Europe/Paris")]
    async fn zone_without_cron(&self, ctx: Context) {}
}

fn main() {}
