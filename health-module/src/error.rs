//! The crate's error type.

/// Everything that can go wrong in `nestling-health`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A configured path is not an absolute URL path.
    #[error("health: {option} `{path}` must start with `/` and contain no spaces, `?` or `#`")]
    InvalidPath {
        /// Which option held the path (for example `health.path`).
        option: &'static str,
        /// The rejected path.
        path: String,
    },

    /// Two endpoints were configured at the same path.
    #[error("health: {first} and {second} are both configured at `{path}`; give one another path")]
    PathClash {
        /// The first option.
        first: &'static str,
        /// The second option.
        second: &'static str,
        /// The shared path.
        path: String,
    },
}

/// Checks that `path` can be mounted as a route.
pub(crate) fn validate_path(option: &'static str, path: &str) -> Result<(), Error> {
    let valid = path.starts_with('/') && !path.contains([' ', '?', '#']);
    if valid {
        Ok(())
    } else {
        Err(Error::InvalidPath {
            option,
            path: path.to_owned(),
        })
    }
}
