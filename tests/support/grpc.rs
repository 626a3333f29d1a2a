//! Talking tfplugin6 to a provider process directly: schema-driven config encoding, a
//! configured session against the simulator, and state decoding.

use std::collections::BTreeMap;

use hss_provider::value::{Type, Value, decode_msgpack, encode_msgpack};
use tonic::transport::Channel;

use super::plugin::{Identity, PluginProcess, pb};
use super::sim::{self, Sim};

pub type Client = pb::provider_client::ProviderClient<Channel>;

/// The object type of a schema block, from the type JSON the provider sent.
pub fn object_type(block: &pb::schema::Block) -> Type {
    Type::Object(
        block
            .attributes
            .iter()
            .map(|a| (a.name.clone(), Type::from_json(&a.r#type).expect("valid type JSON")))
            .collect::<BTreeMap<_, _>>(),
    )
}

/// Encodes `values` as a config of `ty`, every other attribute null.
pub fn config(ty: &Type, values: &[(&str, Value)]) -> pb::DynamicValue {
    let Type::Object(attrs) = ty else { panic!("object type expected") };
    let mut object: BTreeMap<String, Value> = attrs.keys().map(|k| (k.clone(), Value::Null)).collect();
    for (k, v) in values {
        assert!(object.contains_key(*k), "no attribute {k}");
        object.insert((*k).to_owned(), v.clone());
    }
    pb::DynamicValue { msgpack: encode_msgpack(&Value::Object(object), ty).expect("encode"), json: Vec::new() }
}

pub fn s(v: &str) -> Value {
    Value::String(v.to_owned())
}

/// A provider process with an mTLS client and the schema types it announced.
pub struct Session {
    pub plugin: PluginProcess,
    pub client: Client,
    pub provider_type: Type,
    pub host_ports_type: Type,
}

impl Session {
    pub async fn start() -> Session {
        let identity = Identity::terraform_like();
        let plugin = PluginProcess::start(Some(&identity), &[]);
        let mut client = plugin.client(&identity).await;
        let schema =
            client.get_provider_schema(pb::get_provider_schema::Request {}).await.expect("schema").into_inner();
        let provider_type = object_type(schema.provider.and_then(|s| s.block).as_ref().expect("provider block"));
        let host_ports_type =
            object_type(schema.data_source_schemas["hss_host_ports"].block.as_ref().expect("data source block"));
        Session { plugin, client, provider_type, host_ports_type }
    }

    /// Configures the provider for `sim` with the test token, plus `extra` attributes.
    pub async fn configure(&mut self, sim: &Sim, extra: &[(&str, Value)]) -> Vec<pb::Diagnostic> {
        let mut values = vec![("endpoint", s(&sim.url())), ("project_id", s(sim::PROJECT)), ("token", s(sim::TOKEN))];
        values.extend(extra.iter().cloned());
        let request = pb::configure_provider::Request {
            terraform_version: "1.0.3".into(),
            config: Some(config(&self.provider_type, &values)),
            client_capabilities: None,
        };
        self.client.configure_provider(request).await.expect("ConfigureProvider").into_inner().diagnostics
    }

    /// Validates an `hss_host_ports` configuration; returns the diagnostics.
    pub async fn validate(&mut self, values: &[(&str, Value)]) -> Vec<pb::Diagnostic> {
        let request = pb::validate_data_resource_config::Request {
            type_name: "hss_host_ports".into(),
            config: Some(config(&self.host_ports_type, values)),
        };
        self.client
            .validate_data_resource_config(request)
            .await
            .expect("ValidateDataResourceConfig")
            .into_inner()
            .diagnostics
    }

    /// Reads `hss_host_ports`: the decoded state, or the diagnostics.
    pub async fn read(&mut self, values: &[(&str, Value)]) -> Result<Value, Vec<pb::Diagnostic>> {
        let request = pb::read_data_source::Request {
            type_name: "hss_host_ports".into(),
            config: Some(config(&self.host_ports_type, values)),
            ..Default::default()
        };
        let response = self.client.read_data_source(request).await.expect("ReadDataSource").into_inner();
        if !response.diagnostics.is_empty() {
            return Err(response.diagnostics);
        }
        let state = response.state.expect("a state");
        Ok(decode_msgpack(&state.msgpack, &self.host_ports_type).expect("decodable state"))
    }
}
