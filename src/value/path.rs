//! Attribute paths: where inside a value something is, for errors and diagnostics.

use std::fmt;

/// One step of an [`AttributePath`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathStep {
    /// An object attribute by name.
    Attribute(String),
    /// A map element by key.
    ElementKeyString(String),
    /// A list, tuple or set element by position.
    ElementKeyInt(i64),
}

/// A path from the root of a value to one of its parts.
///
/// Built with [`AttributePath::root`] and the builder helpers:
/// `AttributePath::root().attr("ports").index(3).attr("port")`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct AttributePath {
    /// The steps from the root, outermost first.
    pub steps: Vec<PathStep>,
}

impl AttributePath {
    /// The empty path: the value itself.
    pub fn root() -> Self {
        Self { steps: Vec::new() }
    }

    /// This path followed by object attribute `name`.
    #[must_use]
    pub fn attr(mut self, name: impl Into<String>) -> Self {
        self.steps.push(PathStep::Attribute(name.into()));
        self
    }

    /// This path followed by the element at `index`.
    #[must_use]
    pub fn index(mut self, index: i64) -> Self {
        self.steps.push(PathStep::ElementKeyInt(index));
        self
    }

    /// This path followed by the map element with `key`.
    #[must_use]
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.steps.push(PathStep::ElementKeyString(key.into()));
        self
    }

    /// Whether this is the root path.
    pub fn is_root(&self) -> bool {
        self.steps.is_empty()
    }
}

impl fmt::Display for AttributePath {
    /// Renders like HCL traversal: `ports[3].port`, `tags["env"]`; the root renders as `(root)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.steps.is_empty() {
            return f.write_str("(root)");
        }
        for (i, step) in self.steps.iter().enumerate() {
            match step {
                PathStep::Attribute(name) if i == 0 => f.write_str(name)?,
                PathStep::Attribute(name) => write!(f, ".{name}")?,
                PathStep::ElementKeyString(key) => {
                    // Serialising a string cannot fail.
                    write!(f, "[{}]", serde_json::to_string(key).unwrap_or_default())?;
                }
                PathStep::ElementKeyInt(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_and_display() {
        let p = AttributePath::root().attr("ports").index(3).attr("port");
        assert_eq!(
            p.steps,
            vec![PathStep::Attribute("ports".into()), PathStep::ElementKeyInt(3), PathStep::Attribute("port".into())]
        );
        assert_eq!(p.to_string(), "ports[3].port");
        assert_eq!(AttributePath::root().to_string(), "(root)");
        assert_eq!(AttributePath::root().attr("tags").key("a\"b").to_string(), "tags[\"a\\\"b\"]");
        assert!(AttributePath::root().is_root());
    }
}
