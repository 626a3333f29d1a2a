//! The tfplugin6 `Provider` service: decodes each request, calls the provider or data source,
//! and encodes the answer. The only module that knows the generated protocol types.
//!
//! Every failure reaches Terraform as a diagnostic, never as a gRPC error status: Terraform
//! shows a status as a bare "Plugin error" with no context. Features we do not offer
//! (resources, functions, state stores, ...) answer with an error diagnostic that names them.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use futures_util::Stream;
use tonic::{Request, Response, Status, Streaming};

use crate::data_sources;
use crate::diagnostics::{Diagnostic, Severity};
use crate::functions;
use crate::proto::tfplugin6 as pb;
use crate::provider::HssProvider;
use crate::schema::{Mode, Schema};
use crate::value::{self, AttributePath, PathStep, Type, Value};

/// The gRPC face of the HSS provider: one instance serves one Terraform provider process.
#[derive(Clone)]
pub struct ProviderService {
    provider: Arc<HssProvider>,
}

impl ProviderService {
    /// A provider that reads its `HW_*` settings from the process environment.
    pub fn new() -> Self {
        Self::with_env(|name| std::env::var(name).ok())
    }

    /// A provider that reads its settings through `env` (tests pass a fixed map).
    pub fn with_env(env: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Self {
        ProviderService { provider: Arc::new(HssProvider::new(Box::new(env))) }
    }
}

impl Default for ProviderService {
    fn default() -> Self {
        Self::new()
    }
}

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

fn to_proto(diag: &Diagnostic) -> pb::Diagnostic {
    let severity = match diag.severity {
        Severity::Error => pb::diagnostic::Severity::Error,
        Severity::Warning => pb::diagnostic::Severity::Warning,
    };
    pb::Diagnostic {
        severity: severity as i32,
        summary: diag.summary.clone(),
        detail: diag.detail.clone(),
        attribute: diag.path.as_ref().filter(|p| !p.is_root()).map(path_to_proto),
    }
}

fn path_to_proto(path: &AttributePath) -> pb::AttributePath {
    use pb::attribute_path::{Step, step::Selector};
    let steps = path
        .steps
        .iter()
        .map(|step| Step {
            selector: Some(match step {
                PathStep::Attribute(name) => Selector::AttributeName(name.clone()),
                PathStep::ElementKeyString(key) => Selector::ElementKeyString(key.clone()),
                PathStep::ElementKeyInt(index) => Selector::ElementKeyInt(*index),
            }),
        })
        .collect();
    pb::AttributePath { steps }
}

/// The protocol form of a schema.
fn schema_to_proto(schema: &Schema) -> pb::Schema {
    let (attributes, block_types) = block_to_proto(&schema.attributes);
    pb::Schema {
        version: schema.version,
        block: Some(pb::schema::Block {
            version: schema.version,
            attributes,
            block_types,
            description: schema.description.clone(),
            description_kind: pb::StringKind::Markdown as i32,
            ..Default::default()
        }),
    }
}

/// The attributes and the nested blocks (mode SINGLE) of one block.
fn block_to_proto(all: &[crate::schema::Attribute]) -> (Vec<pb::schema::Attribute>, Vec<pb::schema::NestedBlock>) {
    let block_types = all
        .iter()
        .filter_map(|a| {
            let (attributes, block_types) = block_to_proto(a.block.as_deref()?);
            Some(pb::schema::NestedBlock {
                type_name: a.name.to_owned(),
                block: Some(pb::schema::Block {
                    attributes,
                    block_types,
                    description: a.description.clone(),
                    description_kind: pb::StringKind::Markdown as i32,
                    ..Default::default()
                }),
                nesting: pb::schema::nested_block::NestingMode::Single as i32,
                min_items: 0,
                max_items: 0,
            })
        })
        .collect();
    let attributes = all
        .iter()
        .filter(|a| a.block.is_none())
        .map(|a| pb::schema::Attribute {
            name: a.name.to_owned(),
            r#type: a.ty.to_json(),
            description: a.description.clone(),
            description_kind: pb::StringKind::Markdown as i32,
            required: a.mode == Mode::Required,
            optional: a.mode == Mode::Optional,
            computed: a.mode == Mode::Computed,
            sensitive: a.sensitive,
            ..Default::default()
        })
        .collect();
    (attributes, block_types)
}

/// The protocol form of every provider function.
fn function_protos() -> HashMap<String, pb::Function> {
    let parameter = |p: &functions::Parameter| pb::function::Parameter {
        name: p.name.to_owned(),
        r#type: p.ty.to_json(),
        allow_null_value: false,
        allow_unknown_values: false,
        description: p.description.clone(),
        description_kind: pb::StringKind::Markdown as i32,
    };
    functions::all()
        .into_iter()
        .map(|f| {
            let proto = pb::Function {
                parameters: f.parameters.iter().map(parameter).collect(),
                variadic_parameter: None,
                r#return: Some(pb::function::Return { r#type: f.returns.to_json() }),
                summary: f.summary.to_owned(),
                description: f.description,
                description_kind: pb::StringKind::Markdown as i32,
                deprecation_message: String::new(),
            };
            (f.name.to_owned(), proto)
        })
        .collect()
}

/// Decodes the arguments of a `CallFunction`, calls the function and encodes its result.
fn call(request: &pb::call_function::Request) -> Result<pb::DynamicValue, functions::CallError> {
    let unknown = || functions::CallError {
        text: format!("function {:?} is not provided by this provider", request.name),
        argument: None,
    };
    let function = functions::all().into_iter().find(|f| f.name == request.name).ok_or_else(unknown)?;
    if request.arguments.len() != function.parameters.len() {
        return Err(functions::CallError {
            text: format!(
                "{} takes {} arguments, got {}",
                function.name,
                function.parameters.len(),
                request.arguments.len()
            ),
            argument: None,
        });
    }
    let mut args = Vec::with_capacity(function.parameters.len());
    for (i, (param, raw)) in function.parameters.iter().zip(&request.arguments).enumerate() {
        let decoded = value::decode_msgpack(&raw.msgpack, &param.ty).map_err(|e| functions::CallError {
            text: format!("cannot decode argument {}: {e}", param.name),
            argument: Some(i),
        })?;
        let ty = match param.ty {
            Type::Dynamic => value::dynamic_type(&raw.msgpack).unwrap_or(Type::Dynamic),
            _ => param.ty.clone(),
        };
        args.push(functions::Argument { value: decoded, ty });
    }
    let (result, ty) = (function.call)(&args)?;
    let encoded = match function.returns {
        Type::Dynamic => value::encode_dynamic(&result, &ty),
        _ => value::encode_msgpack(&result, &function.returns),
    };
    let msgpack =
        encoded.map_err(|e| functions::CallError { text: format!("cannot encode the result: {e}"), argument: None })?;
    Ok(pb::DynamicValue { msgpack, json: Vec::new() })
}

fn diagnostics(diags: &[Diagnostic]) -> Vec<pb::Diagnostic> {
    diags.iter().map(to_proto).collect()
}

/// Decodes a config value sent by Terraform. Terraform sends msgpack for every call this
/// provider serves; a JSON DynamicValue can only come from another client, and is refused.
fn decode(value: Option<&pb::DynamicValue>, ty: &Type, what: &str) -> Result<Value, Diagnostic> {
    let result = match value {
        Some(v) if !v.msgpack.is_empty() => value::decode_msgpack(&v.msgpack, ty),
        Some(v) if !v.json.is_empty() => {
            return Err(Diagnostic::error(
                format!("Cannot decode the {what}"),
                "The value arrived as JSON. This provider reads DynamicValues in msgpack, which is what \
                 Terraform and OpenTofu send; the client that sent this call is not one of them.",
            ));
        }
        _ => return Ok(Value::Null),
    };
    result.map_err(|err| {
        let diag = Diagnostic::error(format!("Cannot decode the {what}"), err.to_string());
        if err.path.is_root() { diag } else { diag.at(err.path.clone()) }
    })
}

fn encode(value: &Value, ty: &Type) -> Result<pb::DynamicValue, Diagnostic> {
    let msgpack = value::encode_msgpack(value, ty)
        .map_err(|err| Diagnostic::error("Cannot encode the result", err.to_string()))?;
    Ok(pb::DynamicValue { msgpack, json: Vec::new() })
}

fn capabilities() -> pb::ServerCapabilities {
    pb::ServerCapabilities {
        // The schema never changes within a release, so Terraform >= 1.6 may cache it and skip
        // GetProviderSchema in the later processes of a run.
        get_provider_schema_optional: true,
        ..Default::default()
    }
}

fn unsupported(kind: &str, name: &str) -> Vec<pb::Diagnostic> {
    let what = if name.is_empty() { kind.to_owned() } else { format!("{kind} {name:?}") };
    diagnostics(&[Diagnostic::error(
        format!("Unsupported {kind}"),
        format!(
            "{what} is not supported by this provider: terraform-provider-hss serves data sources ({}) and \
             functions only.",
            data_sources::ALL.iter().map(|d| d.type_name()).collect::<Vec<_>>().join(", ")
        ),
    )])
}

/// Logs how long one call took; the benchmark reads these lines for the provider's share.
fn finished(rpc: &'static str, started: Instant) {
    tracing::debug!(rpc, elapsed_us = started.elapsed().as_micros() as u64, "rpc finished");
}

/// Writes the `impl Provider`, adding one method per unsupported unary RPC. `async_trait` has to
/// see the generated methods, so the whole impl block is produced by the macro.
macro_rules! provider_service {
    (
        unsupported { $( $method:ident($module:ident, $kind:literal, $name:ident); )* }
        $($supported:tt)*
    ) => {
        #[tonic::async_trait]
        impl pb::provider_server::Provider for ProviderService {
            $(
                #[allow(clippy::needless_update)] // some responses have no field besides diagnostics
                async fn $method(
                    &self,
                    request: Request<pb::$module::Request>,
                ) -> Result<Response<pb::$module::Response>, Status> {
                    let name = request.into_inner().$name;
                    Ok(Response::new(pb::$module::Response {
                        diagnostics: unsupported($kind, &name),
                        ..Default::default()
                    }))
                }
            )*
            $($supported)*
        }
    };
}

provider_service! {
    unsupported {
        validate_resource_config(validate_resource_config, "resource type", type_name);
        upgrade_resource_state(upgrade_resource_state, "resource type", type_name);
        upgrade_resource_identity(upgrade_resource_identity, "resource type", type_name);
        read_resource(read_resource, "resource type", type_name);
        plan_resource_change(plan_resource_change, "resource type", type_name);
        apply_resource_change(apply_resource_change, "resource type", type_name);
        import_resource_state(import_resource_state, "resource type", type_name);
        move_resource_state(move_resource_state, "resource type", target_type_name);
        generate_resource_config(generate_resource_config, "resource type", type_name);
        validate_ephemeral_resource_config(validate_ephemeral_resource_config, "ephemeral resource type", type_name);
        open_ephemeral_resource(open_ephemeral_resource, "ephemeral resource type", type_name);
        renew_ephemeral_resource(renew_ephemeral_resource, "ephemeral resource type", type_name);
        close_ephemeral_resource(close_ephemeral_resource, "ephemeral resource type", type_name);
        validate_list_resource_config(validate_list_resource_config, "list resource type", type_name);
        validate_state_store_config(validate_state_store, "state store", type_name);
        configure_state_store(configure_state_store, "state store", type_name);
        lock_state(lock_state, "state store", type_name);
        unlock_state(unlock_state, "state store", type_name);
        get_states(get_states, "state store", type_name);
        delete_state(delete_state, "state store", type_name);
        plan_action(plan_action, "action type", action_type);
        validate_action_config(validate_action_config, "action type", type_name);
    }

    async fn get_metadata(
        &self,
        _request: Request<pb::get_metadata::Request>,
    ) -> Result<Response<pb::get_metadata::Response>, Status> {
        let data_sources = data_sources::ALL
            .iter()
            .map(|d| pb::get_metadata::DataSourceMetadata { type_name: d.type_name().to_owned() })
            .collect();
        let functions = functions::all()
            .into_iter()
            .map(|f| pb::get_metadata::FunctionMetadata { name: f.name.to_owned() })
            .collect();
        Ok(Response::new(pb::get_metadata::Response {
            server_capabilities: Some(capabilities()),
            data_sources,
            functions,
            ..Default::default()
        }))
    }

    async fn get_provider_schema(
        &self,
        _request: Request<pb::get_provider_schema::Request>,
    ) -> Result<Response<pb::get_provider_schema::Response>, Status> {
        let started = Instant::now();
        let data_source_schemas: HashMap<String, pb::Schema> =
            data_sources::ALL.iter().map(|d| (d.type_name().to_owned(), schema_to_proto(&d.schema()))).collect();
        let response = pb::get_provider_schema::Response {
            provider: Some(schema_to_proto(&crate::provider::config::schema())),
            data_source_schemas,
            functions: function_protos(),
            server_capabilities: Some(capabilities()),
            ..Default::default()
        };
        finished("GetProviderSchema", started);
        Ok(Response::new(response))
    }

    async fn validate_provider_config(
        &self,
        request: Request<pb::validate_provider_config::Request>,
    ) -> Result<Response<pb::validate_provider_config::Response>, Status> {
        let request = request.into_inner();
        let ty = crate::provider::config::schema().object_type();
        let diags = match decode(request.config.as_ref(), &ty, "provider configuration") {
            Ok(config) => self.provider.validate(&config),
            Err(diag) => vec![diag],
        };
        Ok(Response::new(pb::validate_provider_config::Response { diagnostics: diagnostics(&diags) }))
    }

    async fn configure_provider(
        &self,
        request: Request<pb::configure_provider::Request>,
    ) -> Result<Response<pb::configure_provider::Response>, Status> {
        let started = Instant::now();
        let request = request.into_inner();
        let ty = crate::provider::config::schema().object_type();
        let version = Some(request.terraform_version).filter(|v| !v.is_empty());
        let diags = match decode(request.config.as_ref(), &ty, "provider configuration") {
            Ok(config) => self.provider.configure(&config, version),
            Err(diag) => vec![diag],
        };
        finished("ConfigureProvider", started);
        Ok(Response::new(pb::configure_provider::Response { diagnostics: diagnostics(&diags) }))
    }

    async fn validate_data_resource_config(
        &self,
        request: Request<pb::validate_data_resource_config::Request>,
    ) -> Result<Response<pb::validate_data_resource_config::Response>, Status> {
        let request = request.into_inner();
        let diags = match data_sources::find(&request.type_name) {
            Err(diag) => vec![diag],
            Ok(source) => {
                match decode(request.config.as_ref(), &source.schema().object_type(), "data source configuration") {
                    Ok(config) => source.validate(&config),
                    Err(diag) => vec![diag],
                }
            }
        };
        Ok(Response::new(pb::validate_data_resource_config::Response { diagnostics: diagnostics(&diags) }))
    }

    async fn read_data_source(
        &self,
        request: Request<pb::read_data_source::Request>,
    ) -> Result<Response<pb::read_data_source::Response>, Status> {
        let started = Instant::now();
        let request = request.into_inner();
        let result = self.read(&request).await;
        finished("ReadDataSource", started);
        Ok(Response::new(match result {
            Ok(state) => pb::read_data_source::Response { state: Some(state), ..Default::default() },
            Err(diags) => pb::read_data_source::Response { diagnostics: diagnostics(&diags), ..Default::default() },
        }))
    }

    async fn stop_provider(
        &self,
        _request: Request<pb::stop_provider::Request>,
    ) -> Result<Response<pb::stop_provider::Response>, Status> {
        tracing::debug!("StopProvider: cancelling reads in flight");
        self.provider.stop();
        Ok(Response::new(pb::stop_provider::Response { error: String::new() }))
    }

    async fn get_resource_identity_schemas(
        &self,
        _request: Request<pb::get_resource_identity_schemas::Request>,
    ) -> Result<Response<pb::get_resource_identity_schemas::Response>, Status> {
        // No resources, so no identities: an empty answer is the truthful one.
        Ok(Response::new(pb::get_resource_identity_schemas::Response::default()))
    }

    async fn get_functions(
        &self,
        _request: Request<pb::get_functions::Request>,
    ) -> Result<Response<pb::get_functions::Response>, Status> {
        Ok(Response::new(pb::get_functions::Response { functions: function_protos(), diagnostics: Vec::new() }))
    }

    async fn call_function(
        &self,
        request: Request<pb::call_function::Request>,
    ) -> Result<Response<pb::call_function::Response>, Status> {
        let started = Instant::now();
        let request = request.into_inner();
        let response = match call(&request) {
            Ok(result) => pb::call_function::Response { result: Some(result), error: None },
            Err(error) => pb::call_function::Response {
                result: None,
                error: Some(pb::FunctionError {
                    text: error.text,
                    function_argument: error.argument.and_then(|i| i64::try_from(i).ok()),
                }),
            },
        };
        finished("CallFunction", started);
        Ok(Response::new(response))
    }

    type ListResourceStream = BoxStream<pb::list_resource::Event>;

    async fn list_resource(
        &self,
        request: Request<pb::list_resource::Request>,
    ) -> Result<Response<Self::ListResourceStream>, Status> {
        let event = pb::list_resource::Event {
            diagnostic: unsupported("list resource type", &request.into_inner().type_name),
            ..Default::default()
        };
        Ok(Response::new(Box::pin(futures_util::stream::iter([Ok(event)]))))
    }

    type ReadStateBytesStream = BoxStream<pb::read_state_bytes::Response>;

    async fn read_state_bytes(
        &self,
        request: Request<pb::read_state_bytes::Request>,
    ) -> Result<Response<Self::ReadStateBytesStream>, Status> {
        let chunk = pb::read_state_bytes::Response {
            diagnostics: unsupported("state store", &request.into_inner().type_name),
            ..Default::default()
        };
        Ok(Response::new(Box::pin(futures_util::stream::iter([Ok(chunk)]))))
    }

    async fn write_state_bytes(
        &self,
        _request: Request<Streaming<pb::write_state_bytes::RequestChunk>>,
    ) -> Result<Response<pb::write_state_bytes::Response>, Status> {
        Ok(Response::new(pb::write_state_bytes::Response { diagnostics: unsupported("state store", "") }))
    }

    type InvokeActionStream = BoxStream<pb::invoke_action::Event>;

    async fn invoke_action(
        &self,
        request: Request<pb::invoke_action::Request>,
    ) -> Result<Response<Self::InvokeActionStream>, Status> {
        use pb::invoke_action::event::{Completed, Type as EventType};
        let event = pb::invoke_action::Event {
            r#type: Some(EventType::Completed(Completed {
                diagnostics: unsupported("action type", &request.into_inner().action_type),
            })),
        };
        Ok(Response::new(Box::pin(futures_util::stream::iter([Ok(event)]))))
    }
}

impl ProviderService {
    async fn read(&self, request: &pb::read_data_source::Request) -> Result<pb::DynamicValue, Vec<Diagnostic>> {
        let source = data_sources::find(&request.type_name).map_err(|d| vec![d])?;
        let ty = source.schema().object_type();
        let config = decode(request.config.as_ref(), &ty, "data source configuration").map_err(|d| vec![d])?;
        if !config.is_wholly_known() {
            return Err(vec![Diagnostic::error(
                "Configuration not known yet",
                "Some arguments of this data source are only known after apply, so it cannot be read yet.",
            )]);
        }
        let ctx = self.provider.read_context().map_err(|d| vec![d])?;
        let state = source.read(&ctx, &config).await?;
        encode(&state, &ty).map_err(|d| vec![d])
    }
}
