//! The data sources this provider serves: one trait, one file each, and the static list the
//! protocol layer looks them up in.
//!
//! A data source is written the way terraform-plugin-framework shapes one: a type name, a
//! schema, and a read over typed models. Its `Args` model (what the user writes) and `State`
//! model (what the provider computes) are declared with [`crate::model::terraform_model!`], so
//! the schema, the parsing and the rendering all come from one list of attributes. The
//! [`Registered`] face erases the model types so that the list can hold every data source.
//!
//! Adding a data source: one new file with a `DataSource` impl, and one line in [`ALL`].

pub(crate) mod fleet_port_drift;
pub(crate) mod host_port_drift;
pub(crate) mod host_ports;
pub(crate) mod hosts;
pub(crate) mod policy_args;
pub(crate) mod port_hosts;

use std::future::Future;
use std::pin::Pin;

use crate::diagnostics::Diagnostic;
use crate::model::BlockModel;
use crate::provider::ReadContext;
use crate::schema::Schema;
use crate::value::Value;

/// Every data source, in the order Terraform lists them.
pub(crate) static ALL: &[&dyn Registered] = &[
    &host_ports::HostPorts,
    &host_port_drift::HostPortDrift,
    &hosts::Hosts,
    &port_hosts::PortHosts,
    &fleet_port_drift::FleetPortDrift,
];

/// What each data source file implements.
pub(crate) trait DataSource: Sync + 'static {
    /// The arguments, parsed once from the configuration.
    type Args: BlockModel + Send + Sync;
    /// The computed attributes a read produces.
    type State: BlockModel + Send;

    fn type_name(&self) -> &'static str;

    /// The data source's description (Markdown); the attributes come from the models.
    fn description(&self) -> String;

    /// Checks that involve more than one argument, after each parsed on its own.
    fn check(&self, args: &Self::Args) -> Vec<Diagnostic> {
        let _ = args;
        Vec::new()
    }

    /// Reads the data. Every diagnostic it returns is an error of this read.
    fn read(
        &self,
        ctx: &ReadContext,
        args: &Self::Args,
    ) -> impl Future<Output = Result<Self::State, Vec<Diagnostic>>> + Send;
}

pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The face of a data source the protocol layer sees: values in, values out.
pub(crate) trait Registered: Sync {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    /// Validates a configuration that may hold unknown values.
    fn validate(&self, config: &Value) -> Vec<Diagnostic>;
    /// Reads with a wholly known configuration; the result is the whole state.
    fn read<'a>(&'a self, ctx: &'a ReadContext, config: &'a Value) -> BoxFuture<'a, Result<Value, Vec<Diagnostic>>>;
}

impl<D: DataSource> Registered for D {
    fn type_name(&self) -> &'static str {
        DataSource::type_name(self)
    }

    fn schema(&self) -> Schema {
        let mut attributes = D::Args::attributes();
        attributes.extend(D::State::attributes());
        Schema { version: 0, description: self.description(), attributes }
    }

    fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        let parsed = D::Args::parse(config);
        let mut diags = parsed.diagnostics;
        if diags.is_empty() && parsed.unknown.is_empty() {
            diags = self.check(&parsed.model);
        }
        diags
    }

    fn read<'a>(&'a self, ctx: &'a ReadContext, config: &'a Value) -> BoxFuture<'a, Result<Value, Vec<Diagnostic>>> {
        Box::pin(async move {
            let args = D::Args::parse(config).into_result()?;
            let diags = self.check(&args);
            if !diags.is_empty() {
                return Err(diags);
            }
            let state = DataSource::read(self, ctx, &args).await?;
            let mut fields = Vec::new();
            args.render_into(&mut fields);
            state.render_into(&mut fields);
            Ok(crate::model::object(fields))
        })
    }
}

/// The data source called `type_name`, if we serve it.
pub(crate) fn find(type_name: &str) -> Result<&'static dyn Registered, Diagnostic> {
    ALL.iter().copied().find(|d| d.type_name() == type_name).ok_or_else(|| {
        let served: Vec<&str> = ALL.iter().map(|d| d.type_name()).collect();
        Diagnostic::error(
            "Unsupported data source",
            format!(
                "data source type {type_name:?} is not supported by this provider (it serves {})",
                served.join(", ")
            ),
        )
    })
}

/// The records of a list as a data source's objects, in their documented order (each object
/// type orders itself by its fields, so that a plan never shows a spurious change).
pub(crate) fn sorted<R, T: From<R> + Ord>(records: Vec<R>) -> Vec<T> {
    let mut objects: Vec<T> = records.into_iter().map(T::from).collect();
    objects.sort_unstable();
    objects
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_found() {
        let mut names: Vec<&str> = ALL.iter().map(|d| d.type_name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
        for name in names {
            assert_eq!(find(name).map(|d| d.type_name()).ok(), Some(name));
        }
        assert!(find("hss_nope").is_err_and(|d| d.detail.contains("hss_host_ports")));
    }

    #[test]
    fn arguments_and_state_never_share_a_name() {
        for d in ALL {
            let mut names: Vec<&str> = d.schema().attributes.iter().map(|a| a.name).collect();
            let len = names.len();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), len, "{} declares an attribute twice", d.type_name());
        }
    }
}
