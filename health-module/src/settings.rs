//! What the health module serves, and where.

use std::time::Duration;

use nestling_inngest::HealthConfig;

use crate::error::{Error, validate_path};

/// Settings of [`HealthService`](crate::HealthService).
///
/// The first five come from the Inngest module's `health` options
/// ([`HealthSettings::from_inngest`]); the probe and docs paths are this crate's own.
///
/// # Examples
///
/// ```
/// use nestling_health::HealthSettings;
///
/// let settings = HealthSettings::default();
/// assert_eq!(settings.path, "/health/inngest");
/// assert_eq!(settings.liveness_path, "/health/live");
/// settings.validate().unwrap();
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct HealthSettings {
    /// Serve the endpoints at all.
    pub enabled: bool,
    /// Path of the Inngest health endpoint.
    pub path: String,
    /// Allow `?details=true` (memory and per-function status); when off, the query is ignored.
    pub include_details: bool,
    /// Include memory figures in the details.
    pub enable_metrics: bool,
    /// How often the liveness and readiness checks run in the background.
    pub check_interval: Duration,
    /// Path of the liveness probe.
    pub liveness_path: String,
    /// Path of the readiness probe.
    pub readiness_path: String,
    /// Path of the docs UI; the OpenAPI spec is at `<docs_path>/openapi.json`. `None` serves
    /// neither.
    pub docs_path: Option<String>,
    /// Memory limit for the memory indicator; `None` uses the cgroup limit, else 512 MiB.
    pub memory_limit_bytes: Option<u64>,
}

impl Default for HealthSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            path: "/health/inngest".to_owned(),
            include_details: true,
            enable_metrics: true,
            check_interval: Duration::from_secs(30),
            liveness_path: "/health/live".to_owned(),
            readiness_path: "/health/ready".to_owned(),
            docs_path: Some("/docs/health".to_owned()),
            memory_limit_bytes: None,
        }
    }
}

impl HealthSettings {
    /// Settings from the Inngest module's resolved `health` options, other fields at their
    /// defaults.
    pub fn from_inngest(config: &HealthConfig) -> Self {
        Self {
            enabled: config.enabled,
            path: config.path.clone(),
            include_details: config.include_details,
            enable_metrics: config.enable_metrics,
            check_interval: config.check_interval,
            ..Self::default()
        }
    }

    /// Checks the paths.
    ///
    /// # Errors
    /// [`Error::InvalidPath`] for a path that is not absolute, [`Error::PathClash`] for two
    /// endpoints at one path.
    pub fn validate(&self) -> Result<(), Error> {
        let mut paths: Vec<(&'static str, &str)> = vec![
            ("health.path", &self.path),
            ("liveness_path", &self.liveness_path),
            ("readiness_path", &self.readiness_path),
        ];
        if let Some(docs) = &self.docs_path {
            paths.push(("docs_path", docs));
        }

        for (option, path) in &paths {
            validate_path(option, path)?;
        }
        for (i, (first, a)) in paths.iter().enumerate() {
            if let Some((second, _)) = paths[i + 1..].iter().find(|(_, b)| trim(a) == trim(b)) {
                return Err(Error::PathClash {
                    first,
                    second,
                    path: (*a).to_owned(),
                });
            }
        }

        Ok(())
    }
}

fn trim(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() { "/" } else { trimmed }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_and_clashing_paths_are_named() {
        let relative = HealthSettings {
            path: "health".to_owned(),
            ..Default::default()
        };
        let message = relative.validate().unwrap_err().to_string();
        assert!(message.contains("health.path `health`"), "{message}");

        let clash = HealthSettings {
            readiness_path: "/health/live/".to_owned(),
            ..Default::default()
        };
        let message = clash.validate().unwrap_err().to_string();
        assert!(
            message.contains("liveness_path and readiness_path"),
            "{message}"
        );
    }
}
