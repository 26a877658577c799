//! Validation problems found while resolving options, reported all at once.

use std::fmt;

/// Where a resolved value came from; error messages name it so the user knows what to edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ValueSource {
    /// Set in [`InngestModuleOptions`](crate::InngestModuleOptions).
    Option,
    /// Read from this environment variable.
    Env(&'static str),
    /// Nestling's default.
    Default,
}

impl fmt::Display for ValueSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Option => f.write_str("set in the module options"),
            Self::Env(var) => write!(f, "from environment variable {var}"),
            Self::Default => f.write_str("the default"),
        }
    }
}

/// One invalid or missing option.
///
/// # Examples
///
/// ```
/// use std::collections::BTreeMap;
/// use nestling_inngest::{Error, InngestModuleOptions, ValueSource};
///
/// let env = BTreeMap::from([("INNGEST_SERVE_PORT", "eighty")]);
/// let Err(Error::InvalidOptions(problems)) = InngestModuleOptions::new("a").resolve(&env) else {
///     panic!("expected invalid options");
/// };
/// let problem = &problems.problems()[0];
/// assert_eq!(problem.field, "serve_port");
/// assert_eq!(problem.source, ValueSource::Env("INNGEST_SERVE_PORT"));
/// assert!(problem.to_string().starts_with("`serve_port` (from environment variable INNGEST_SERVE_PORT)"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OptionProblem {
    /// Option path, e.g. `connect.max_worker_concurrency`.
    pub field: String,
    /// Where the offending value came from (`Default` for a missing required value).
    pub source: ValueSource,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for OptionProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self {
            field,
            source,
            message,
        } = self;

        match source {
            ValueSource::Default => write!(f, "`{field}`: {message}"),
            _ => write!(f, "`{field}` ({source}): {message}"),
        }
    }
}

/// One problem about an option set in code, for checks made after resolution.
pub(crate) fn single_problem(field: &str, message: String) -> OptionProblems {
    OptionProblems::single(OptionProblem {
        field: field.to_owned(),
        source: ValueSource::Option,
        message,
    })
}

/// Every problem found in one resolution, in option order; never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionProblems(Vec<OptionProblem>);

impl OptionProblems {
    pub(crate) fn new(problems: Vec<OptionProblem>) -> Option<Self> {
        (!problems.is_empty()).then_some(Self(problems))
    }

    pub(crate) fn single(problem: OptionProblem) -> Self {
        Self(vec![problem])
    }

    /// The problems, in option order.
    pub fn problems(&self) -> &[OptionProblem] {
        &self.0
    }

    /// The problem about `field`, if any.
    pub fn for_field(&self, field: &str) -> Option<&OptionProblem> {
        self.0.iter().find(|problem| problem.field == field)
    }
}

impl fmt::Display for OptionProblems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for problem in &self.0 {
            write!(f, "\n  - {problem}")?;
        }

        Ok(())
    }
}
