//! The data sources this provider serves, looked up by type name.

pub(crate) mod host_ports;

use crate::diagnostics::Diagnostic;
use crate::provider::ReadContext;
use crate::schema::Schema;
use crate::value::Value;

/// Every data source: its type name and schema.
pub(crate) fn schemas() -> Vec<(&'static str, Schema)> {
    vec![(host_ports::TYPE_NAME, host_ports::schema())]
}

/// The schema of `type_name`, or `None` when we do not serve it.
pub(crate) fn schema(type_name: &str) -> Option<Schema> {
    schemas().into_iter().find(|(name, _)| *name == type_name).map(|(_, schema)| schema)
}

/// Validates a data source's configuration; values may still be unknown.
pub(crate) fn validate(type_name: &str, config: &Value) -> Vec<Diagnostic> {
    match type_name {
        host_ports::TYPE_NAME => host_ports::validate(config),
        _ => vec![unsupported(type_name)],
    }
}

/// Reads a data source; the result is its whole, known state.
pub(crate) async fn read(type_name: &str, ctx: &ReadContext, config: &Value) -> Result<Value, Vec<Diagnostic>> {
    match type_name {
        host_ports::TYPE_NAME => host_ports::read(ctx, config).await,
        _ => Err(vec![unsupported(type_name)]),
    }
}

fn unsupported(type_name: &str) -> Diagnostic {
    Diagnostic::error(
        "Unsupported data source",
        format!("data source type {type_name:?} is not supported by this provider (it serves hss_host_ports)"),
    )
}
