//! The schema model our provider and data sources declare (its protocol form is built in
//! `protocol`, the only module that knows the generated types).
//!
//! Flat attributes, plus nested blocks of mode SINGLE (the provider's `assume_role { ... }`,
//! modelled as an [`Attribute`] with `block` set, so that a schema's object type and every
//! attribute walk stay unchanged). List-of-object results use a plain `type` (not
//! `nested_type`) so that Terraform 1.0.3, which had crash bugs with nested attributes, stays
//! safe; nested blocks are as old as Terraform itself.

use std::collections::BTreeMap;

use crate::value::Type;

/// How an attribute is set: by the user (required/optional) or by the provider (computed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Required,
    Optional,
    Computed,
}

#[derive(Debug, Clone)]
pub(crate) struct Attribute {
    pub(crate) name: &'static str,
    pub(crate) ty: Type,
    pub(crate) mode: Mode,
    pub(crate) sensitive: bool,
    /// Markdown; shown in the registry docs and by language servers.
    pub(crate) description: String,
    /// `Some` for a nested block of mode SINGLE (`assume_role { ... }`) rather than an
    /// attribute: its attributes. Its value is an object of their types, null when absent.
    pub(crate) block: Option<Vec<Attribute>>,
}

impl Attribute {
    pub(crate) fn new(name: &'static str, ty: Type, mode: Mode, description: impl Into<String>) -> Self {
        Attribute { name, ty, mode, sensitive: false, description: description.into(), block: None }
    }

    /// A nested block written `name { ... }`, at most once (nesting mode SINGLE). Blocks are
    /// always optional; their attributes say what is required inside.
    pub(crate) fn single_block(name: &'static str, description: impl Into<String>, attributes: Vec<Attribute>) -> Self {
        let ty = Type::Object(attributes.iter().map(|a| (a.name.to_owned(), a.ty.clone())).collect());
        Attribute { block: Some(attributes), ..Attribute::new(name, ty, Mode::Optional, description) }
    }

    pub(crate) fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Schema {
    pub(crate) version: i64,
    pub(crate) description: String,
    pub(crate) attributes: Vec<Attribute>,
}

impl Schema {
    /// The object type of a value of this block, used to decode config and encode state.
    pub(crate) fn object_type(&self) -> Type {
        Type::Object(self.attributes.iter().map(|a| (a.name.to_owned(), a.ty.clone())).collect::<BTreeMap<_, _>>())
    }
}
