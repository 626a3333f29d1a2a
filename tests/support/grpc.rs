//! The provider process driven over gRPC the way Terraform drives it: the schema's types, a
//! msgpack-encoded provider config for ConfigureProvider, ReadDataSource with its state decoded,
//! StopProvider; with the process's stderr collected (so TRACE logging never blocks it).

use std::collections::BTreeMap;
use std::future::Future;
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use hss_provider::proto::plugin::{Empty, grpc_controller_client::GrpcControllerClient};
use hss_provider::value::{self, Number, Type, Value};
use tonic::transport::Channel;

use crate::support::plugin::{ClientAuth, Identity, Launch, PluginProcess, StderrLog, pb};
use crate::support::wait::within_async;

/// Terraform's gRPC message limit, which the provider uses too: a 10,000-port state is larger
/// than tonic's default 4 MiB.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024 * 1024;
/// The data source under test.
pub const DATA_SOURCE: &str = "hss_host_ports";

pub type Client = pb::provider_client::ProviderClient<Channel>;

/// A running provider and a Terraform-like client of it.
pub struct Provider {
    pub plugin: PluginProcess,
    pub identity: Identity,
    pub client: Client,
    pub provider_type: Type,
    pub data_source_type: Type,
    /// The channel `client` runs over, for the go-plugin services next to the provider's.
    channel: Channel,
    stderr: StderrLog,
}

/// A string value.
pub fn s(v: &str) -> Value {
    Value::String(v.to_owned())
}

/// A number value.
pub fn n(v: i64) -> Value {
    Value::Number(Number::from_i64(v))
}

/// The object type of a schema, from the type JSON the provider sent.
pub fn object_type(schema: &pb::Schema) -> Type {
    let block = schema.block.as_ref().expect("schema block");
    Type::object(block.attributes.iter().map(|a| (a.name.as_str(), Type::from_json(&a.r#type).expect("type JSON"))))
}

/// An object of type `ty` with every attribute null except `attrs`.
pub fn object(ty: &Type, attrs: &[(&str, Value)]) -> Value {
    let Type::Object(fields) = ty else { panic!("{ty} is not an object type") };
    let mut map: BTreeMap<String, Value> = fields.keys().map(|k| (k.clone(), Value::Null)).collect();
    for (k, v) in attrs {
        assert!(map.contains_key(*k), "no attribute {k} in {ty}");
        map.insert((*k).to_owned(), v.clone());
    }
    Value::Object(map)
}

/// A msgpack-encoded config of type `ty` with every attribute null except `attrs`.
pub fn config(ty: &Type, attrs: &[(&str, Value)]) -> pb::DynamicValue {
    pb::DynamicValue {
        msgpack: value::encode_msgpack(&object(ty, attrs), ty).expect("encode msgpack"),
        json: Vec::new(),
    }
}

/// Error diagnostics only.
pub fn errors(diags: &[pb::Diagnostic]) -> Vec<&pb::Diagnostic> {
    diags.iter().filter(|d| d.severity == pb::diagnostic::Severity::Error as i32).collect()
}

/// Every diagnostic as `summary: detail` lines.
pub fn text(diags: &[pb::Diagnostic]) -> String {
    diags.iter().map(|d| format!("{}: {}\n", d.summary, d.detail)).collect()
}

impl Provider {
    /// Starts the provider binary cargo built with AutoMTLS and `env`, connects over mTLS and
    /// reads the schema, as Terraform does first.
    pub async fn start(env: &[(&str, &str)]) -> Provider {
        Provider::launch(&Launch::cargo_built(), env).await
    }

    /// The same for the provider `launch` starts (a release binary, through chroot or qemu).
    pub async fn launch(launch: &Launch, env: &[(&str, &str)]) -> Provider {
        let identity = Identity::terraform_like();
        let owned: Vec<(String, String)> = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        let (id, launch) = (identity.clone(), launch.clone());
        let mut plugin = tokio::task::spawn_blocking(move || {
            let env: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            PluginProcess::launch(&launch, Some(&id), &env)
        })
        .await
        .expect("provider starts");
        let stderr = plugin.collect_stderr();
        let channel = plugin
            .channel(ClientAuth::Tls(&identity))
            .await
            .unwrap_or_else(|e| panic!("mTLS channel to {}: {e}; stderr:\n{}", plugin.address, stderr.text()));
        let mut client = Client::new(channel.clone())
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES);
        let schema = client
            .get_provider_schema(pb::get_provider_schema::Request {})
            .await
            .unwrap_or_else(|e| panic!("GetProviderSchema: {e}; stderr:\n{}", stderr.text()))
            .into_inner();
        let provider_type = object_type(schema.provider.as_ref().expect("provider schema"));
        let data_source_type = object_type(schema.data_source_schemas.get(DATA_SOURCE).expect("data source schema"));
        Provider { plugin, identity, client, provider_type, data_source_type, channel, stderr }
    }

    /// The process ID of the provider.
    pub fn pid(&self) -> u32 {
        self.plugin.child.id()
    }

    /// Everything the provider wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.text()
    }

    /// ConfigureProvider with the provider block `attrs` (the rest null), msgpack-encoded.
    pub async fn configure(&mut self, attrs: &[(&str, Value)]) -> Vec<pb::Diagnostic> {
        let config = config(&self.provider_type, attrs);
        self.configure_raw(config).await
    }

    /// ConfigureProvider with an arbitrary DynamicValue.
    pub async fn configure_raw(&mut self, config: pb::DynamicValue) -> Vec<pb::Diagnostic> {
        let request = pb::configure_provider::Request {
            terraform_version: "1.0.3".into(),
            config: Some(config),
            ..Default::default()
        };
        self.client.configure_provider(request).await.expect("ConfigureProvider").into_inner().diagnostics
    }

    /// ValidateDataResourceConfig of `hss_host_ports` with `attrs` (the rest null).
    pub async fn validate(&mut self, attrs: &[(&str, Value)]) -> Vec<pb::Diagnostic> {
        let request = pb::validate_data_resource_config::Request {
            type_name: DATA_SOURCE.into(),
            config: Some(config(&self.data_source_type, attrs)),
        };
        self.client
            .validate_data_resource_config(request)
            .await
            .expect("ValidateDataResourceConfig")
            .into_inner()
            .diagnostics
    }

    /// ReadDataSource of `hss_host_ports` with `attrs` (the rest null); the decoded state or the
    /// diagnostics when any is an error.
    pub async fn read(&self, attrs: &[(&str, Value)]) -> Result<Value, Vec<pb::Diagnostic>> {
        self.read_future(attrs).await
    }

    /// The same read as a `'static` future, to run next to other calls.
    pub fn read_future(
        &self,
        attrs: &[(&str, Value)],
    ) -> impl Future<Output = Result<Value, Vec<pb::Diagnostic>>> + Send + 'static {
        let ty = self.data_source_type.clone();
        let config = config(&ty, attrs);
        let mut client = self.client.clone();
        async move {
            let request = pb::read_data_source::Request {
                type_name: DATA_SOURCE.into(),
                config: Some(config),
                ..Default::default()
            };
            let response = client.read_data_source(request).await.expect("ReadDataSource").into_inner();
            if !errors(&response.diagnostics).is_empty() {
                return Err(response.diagnostics);
            }
            let state = response.state.expect("a state without error diagnostics");
            Ok(value::decode_msgpack(&state.msgpack, &ty).expect("the state decodes"))
        }
    }

    /// Ends the provider as Terraform does at the end of a run (the go-plugin controller's
    /// Shutdown), then waits, within `limit` in all, for the process to exit and for its stderr
    /// to reach end of file: its exit status and everything it wrote on stderr, to the last
    /// line. Panics naming whichever did not happen in time.
    pub async fn shutdown(&mut self, limit: Duration) -> (ExitStatus, String) {
        let deadline = Instant::now() + limit;
        // The process may exit before it answers, so the call's result says nothing.
        let _ = GrpcControllerClient::new(self.channel.clone()).shutdown(Empty {}).await;
        let mut status = None;
        let child = &mut self.plugin.child;
        let exited = within_async(deadline.saturating_duration_since(Instant::now()), || {
            status = child.try_wait().expect("wait for the provider");
            status.is_some()
        })
        .await;
        assert!(exited, "the provider did not exit within {limit:?} of Shutdown; stderr:\n{}", self.stderr());
        let stderr = &self.stderr;
        let closed = within_async(deadline.saturating_duration_since(Instant::now()), || stderr.is_closed()).await;
        assert!(closed, "the provider's stderr did not reach end of file within {limit:?} of Shutdown");
        (status.expect("exited"), self.stderr())
    }

    /// StopProvider, as Terraform sends it when the user interrupts a run.
    pub async fn stop(&self) -> String {
        let mut client = self.client.clone();
        client.stop_provider(pb::stop_provider::Request {}).await.expect("StopProvider").into_inner().error
    }
}
