//! The committed registry docs (`docs/`) must equal what the schema renders, so that they can
//! never drift from the provider. `make docs` rewrites them.

use std::path::Path;

#[test]
fn registry_docs_match_the_schema() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let update = std::env::var_os("UPDATE_DOCS").is_some();
    let mut stale = Vec::new();
    for (path, expected) in hss_provider::docs::registry_docs() {
        let file = root.join(&path);
        if update {
            std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
            std::fs::write(&file, &expected).expect("write doc");
        } else if std::fs::read_to_string(&file).ok().as_deref() != Some(expected.as_str()) {
            stale.push(path);
        }
    }
    assert!(stale.is_empty(), "stale docs {stale:?}: run `make docs`");
}

#[test]
fn every_schema_attribute_is_documented() {
    let docs: String = hss_provider::docs::registry_docs().into_iter().map(|(_, text)| text).collect();
    for name in ["host_id", "page_size", "total_num", "ports", "secret_key", "max_concurrent_requests", "HW_AUTH_TOKEN"]
    {
        assert!(docs.contains(&format!("`{name}`")), "{name} is missing from the docs");
    }
    assert!(docs.contains("- `secret_key` (String, Sensitive)"));
    assert!(docs.contains("### Nested Schema for `ports`"));
    assert!(!docs.contains("# missing example"), "every data source has an example");
}
