//! The stats module: global counters, logged at shutdown.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use nestling::{
    BoxError, Injectable, Module, ModuleDef, OnApplicationShutdown, Provider, ShutdownSignal,
    async_trait,
};
use poem::web::{Data, Json};
use poem::{EndpointExt, get, handler};
use serde::Serialize;

/// Counts greetings and registrations.
#[derive(Debug, Default, Injectable)]
#[injectable(hooks(on_application_shutdown))]
pub struct Stats {
    greetings: AtomicU64,
    users: AtomicU64,
}

/// A snapshot of the counters.
#[derive(Debug, Serialize)]
struct Snapshot {
    greetings: u64,
    users: u64,
}

impl Stats {
    /// Counts one greeting.
    pub fn count_greeting(&self) {
        self.greetings.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one registration.
    pub fn count_user(&self) {
        self.users.fetch_add(1, Ordering::Relaxed);
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot {
            greetings: self.greetings.load(Ordering::Relaxed),
            users: self.users.load(Ordering::Relaxed),
        }
    }
}

#[async_trait]
impl OnApplicationShutdown for Stats {
    async fn on_application_shutdown(&self, signal: ShutdownSignal) -> Result<(), BoxError> {
        let Snapshot { greetings, users } = self.snapshot();
        tracing::info!(%signal, greetings, users, "final counts");
        Ok(())
    }
}

#[handler]
fn show(stats: Data<&Arc<Stats>>) -> Json<Snapshot> {
    Json(stats.snapshot())
}

/// The stats module, global: every module can inject [`Stats`].
#[derive(Debug)]
pub struct StatsModule;

impl Module for StatsModule {
    fn define(&self) -> ModuleDef {
        ModuleDef::new("StatsModule")
            .provider(Provider::class::<Stats>())
            .export::<Stats>()
            .global()
            .route("/stats", |ctx| {
                let stats = ctx.module().try_get::<Stats>()?;
                Ok(get(show).data(stats))
            })
    }
}
