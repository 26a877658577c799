//! Module options: what the user writes ([`InngestModuleOptions`]), where unset values come
//! from ([`EnvSource`], [`env_vars`]) and what the module works with once everything is
//! decided ([`ResolvedOptions`], [`ServerKind`]).
//!
//! # Examples
//!
//! ```
//! use std::collections::BTreeMap;
//! use nestling_inngest::{ConnectionMode, InngestModuleOptions, ServerKind};
//!
//! let env = BTreeMap::from([("INNGEST_DEV", "http://inngest:8288"), ("INNGEST_MODE", "connect")]);
//! let resolved = InngestModuleOptions::new("billing").resolve(&env)?;
//! assert_eq!(resolved.server, ServerKind::DevServer);
//! assert_eq!(resolved.mode, ConnectionMode::Connect);
//! assert_eq!(resolved.api_origin, "http://inngest:8288");
//! # Ok::<(), nestling_inngest::Error>(())
//! ```

mod duration;
mod env;
mod module_options;
mod problems;
mod resolve;
mod resolve_sections;
mod resolved;
mod sections;
mod values;

pub use env::{EnvSource, ProcessEnv, env_vars};
pub use module_options::{ConnectionMode, InngestModuleOptions, MiddlewareHandle};
pub(crate) use problems::single_problem;
pub use problems::{OptionProblem, OptionProblems, ValueSource};
pub use resolved::{
    CLOUD_API_ORIGIN, CLOUD_EVENT_API_ORIGIN, DEV_SERVER_ORIGIN, PLACEHOLDER_EVENT_KEY,
    ResolvedOptions, ServerKind,
};
pub use sections::{
    ConnectConfig, ConnectOptions, ContextInjectionOptions, HealthConfig, HealthOptions,
    MonitoringConfig, MonitoringOptions, ShutdownSignal, TracingConfig, TracingOptions,
};
