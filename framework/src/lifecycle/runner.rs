//! Runs one hook phase over the built graph, in NestJS's order.

use std::collections::BTreeMap;

use futures::FutureExt;
use futures::future::join_all;

use super::{Hook, HookArg};
use crate::container::Inner;
use crate::container::graph::ProviderId;
use crate::provider::Scope;
use crate::{BoxError, Error};

/// The providers of each module that implement `hook`, grouped by level, in run order.
fn plan(inner: &Inner, hook: Hook, reverse: bool) -> Vec<Vec<ProviderId>> {
    let graph = &inner.graph;
    let mut modules = graph.order.clone();
    if reverse {
        modules.reverse();
    }

    let mut plan = Vec::new();
    for module in modules {
        let mut by_level: BTreeMap<usize, Vec<ProviderId>> = BTreeMap::new();
        for &pid in &graph.modules[module].providers {
            let node = &graph.providers[pid];
            if node.scope == Scope::Singleton && node.def.hooks.get(hook).is_some() {
                by_level.entry(node.level).or_default().push(pid);
            }
        }
        let mut levels: Vec<Vec<ProviderId>> = by_level.into_values().collect();
        if reverse {
            levels.reverse();
        }
        plan.extend(levels);
    }

    plan
}

async fn call(inner: &Inner, pid: ProviderId, hook: Hook, arg: HookArg) -> Result<(), Error> {
    let node = &inner.graph.providers[pid];
    let module = &inner.graph.modules[node.module].name;
    let (Some(call), Some(built)) = (node.def.hooks.get(hook), inner.slots[pid].get()) else {
        return Ok(());
    };
    let Some((_, instance)) = built.instance.clone() else {
        return Ok(());
    };

    let outcome: Result<Result<(), BoxError>, _> =
        std::panic::AssertUnwindSafe(async move { call(instance, arg).await })
            .catch_unwind()
            .await;
    match outcome {
        Ok(Ok(())) => Ok(()),
        Ok(Err(source)) => Err(Error::Hook {
            hook: hook.name(),
            provider: node.def.token.name(),
            module: module.clone(),
            source,
        }),
        Err(payload) => Err(Error::Panicked {
            provider: node.def.token.name(),
            module: module.clone(),
            during: format!("running {}", hook.name()),
            message: crate::error::panic_message(&*payload),
        }),
    }
}

/// Runs a start-up hook; the first failing level stops the phase and start-up.
pub(crate) async fn run_startup_phase(
    inner: &Inner,
    hook: Hook,
    arg: HookArg,
) -> Result<(), Error> {
    for level in plan(inner, hook, false) {
        let results = join_all(level.iter().map(|&pid| call(inner, pid, hook, arg))).await;
        for result in results {
            result?;
        }
    }
    tracing::debug!(hook = hook.name(), "lifecycle phase done");

    Ok(())
}

/// Runs a shutdown hook everywhere, even after failures, and returns the failures (each also
/// logged).
pub(crate) async fn run_shutdown_phase(inner: &Inner, hook: Hook, arg: HookArg) -> Vec<Error> {
    let mut errors = Vec::new();
    for level in plan(inner, hook, true) {
        let results = join_all(level.iter().map(|&pid| call(inner, pid, hook, arg))).await;
        for result in results {
            if let Err(err) = result {
                tracing::error!(hook = hook.name(), error = %err, "shutdown hook failed");
                errors.push(err);
            }
        }
    }

    errors
}
