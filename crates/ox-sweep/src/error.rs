//! Errors in a sweep spec: found before anything starts, each saying what to fix.

/// A sweep spec that cannot be run as written.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The TOML file does not parse.
    #[error("{path}: {message}")]
    Toml { path: String, message: String },
    /// A key or value of the spec is wrong.
    #[error("{0}")]
    Invalid(String),
    /// A `{name}` in a command names no param, seed or earlier step.
    #[error("unknown placeholder {{{name}}} in {step}command{}; known: {known}", closest.as_ref().map(|c| format!(" (did you mean {{{c}}}?)")).unwrap_or_default())]
    UnknownPlaceholder {
        name: String,
        step: String,
        known: String,
        /// The known name nearest to `name`, when one is close.
        closest: Option<String>,
    },
}

impl SpecError {
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        SpecError::Invalid(message.into())
    }
}
