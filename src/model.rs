//! Typed models of Terraform blocks: one description per attribute gives the schema, the parsing
//! of a configuration and the rendering of a state, so an attribute's name is written once.
//!
//! A block is declared with [`terraform_model!`], which writes a plain struct (one field per
//! attribute; `optional` fields become `Option<T>`) and three functions derived from the same
//! list: `attributes()` for the schema, `parse()` from a decoded [`Value`], and `render()` back
//! to one. Using a field name that is not declared fails to compile, and so does a type that
//! has no Terraform form, which is the point: the old hand-written tables let a typo resolve to
//! "absent" at run time.
//!
//! Parsing follows "parse, don't validate": [`Parser`] checks each value once, with its
//! attribute path, and collects every diagnostic instead of stopping at the first. Unknown
//! values (not yet known at plan time) are recorded and skipped; the protocol layer never reads
//! with unknowns, so a typed model is only used for real once everything is known.
//!
//! We use a `macro_rules!` table rather than a derive macro: a proc-macro crate would add a
//! build step and `syn` to the dependency graph for what a twenty-line declarative macro does.

use std::collections::BTreeMap;

use crate::diagnostics::Diagnostic;
use crate::schema::{Attribute, Mode};
use crate::value::{AttributePath, Number, Type, Value};

/// A Rust type with a Terraform form: its type, how to read it from a known, non-null value, and
/// how to write it back.
pub(crate) trait AttrType: Sized {
    fn ty() -> Type;
    /// Reads `value`, which is known and not null; `path` names it in diagnostics.
    fn parse(value: &Value, path: &AttributePath) -> Result<Self, Vec<Diagnostic>>;
    fn render(&self) -> Value;
    /// Reads the value of an environment variable (only the provider block has them).
    fn from_env(raw: &str) -> Result<Self, String> {
        let _ = raw;
        Err("cannot be set from the environment".into())
    }
    /// True for a value that means "not set" in the provider block (an empty string).
    fn is_blank(&self) -> bool {
        false
    }
    /// `(name, description)` of each field of an object type (or of a list's elements).
    fn field_docs() -> &'static [(&'static str, &'static str)] {
        &[]
    }
}

fn mismatch(path: &AttributePath, expected: &str, got: &Value) -> Vec<Diagnostic> {
    let name = path_name(path);
    vec![
        Diagnostic::error(format!("Invalid {name}"), format!("{name} must be {expected}, got {}.", got.kind_name()))
            .at(path.clone()),
    ]
}

/// The user's spelling of a path: `allowed[2]`, `port`.
pub(crate) fn path_name(path: &AttributePath) -> String {
    path.to_string()
}

impl AttrType for String {
    fn ty() -> Type {
        Type::String
    }
    fn parse(value: &Value, path: &AttributePath) -> Result<Self, Vec<Diagnostic>> {
        value.as_str().map(str::to_owned).ok_or_else(|| mismatch(path, "a string", value))
    }
    fn render(&self) -> Value {
        Value::String(self.clone())
    }
    fn from_env(raw: &str) -> Result<Self, String> {
        Ok(raw.trim().to_owned())
    }
    fn is_blank(&self) -> bool {
        self.trim().is_empty()
    }
}

impl AttrType for bool {
    fn ty() -> Type {
        Type::Bool
    }
    fn parse(value: &Value, path: &AttributePath) -> Result<Self, Vec<Diagnostic>> {
        value.as_bool().ok_or_else(|| mismatch(path, "true or false", value))
    }
    fn render(&self) -> Value {
        Value::Bool(*self)
    }
    fn from_env(raw: &str) -> Result<Self, String> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" => Ok(true),
            "0" | "false" | "no" => Ok(false),
            other => Err(format!("must be true or false, got {other:?}")),
        }
    }
}

/// Whole numbers: a fractional or out-of-range number is reported, never truncated.
impl AttrType for i64 {
    fn ty() -> Type {
        Type::Number
    }
    fn parse(value: &Value, path: &AttributePath) -> Result<Self, Vec<Diagnostic>> {
        let n = value.as_number().ok_or_else(|| mismatch(path, "a number", value))?;
        n.as_i64().ok_or_else(|| {
            let name = path_name(path);
            vec![
                Diagnostic::error(format!("Invalid {name}"), format!("{name} must be a whole number, got {n}."))
                    .at(path.clone()),
            ]
        })
    }
    fn render(&self) -> Value {
        Value::Number(Number::from_i64(*self))
    }
    fn from_env(raw: &str) -> Result<Self, String> {
        raw.trim().parse().map_err(|_| format!("must be a whole number, got {:?}", raw.trim()))
    }
}

impl AttrType for f64 {
    fn ty() -> Type {
        Type::Number
    }
    fn parse(value: &Value, path: &AttributePath) -> Result<Self, Vec<Diagnostic>> {
        value.as_number().map(Number::as_f64).ok_or_else(|| mismatch(path, "a number", value))
    }
    fn render(&self) -> Value {
        Number::from_f64(*self).map_or(Value::Null, Value::Number)
    }
    fn from_env(raw: &str) -> Result<Self, String> {
        raw.trim()
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .ok_or_else(|| format!("must be a number, got {:?}", raw.trim()))
    }
}

impl<T: AttrType> AttrType for Vec<T> {
    fn ty() -> Type {
        Type::List(Box::new(T::ty()))
    }
    fn field_docs() -> &'static [(&'static str, &'static str)] {
        T::field_docs()
    }
    fn parse(value: &Value, path: &AttributePath) -> Result<Self, Vec<Diagnostic>> {
        let elements = value.as_elements().ok_or_else(|| mismatch(path, "a list", value))?;
        let mut out = Vec::with_capacity(elements.len());
        let mut diags = Vec::new();
        for (i, element) in elements.iter().enumerate() {
            let at = path.clone().index(i as i64);
            if element.is_null() {
                diags.push(
                    Diagnostic::error(format!("Invalid {at}"), format!("{at} is null; remove it or give a value."))
                        .at(at),
                );
                continue;
            }
            match T::parse(element, &at) {
                Ok(v) => out.push(v),
                Err(d) => diags.extend(d),
            }
        }
        if diags.is_empty() { Ok(out) } else { Err(diags) }
    }
    fn render(&self) -> Value {
        Value::List(self.iter().map(AttrType::render).collect())
    }
}

impl<T: AttrType> AttrType for Option<T> {
    fn ty() -> Type {
        T::ty()
    }
    fn field_docs() -> &'static [(&'static str, &'static str)] {
        T::field_docs()
    }
    fn parse(value: &Value, path: &AttributePath) -> Result<Self, Vec<Diagnostic>> {
        if value.is_null() { Ok(None) } else { T::parse(value, path).map(Some) }
    }
    fn render(&self) -> Value {
        self.as_ref().map_or(Value::Null, AttrType::render)
    }
}

/// A check of one parsed value; the message completes "{name} must ...".
pub(crate) trait Check<T: ?Sized> {
    fn check(&self, value: &T) -> Result<(), String>;
}

/// A string of `min..=max` characters.
pub(crate) struct Len(pub(crate) usize, pub(crate) usize);

impl Check<String> for Len {
    fn check(&self, value: &String) -> Result<(), String> {
        let len = value.chars().count();
        if (self.0..=self.1).contains(&len) {
            Ok(())
        } else {
            Err(format!("must have {} to {} characters, got {len}", self.0, self.1))
        }
    }
}

/// One of a fixed set of strings (case-sensitive, as the API compares them).
pub(crate) struct OneOf(pub(crate) &'static [&'static str]);

impl Check<String> for OneOf {
    fn check(&self, value: &String) -> Result<(), String> {
        if self.0.contains(&value.as_str()) {
            Ok(())
        } else {
            let quoted: Vec<String> = self.0.iter().map(|v| format!("{v:?}")).collect();
            Err(format!("must be one of {}, got {value:?}", quoted.join(", ")))
        }
    }
}

/// A whole number in `min..=max`.
pub(crate) struct Range(pub(crate) i64, pub(crate) i64);

impl Check<i64> for Range {
    fn check(&self, value: &i64) -> Result<(), String> {
        if (self.0..=self.1).contains(value) {
            Ok(())
        } else {
            Err(format!("must be a whole number from {} to {}, got {value}", self.0, self.1))
        }
    }
}

/// A number in `min..=max` (fractions allowed).
pub(crate) struct Between(pub(crate) f64, pub(crate) f64);

impl Check<f64> for Between {
    fn check(&self, value: &f64) -> Result<(), String> {
        if (self.0..=self.1).contains(value) {
            Ok(())
        } else {
            Err(format!("must be a number from {} to {}, got {value}", self.0, self.1))
        }
    }
}

/// What the declaration says of one attribute besides its name, type and mode.
#[derive(Clone, Copy)]
pub(crate) struct Meta {
    pub(crate) doc: &'static str,
    /// The environment variable that supplies it (provider block only).
    pub(crate) env: Option<&'static str>,
    pub(crate) sensitive: bool,
}

impl Meta {
    pub(crate) const fn new(doc: &'static str) -> Self {
        Meta { doc, env: None, sensitive: false }
    }
    pub(crate) const fn env(mut self, name: &'static str) -> Self {
        self.env = Some(name);
        self
    }
    pub(crate) const fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }
}

impl From<&'static str> for Meta {
    fn from(doc: &'static str) -> Self {
        Meta::new(doc)
    }
}

/// The schema attribute of one declared field. Descriptions name their environment variable,
/// and those of objects list the objects' fields.
pub(crate) fn attribute<T: AttrType>(name: &'static str, mode: Mode, meta: Meta) -> Attribute {
    let mut description = match meta.env {
        Some(env) => format!("{} Environment variable: `{env}`.", meta.doc),
        None => meta.doc.to_owned(),
    };
    for (field, doc) in T::field_docs() {
        description.push_str(&format!("\n  - `{field}`: {doc}"));
    }
    let attribute = Attribute::new(name, T::ty(), mode, description);
    if meta.sensitive { attribute.sensitive() } else { attribute }
}

/// Reads the attributes of one object value, collecting diagnostics and unknown names.
pub(crate) struct Parser<'a> {
    object: &'a Value,
    base: AttributePath,
    pub(crate) diagnostics: Vec<Diagnostic>,
    pub(crate) unknown: Vec<&'static str>,
}

impl<'a> Parser<'a> {
    pub(crate) fn new(object: &'a Value, base: AttributePath) -> Self {
        Parser { object, base, diagnostics: Vec::new(), unknown: Vec::new() }
    }

    /// The value of `name`, or `None` when it is null, absent or unknown (unknowns are noted).
    fn raw(&mut self, name: &'static str) -> Option<&'a Value> {
        match self.object.get(name) {
            Some(v) if !v.is_known() => {
                self.unknown.push(name);
                None
            }
            Some(v) if !v.is_null() => Some(v),
            _ => None,
        }
    }

    fn checked<T: AttrType>(&mut self, name: &'static str, value: &Value, check: Option<&dyn Check<T>>) -> Option<T> {
        let path = self.base.clone().attr(name);
        if !value.is_wholly_known() {
            // A list with unknown elements: checked once it is known.
            self.unknown.push(name);
            return None;
        }
        match T::parse(value, &path) {
            Err(diags) => {
                self.diagnostics.extend(diags);
                None
            }
            Ok(parsed) => match check.map(|c| c.check(&parsed)) {
                Some(Err(message)) => {
                    self.diagnostics
                        .push(Diagnostic::error(format!("Invalid {name}"), format!("{name} {message}.")).at(path));
                    None
                }
                _ => Some(parsed),
            },
        }
    }

    pub(crate) fn required<T: AttrType + Default>(&mut self, name: &'static str, check: Option<&dyn Check<T>>) -> T {
        let known_absent = self.object.get(name).is_none_or(Value::is_null);
        match self.raw(name) {
            Some(value) => self.checked(name, value, check).unwrap_or_default(),
            None => {
                if known_absent {
                    self.diagnostics.push(Diagnostic::attribute(
                        name,
                        format!("Missing {name}"),
                        format!("{name} is required."),
                    ));
                }
                T::default()
            }
        }
    }

    pub(crate) fn optional<T: AttrType>(&mut self, name: &'static str, check: Option<&dyn Check<T>>) -> Option<T> {
        let value = self.raw(name)?;
        self.checked(name, value, check)
    }

    /// Computed attributes are the provider's to set: whatever the configuration holds (null) is
    /// ignored.
    pub(crate) fn computed<T: Default>(&mut self, _name: &'static str, _check: Option<&dyn Check<T>>) -> T {
        T::default()
    }

    /// Reads an environment variable into a field the block left unset (or blank).
    pub(crate) fn env_fallback<T: AttrType>(
        &mut self,
        field: &mut Option<T>,
        name: &'static str,
        meta: Meta,
        check: Option<&dyn Check<T>>,
        env: &dyn Fn(&str) -> Option<String>,
    ) {
        if field.as_ref().is_some_and(|v| !v.is_blank()) || self.unknown.contains(&name) {
            return;
        }
        let Some(var) = meta.env else { return };
        let Some(raw) = env(var).filter(|raw| !raw.trim().is_empty()) else {
            *field = None;
            return;
        };
        let parsed = T::from_env(&raw).and_then(|v| match check.map(|c| c.check(&v)) {
            Some(Err(message)) => Err(message),
            _ => Ok(v),
        });
        match parsed {
            Ok(v) => *field = Some(v),
            Err(message) => {
                *field = None;
                self.diagnostics.push(Diagnostic::attribute(
                    name,
                    format!("Invalid {var} value"),
                    format!("{var} (for {name}) {message}."),
                ));
            }
        }
    }
}

/// A parsed block: the model (with defaults where a value was bad or unknown), its diagnostics,
/// and the attributes still unknown.
pub(crate) struct Parsed<T> {
    pub(crate) model: T,
    pub(crate) diagnostics: Vec<Diagnostic>,
    pub(crate) unknown: Vec<&'static str>,
}

impl<T> Parsed<T> {
    /// The model if it parsed without error and nothing is unknown.
    pub(crate) fn into_result(self) -> Result<T, Vec<Diagnostic>> {
        if crate::diagnostics::has_errors(&self.diagnostics) {
            return Err(self.diagnostics);
        }
        if !self.unknown.is_empty() {
            return Err(vec![Diagnostic::error(
                "Configuration not known yet",
                format!(
                    "The arguments {} are only known after apply, so this cannot be read yet.",
                    self.unknown.join(", ")
                ),
            )]);
        }
        Ok(self.model)
    }
}

/// A block (or part of one) declared with [`terraform_model!`]. Pairs of models are models
/// too, so that a data source can take another's arguments whole and add its own.
pub(crate) trait BlockModel: Sized {
    /// The schema attributes, in declaration order.
    fn attributes() -> Vec<Attribute>;
    /// Parses a decoded block (or object) whose path is `base`.
    fn parse_at(value: &Value, base: AttributePath) -> Parsed<Self>;
    /// Appends `(name, value)` for every attribute.
    fn render_into(&self, out: &mut Vec<(&'static str, Value)>);

    fn parse(value: &Value) -> Parsed<Self> {
        Self::parse_at(value, AttributePath::root())
    }

    /// The whole block as a value.
    #[allow(dead_code)] // data sources render arguments and state together
    fn render(&self) -> Value {
        let mut fields = Vec::new();
        self.render_into(&mut fields);
        object(fields)
    }

    /// The object type of the block.
    #[allow(dead_code)] // the schema's object type is what the protocol layer uses
    fn object_type() -> Type {
        Type::Object(Self::attributes().into_iter().map(|a| (a.name.to_owned(), a.ty)).collect())
    }
}

impl<A: BlockModel, B: BlockModel> BlockModel for (A, B) {
    fn attributes() -> Vec<Attribute> {
        let mut attributes = A::attributes();
        attributes.extend(B::attributes());
        attributes
    }

    fn parse_at(value: &Value, base: AttributePath) -> Parsed<Self> {
        let a = A::parse_at(value, base.clone());
        let b = B::parse_at(value, base);
        let mut diagnostics = a.diagnostics;
        diagnostics.extend(b.diagnostics);
        let mut unknown = a.unknown;
        unknown.extend(b.unknown);
        Parsed { model: (a.model, b.model), diagnostics, unknown }
    }

    fn render_into(&self, out: &mut Vec<(&'static str, Value)>) {
        self.0.render_into(out);
        self.1.render_into(out);
    }
}

/// Renders named attribute values as an object value.
pub(crate) fn object(fields: Vec<(&'static str, Value)>) -> Value {
    Value::Object(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect::<BTreeMap<_, _>>())
}

/// The attribute name of a field: its identifier without a raw-identifier prefix (`r#type`).
pub(crate) const fn field_name(ident: &'static str) -> &'static str {
    match ident.as_bytes() {
        [b'r', b'#', ..] => match ident.split_at_checked(2) {
            Some((_, rest)) => rest,
            None => ident,
        },
        _ => ident,
    }
}

/// Declares a typed block model. Each line is
/// `mode name: Type, meta [, check];` where mode is `required`, `optional` or `computed`,
/// `meta` is a description string or a [`Meta`], and `check` is a [`Check`] of `Type`.
macro_rules! terraform_model {
    (@field required $ty:ty) => { $ty };
    (@field optional $ty:ty) => { Option<$ty> };
    (@field computed $ty:ty) => { $ty };
    (@mode required) => { $crate::schema::Mode::Required };
    (@mode optional) => { $crate::schema::Mode::Optional };
    (@mode computed) => { $crate::schema::Mode::Computed };
    (@check $ty:ty;) => { None::<&dyn $crate::model::Check<$ty>> };
    (@check $ty:ty; $check:expr) => { Some(&$check as &dyn $crate::model::Check<$ty>) };
    (@env optional $parser:ident, $parsed:ident, $field:ident, $ty:ty, $doc:expr, $env:ident, $include:ident $(, $check:expr)?) => {
        let name = $crate::model::field_name(stringify!($field));
        if $include(name) {
            $parser.env_fallback::<$ty>(
                &mut $parsed.model.$field,
                name,
                $crate::model::Meta::from($doc),
                terraform_model!(@check $ty; $($check)?),
                $env,
            );
        }
    };
    (@env $other:ident $parser:ident, $parsed:ident, $field:ident, $ty:ty, $doc:expr, $env:ident, $include:ident $(, $check:expr)?) => {};
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $mode:ident $field:ident : $ty:ty , $doc:expr $(, $check:expr)? ; )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq)]
        $vis struct $name {
            $( pub(crate) $field: terraform_model!(@field $mode $ty), )*
        }

        impl $crate::model::BlockModel for $name {
            fn attributes() -> Vec<$crate::schema::Attribute> {
                vec![$(
                    $crate::model::attribute::<$ty>(
                        $crate::model::field_name(stringify!($field)),
                        terraform_model!(@mode $mode),
                        $crate::model::Meta::from($doc),
                    ),
                )*]
            }

            fn parse_at(
                value: &$crate::value::Value,
                base: $crate::value::AttributePath,
            ) -> $crate::model::Parsed<Self> {
                let mut parser = $crate::model::Parser::new(value, base);
                let model = $name {
                    $( $field: parser.$mode::<$ty>(
                        $crate::model::field_name(stringify!($field)),
                        terraform_model!(@check $ty; $($check)?),
                    ), )*
                };
                $crate::model::Parsed { model, diagnostics: parser.diagnostics, unknown: parser.unknown }
            }

            fn render_into(&self, out: &mut Vec<(&'static str, $crate::value::Value)>) {
                $( out.push((
                    $crate::model::field_name(stringify!($field)),
                    $crate::model::AttrType::render(&self.$field),
                )); )*
            }
        }

        #[allow(dead_code)] // not every model reads the environment
        impl $name {
            /// Fills optional attributes the block left unset (or blank) from their environment
            /// variables, for the attributes `include` accepts.
            pub(crate) fn apply_env(
                parsed: &mut $crate::model::Parsed<Self>,
                env: &dyn Fn(&str) -> Option<String>,
                include: &dyn Fn(&str) -> bool,
            ) {
                let _ = (&env, &include); // unused by models without optional attributes
                let mut parser = $crate::model::Parser::new(&$crate::value::Value::Null, $crate::value::AttributePath::root());
                parser.unknown = std::mem::take(&mut parsed.unknown);
                $( terraform_model!(@env $mode parser, parsed, $field, $ty, $doc, env, include $(, $check)?); )*
                parsed.unknown = parser.unknown;
                parsed.diagnostics.extend(parser.diagnostics);
            }

        }
    };
}

pub(crate) use terraform_model;

/// Declares an object type (an element of a computed list, such as one port record): the
/// struct, its Terraform object type, and its rendering and parsing, from one field list.
/// Fields are `Option<T>`: the API may leave any of them out, and null says so.
macro_rules! terraform_object {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $field:ident : $ty:ty , $doc:expr ; )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis struct $name {
            $( pub(crate) $field: Option<$ty>, )*
        }

        impl $crate::model::AttrType for $name {
            fn field_docs() -> &'static [(&'static str, &'static str)] {
                const FIELDS: &[(&str, &str)] = &[$( ($crate::model::field_name(stringify!($field)), $doc), )*];
                FIELDS
            }

            fn ty() -> $crate::value::Type {
                $crate::value::Type::Object(
                    [$( (
                        $crate::model::field_name(stringify!($field)).to_owned(),
                        <$ty as $crate::model::AttrType>::ty(),
                    ), )*]
                    .into_iter()
                    .collect(),
                )
            }

            fn parse(
                value: &$crate::value::Value,
                path: &$crate::value::AttributePath,
            ) -> Result<Self, Vec<$crate::diagnostics::Diagnostic>> {
                let mut parser = $crate::model::Parser::new(value, path.clone());
                let model = $name {
                    $( $field: parser.optional::<$ty>($crate::model::field_name(stringify!($field)), None), )*
                };
                if parser.diagnostics.is_empty() { Ok(model) } else { Err(parser.diagnostics) }
            }

            fn render(&self) -> $crate::value::Value {
                $crate::model::object(vec![$(
                    (
                        $crate::model::field_name(stringify!($field)),
                        $crate::model::AttrType::render(&self.$field),
                    ),
                )*])
            }
        }
    };
}

pub(crate) use terraform_object;

/// A configuration of model `M` as Terraform sends it: every attribute present, null unless
/// `pairs` sets it. For tests.
#[cfg(test)]
pub(crate) fn config_of<M: BlockModel>(pairs: &[(&str, Value)]) -> Value {
    let mut map: BTreeMap<String, Value> = M::attributes().iter().map(|a| (a.name.to_owned(), Value::Null)).collect();
    for (k, v) in pairs {
        map.insert((*k).to_owned(), v.clone());
    }
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    terraform_model! {
        struct Example {
            required host_id: String, "The host.", Len(1, 4);
            optional r#type: String, "A protocol.", OneOf(&["TCP", "UDP"]);
            optional port: i64, "A port.", Range(1, 65535);
            optional names: Vec<String>, "Names.";
            optional region: String, Meta::new("A region.").env("HW_REGION_NAME");
            computed total: i64, "A count.";
        }
    }

    fn config(pairs: &[(&str, Value)]) -> Value {
        config_of::<Example>(pairs)
    }

    fn s(v: &str) -> Value {
        Value::String(v.into())
    }

    #[test]
    fn names_come_from_the_fields() {
        let names: Vec<_> = Example::attributes().iter().map(|a| a.name).collect();
        assert_eq!(names, ["host_id", "type", "port", "names", "region", "total"]);
        let region = &Example::attributes()[4];
        assert!(region.description.ends_with("Environment variable: `HW_REGION_NAME`."), "{}", region.description);
    }

    #[test]
    fn parse_then_render_round_trips_and_collects_every_error() {
        let good = config(&[("host_id", s("h")), ("type", s("TCP")), ("names", Value::List(vec![s("a")]))]);
        let parsed = Example::parse(&good).into_result().expect("valid");
        assert_eq!(parsed.r#type.as_deref(), Some("TCP"));
        assert_eq!(parsed.render().get("total"), Some(&Value::Number(Number::from_i64(0))));
        let bad = config(&[
            ("host_id", s("toolong")),
            ("type", s("SCTP")),
            ("port", Value::Number(Number::parse("22.5").expect("number"))),
            ("names", Value::List(vec![s("a"), Value::Number(Number::from_i64(3))])),
        ]);
        let diags = Example::parse(&bad).diagnostics;
        let paths: Vec<String> = diags.iter().filter_map(|d| d.path.as_ref()).map(|p| p.to_string()).collect();
        assert_eq!(paths, ["host_id", "type", "port", "names[1]"]);
        assert!(diags[1].detail.contains("\"TCP\", \"UDP\""), "{}", diags[1].detail);
    }

    #[test]
    fn missing_required_and_unknowns() {
        let parsed = Example::parse(&config(&[]));
        assert_eq!(parsed.diagnostics[0].summary, "Missing host_id");
        let parsed = Example::parse(&config(&[("host_id", Value::Unknown), ("port", Value::Unknown)]));
        assert!(parsed.diagnostics.is_empty());
        assert_eq!(parsed.unknown, ["host_id", "port"]);
        assert!(parsed.into_result().is_err());
    }

    #[test]
    fn environment_fills_only_what_the_block_leaves_out() {
        let env = |name: &str| (name == "HW_REGION_NAME").then(|| "eu-west-0".to_owned());
        let mut parsed = Example::parse(&config(&[("host_id", s("h")), ("region", s(""))]));
        Example::apply_env(&mut parsed, &env, &|_| true);
        assert_eq!(parsed.model.region.as_deref(), Some("eu-west-0"), "an empty string means unset");
        let mut parsed = Example::parse(&config(&[("host_id", s("h")), ("region", s("cn-north-4"))]));
        Example::apply_env(&mut parsed, &env, &|_| true);
        assert_eq!(parsed.model.region.as_deref(), Some("cn-north-4"));
        let mut parsed = Example::parse(&config(&[("host_id", s("h"))]));
        Example::apply_env(&mut parsed, &env, &|name| name != "region");
        assert_eq!(parsed.model.region, None);
    }

    #[test]
    fn raw_identifiers_lose_their_prefix() {
        assert_eq!(field_name("r#type"), "type");
        assert_eq!(field_name("port"), "port");
    }
}
