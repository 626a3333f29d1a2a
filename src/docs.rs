//! Renders the Terraform Registry documentation (`docs/`) from the schemas themselves, so that
//! the published reference cannot drift from what the provider serves. `tests/docs.rs` checks
//! the committed files against this output (and rewrites them with `UPDATE_DOCS=1`).

use std::fmt::Write as _;

use crate::schema::{Attribute, Mode, Schema};
use crate::value::Type;

/// Every generated documentation file: (path relative to the repository, contents). Each data
/// source `hss_x` has `docs/data-sources/x.md`, with the example `examples/data-sources/hss_x/`.
pub fn registry_docs() -> Vec<(String, String)> {
    let provider = crate::provider::config::schema();
    let mut docs = vec![(
        "docs/index.md".to_owned(),
        page(
            "Provider: HSS",
            "HSS Provider",
            &provider,
            &example("examples/provider/provider.tf"),
            "Every argument is optional in the configuration: each falls back to the environment \
             variable named in its description, then to its default. Exactly one kind of credentials \
             is needed: `token`, or `access_key` with `secret_key`.",
        ),
    )];
    for source in crate::data_sources::ALL {
        let name = source.type_name();
        let short = name.trim_start_matches("hss_");
        docs.push((
            format!("docs/data-sources/{short}.md"),
            page(
                &format!("{name} Data Source - terraform-provider-hss"),
                &format!("{name} (Data Source)"),
                &source.schema(),
                &example(&format!("examples/data-sources/{name}/data-source.tf")),
                "",
            ),
        ));
    }
    for function in crate::functions::all() {
        docs.push((format!("docs/functions/{}.md", function.name), function_page(&function)));
    }
    docs
}

/// A function's page, in the layout the Registry uses for `docs/functions/`.
fn function_page(f: &crate::functions::Function) -> String {
    let mut out = String::new();
    let example = example(&format!("examples/functions/{}/function.tf", f.name));
    let signature: Vec<String> = f.parameters.iter().map(|p| format!("{} {}", p.name, p.ty)).collect();
    let _ = write!(
        out,
        "---\npage_title: \"{name} function - terraform-provider-hss\"\nsubcategory: \"\"\ndescription: |-\n  \
         {summary}.\n---\n\n<!-- Generated from the provider's function definitions by tests/docs.rs; run `make docs` -->\n\n\
         # function: {name}\n\n{description}\n\nProvider functions need Terraform 1.8 or later (OpenTofu 1.7 or later).\n\n\
         ## Example Usage\n\n```terraform\n{example}```\n\n## Signature\n\n\
         ```text\n{name}({}) {}\n```\n\n## Arguments\n\n",
        signature.join(", "),
        f.returns,
        name = f.name,
        summary = f.summary,
        description = f.description,
    );
    for (i, p) in f.parameters.iter().enumerate() {
        let _ = writeln!(out, "{}. `{}` ({}) {}", i + 1, p.name, p.ty, p.description);
    }
    out
}

/// An example file of the repository; a missing one renders as a note, and the docs test fails.
fn example(path: &str) -> String {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|_| format!("# missing example: {path}\n"))
}

fn page(title: &str, heading: &str, schema: &Schema, example: &str, note: &str) -> String {
    let mut out = String::new();
    let summary = schema.description.split(". ").next().unwrap_or_default().trim_end_matches('.');
    let _ = write!(
        out,
        "---\npage_title: \"{title}\"\nsubcategory: \"\"\ndescription: |-\n  {summary}.\n---\n\n\
         <!-- Generated from the provider's schema by tests/docs.rs; edit the schema, then run\n     \
         `make docs` -->\n\n# {heading}\n\n{}\n\n",
        schema.description
    );
    if !note.is_empty() {
        let _ = write!(out, "{note}\n\n");
    }
    let _ = write!(out, "## Example Usage\n\n```terraform\n{}```\n\n## Schema\n", example);
    for (mode, label) in [(Mode::Required, "Required"), (Mode::Optional, "Optional"), (Mode::Computed, "Read-Only")] {
        let attrs: Vec<&Attribute> = schema.attributes.iter().filter(|a| a.mode == mode).collect();
        if attrs.is_empty() {
            continue;
        }
        let _ = write!(out, "\n### {label}\n\n");
        for a in attrs {
            let sensitive = if a.sensitive { ", Sensitive" } else { "" };
            let nested = if nested_object(&a.ty).is_some() {
                format!(" (see [below for nested schema](#nestedatt--{}))", a.name)
            } else {
                String::new()
            };
            let _ = writeln!(out, "- `{}` ({}{sensitive}) {}{nested}", a.name, type_name(&a.ty), a.description);
        }
    }
    for a in &schema.attributes {
        if let Some(fields) = nested_object(&a.ty) {
            let _ =
                write!(out, "\n<a id=\"nestedatt--{0}\"></a>\n### Nested Schema for `{0}`\n\nRead-Only:\n\n", a.name);
            for (name, ty) in fields {
                let _ = writeln!(out, "- `{name}` ({})", type_name(ty));
            }
        }
    }
    out
}

fn nested_object(ty: &Type) -> Option<&std::collections::BTreeMap<String, Type>> {
    match ty {
        Type::List(inner) | Type::Set(inner) => match inner.as_ref() {
            Type::Object(fields) => Some(fields),
            _ => None,
        },
        _ => None,
    }
}

/// The registry's names for types: `String`, `List of Object`, ...
fn type_name(ty: &Type) -> String {
    match ty {
        Type::Bool => "Boolean".into(),
        Type::Number => "Number".into(),
        Type::String => "String".into(),
        Type::Dynamic => "Dynamic".into(),
        Type::List(inner) => format!("List of {}", type_name(inner)),
        Type::Set(inner) => format!("Set of {}", type_name(inner)),
        Type::Map(inner) => format!("Map of {}", type_name(inner)),
        Type::Object(_) => "Object".into(),
        Type::Tuple(_) => "Tuple".into(),
    }
}
