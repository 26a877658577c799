//! Option resolution: precedence (explicit option > environment > default) for every option
//! and variable, the server-kind rules, and validation errors that name the field.
//!
//! The environment is injected as a map, so no test touches the process environment. One file
//! per option group; `module.rs` checks over real HTTP what the module does with the options.

mod configuration;
mod connect;
mod features;
mod identity;
mod keys;
mod module;
mod sections;
mod serve_url;
mod server;
mod validation;

use std::collections::BTreeMap;
use std::time::Duration;

use nestling_inngest::{
    ConnectOptions, ConnectionMode, ContextInjectionOptions, Error, HealthOptions,
    InngestModuleOptions, MonitoringOptions, OptionProblems, ResolvedOptions, ServerKind,
    ShutdownSignal, TracingOptions, ValueSource,
};

const KEY: &str = "signkey-prod-0123456789abcdef";

fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn resolve(options: &InngestModuleOptions, pairs: &[(&str, &str)]) -> ResolvedOptions {
    options
        .resolve(&env(pairs))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn problems(options: &InngestModuleOptions, pairs: &[(&str, &str)]) -> OptionProblems {
    match options.resolve(&env(pairs)) {
        Err(Error::InvalidOptions(problems)) => problems,
        other => panic!("expected invalid options, got {other:?}"),
    }
}

fn app() -> InngestModuleOptions {
    InngestModuleOptions::new("app")
}

/// One row of a precedence table: the option value (if set), the environment, the expected
/// resolved value.
type Row<'a, T> = (Option<T>, &'a [(&'a str, &'a str)], &'a str);

fn check_string_precedence<T: Clone>(
    rows: &[Row<'_, T>],
    set: impl Fn(InngestModuleOptions, T) -> InngestModuleOptions,
    read: impl Fn(&ResolvedOptions) -> String,
) {
    for (explicit, pairs, expected) in rows {
        let options = match explicit {
            Some(value) => set(app(), value.clone()),
            None => app(),
        };
        let resolved = resolve(&options, pairs);
        assert_eq!(
            read(&resolved),
            *expected,
            "option set: {}, env {pairs:?}",
            explicit.is_some()
        );
    }
}
