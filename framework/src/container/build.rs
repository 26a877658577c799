//! Phase two: construct the singletons, level by level, each level concurrently.

use std::collections::HashMap;

use futures::future::{BoxFuture, join_all};

use super::graph::ProviderId;
use super::{Inner, Resolver};
use crate::provider::{Built, Scope, catch_build};
use crate::{Error, Token};

/// Builds every singleton of the graph. The first failure aborts: nothing later is built.
pub(crate) async fn build_singletons(inner: &Inner) -> Result<(), Error> {
    for level in &inner.graph.levels {
        let built = join_all(level.iter().map(|&pid| construct(inner, pid))).await;
        for (&pid, result) in level.iter().zip(built) {
            // Each slot is filled once; a second `set` cannot happen since every provider sits
            // in exactly one level.
            let _ = inner.slots[pid].set(result?);
        }
    }

    Ok(())
}

/// Builds one instance of `pid`, first building fresh instances of its transient
/// dependencies.
pub(crate) fn construct(inner: &Inner, pid: ProviderId) -> BoxFuture<'_, Result<Built, Error>> {
    Box::pin(async move {
        let node = &inner.graph.providers[pid];
        let mut transients = HashMap::new();
        for (dep, target) in node.def.deps.iter().zip(&node.deps) {
            let Some(target) = *target else { continue };
            if inner.graph.providers[target].scope == Scope::Transient {
                let built = construct(inner, target).await?;
                transients.insert(dep.token.type_id(), built.value);
            }
        }

        let module = &inner.graph.modules[node.module];
        let provider = node.def.token;
        let started = {
            let resolver = Resolver {
                inner,
                provider: pid,
                transients: &transients,
            };
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (node.def.build)(&resolver)))
        };
        let future = match started {
            Ok(future) => future?,
            Err(payload) => {
                return Err(panicked(
                    provider,
                    &module.name,
                    crate::error::panic_message(&*payload),
                ));
            }
        };

        match catch_build(future).await {
            Ok(Ok(built)) => Ok(built),
            Ok(Err(source)) => Err(Error::ProviderFailed {
                provider: provider.name(),
                module: module.name.clone(),
                chain: inner.graph.chain(node.module),
                source,
            }),
            Err(message) => Err(panicked(provider, &module.name, message)),
        }
    })
}

fn panicked(provider: Token, module: &str, message: String) -> Error {
    Error::Panicked {
        provider: provider.name(),
        module: module.to_owned(),
        during: "being built".to_owned(),
        message,
    }
}
