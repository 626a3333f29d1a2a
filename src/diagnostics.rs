//! Diagnostics: what the provider tells the user, with the attribute path that lets Terraform
//! point at the exact line of their configuration.

use crate::value::AttributePath;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Diagnostic {
    pub(crate) severity: Severity,
    pub(crate) summary: String,
    pub(crate) detail: String,
    pub(crate) path: Option<AttributePath>,
}

impl Diagnostic {
    pub(crate) fn error(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Diagnostic { severity: Severity::Error, summary: summary.into(), detail: detail.into(), path: None }
    }

    pub(crate) fn warning(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Diagnostic { severity: Severity::Warning, ..Self::error(summary, detail) }
    }

    /// An error about one top-level attribute of the block being checked.
    pub(crate) fn attribute(name: &str, summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::error(summary, detail).at(AttributePath::root().attr(name))
    }

    pub(crate) fn at(mut self, path: AttributePath) -> Self {
        self.path = Some(path);
        self
    }
}

/// True when any diagnostic is an error, meaning the operation failed.
pub(crate) fn has_errors(diags: &[Diagnostic]) -> bool {
    diags.iter().any(|d| d.severity == Severity::Error)
}
