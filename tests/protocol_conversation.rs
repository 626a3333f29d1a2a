//! The whole tfplugin6 conversation a data-source read takes, over mTLS with the built binary:
//! GetProviderSchema -> ValidateProviderConfig -> ConfigureProvider -> ValidateDataResourceConfig
//! -> ReadDataSource -> Shutdown; plus what happens with unknown values and unsupported calls.

mod support;

use std::time::Duration;

use hss_provider::proto::plugin::{Empty, grpc_controller_client::GrpcControllerClient};
use hss_provider::value::{Number, Value};
use support::grpc::{Provider, config, n, object_type, s};
use support::plugin::{ClientAuth, Identity, PluginProcess, pb};
use support::sim::{self, Sim};

const REFERENCE_HOST: &str = "dd91cd32-a238-4c0e-bc01-3b11653714ac";

fn paths(diags: &[pb::Diagnostic]) -> Vec<String> {
    use pb::attribute_path::step::Selector;
    diags
        .iter()
        .map(|d| {
            d.attribute
                .as_ref()
                .map(|p| {
                    p.steps
                        .iter()
                        .filter_map(|s| match &s.selector {
                            Some(Selector::AttributeName(n)) => Some(n.clone()),
                            _ => None,
                        })
                        .collect::<Vec<_>>()
                        .join(".")
                })
                .unwrap_or_default()
        })
        .collect()
}

#[tokio::test]
async fn full_conversation_then_shutdown() {
    let sim = Sim::start_async(Sim::config(&[("web-1", 450)])).await;
    let identity = Identity::terraform_like();
    let mut plugin = PluginProcess::start(Some(&identity), &[]);
    let channel = plugin.channel(ClientAuth::Tls(&identity)).await.expect("mTLS");
    let mut client = pb::provider_client::ProviderClient::new(channel.clone());

    let schema = client.get_provider_schema(pb::get_provider_schema::Request {}).await.expect("schema").into_inner();
    assert!(schema.diagnostics.is_empty());
    assert_eq!(schema.server_capabilities.map(|c| c.get_provider_schema_optional), Some(true));
    let provider_schema = schema.provider.expect("provider schema");
    let ds_schema = &schema.data_source_schemas["hss_host_ports"];
    let ports_attr =
        ds_schema.block.as_ref().and_then(|b| b.attributes.iter().find(|a| a.name == "ports")).expect("ports");
    assert_eq!(
        String::from_utf8_lossy(&ports_attr.r#type),
        r#"["list",["object",{"agent_id":"string","container_id":"string","host_id":"string","laddr":"string","path":"string","pid":"number","port":"number","status":"string","type":"string"}]]"#
    );
    let provider_type = object_type(&provider_schema);
    let ds_type = object_type(ds_schema);

    let provider_config = config(
        &provider_type,
        &[("endpoint", s(&sim.url())), ("project_id", s(sim::PROJECT)), ("token", s(sim::TOKEN))],
    );
    let validated = client
        .validate_provider_config(pb::validate_provider_config::Request { config: Some(provider_config.clone()) })
        .await
        .expect("validate provider")
        .into_inner();
    assert!(validated.diagnostics.is_empty(), "{:?}", validated.diagnostics);
    let configured = client
        .configure_provider(pb::configure_provider::Request {
            terraform_version: "1.0.3".into(),
            config: Some(provider_config),
            client_capabilities: None,
        })
        .await
        .expect("configure")
        .into_inner();
    assert!(configured.diagnostics.is_empty(), "{:?}", configured.diagnostics);

    let ds_config = config(&ds_type, &[("host_id", s("web-1")), ("page_size", Value::Number(Number::from_i64(100)))]);
    let valid = client
        .validate_data_resource_config(pb::validate_data_resource_config::Request {
            type_name: "hss_host_ports".into(),
            config: Some(ds_config.clone()),
        })
        .await
        .expect("validate data source")
        .into_inner();
    assert!(valid.diagnostics.is_empty(), "{:?}", valid.diagnostics);

    let read = client
        .read_data_source(pb::read_data_source::Request {
            type_name: "hss_host_ports".into(),
            config: Some(ds_config),
            ..Default::default()
        })
        .await
        .expect("read")
        .into_inner();
    assert!(read.diagnostics.is_empty(), "{:?}", read.diagnostics);
    let state = hss_provider::value::decode_msgpack(&read.state.expect("state").msgpack, &ds_type).expect("decode");
    assert!(state.is_wholly_known());
    let ports = state.get("ports").and_then(Value::as_elements).expect("ports");
    assert_eq!(ports.len(), 450);
    assert_eq!(state.get("total_num").and_then(Value::as_number).and_then(Number::as_i64), Some(450));
    assert_eq!(state.get("id").and_then(Value::as_str), Some("web-1"));
    assert!(state.get("host_name").is_some_and(Value::is_null), "unset arguments stay null");
    assert_eq!(sim.handle.stats().requests, 5, "450 ports in pages of 100");

    let _ = GrpcControllerClient::new(channel).shutdown(Empty {}).await;
    assert!(plugin.wait_exit(Duration::from_secs(1)).is_some_and(|s| s.success()));
}

#[tokio::test]
async fn validation_errors_carry_attribute_paths() {
    let mut session = Provider::start(&[]).await;
    let diags = session
        .validate(&[("host_id", s("h")), ("port", Value::Number(Number::from_i64(70000))), ("type", s("SCTP"))])
        .await;
    assert_eq!(paths(&diags), ["port", "type"]);
    assert!(diags.iter().all(|d| d.severity == pb::diagnostic::Severity::Error as i32));

    let provider_config = config(
        &session.provider_type,
        &[("token", s("t")), ("access_key", s("ak")), ("max_concurrent_requests", Value::Number(Number::from_i64(0)))],
    );
    let diags = session
        .client
        .validate_provider_config(pb::validate_provider_config::Request { config: Some(provider_config) })
        .await
        .expect("validate provider")
        .into_inner()
        .diagnostics;
    assert_eq!(paths(&diags), ["max_concurrent_requests", "token"]);
}

#[tokio::test]
async fn unknown_values_are_accepted_until_a_read_needs_them() {
    let sim = Sim::start_async(Sim::config(&[])).await;
    let mut session = Provider::start(&[]).await;
    // Unknown data source arguments skip validation.
    let diags = session.validate(&[("host_id", Value::Unknown), ("port", Value::Unknown)]).await;
    assert!(diags.is_empty(), "{diags:?}");
    // An unknown provider argument: configuring succeeds, the read explains.
    let configured = session
        .configure(&[("endpoint", s(&sim.url())), ("project_id", s(sim::PROJECT)), ("token", Value::Unknown)])
        .await;
    assert!(configured.is_empty(), "{configured:?}");
    let diags = session.read(&[("host_id", s(REFERENCE_HOST))]).await.expect_err("cannot read yet");
    assert_eq!(diags[0].summary, "Provider configuration is not known yet");
    assert!(diags[0].detail.contains("token"), "{}", diags[0].detail);
}

#[tokio::test]
async fn unsupported_calls_answer_with_diagnostics_not_grpc_errors() {
    let mut session = Provider::start(&[]).await;
    let read = session
        .client
        .read_resource(pb::read_resource::Request { type_name: "hss_thing".into(), ..Default::default() })
        .await
        .expect("a response, not a gRPC error")
        .into_inner();
    assert!(
        read.diagnostics[0].detail.contains("resource type \"hss_thing\" is not supported"),
        "{:?}",
        read.diagnostics
    );
    let ds = session
        .client
        .read_data_source(pb::read_data_source::Request { type_name: "hss_other".into(), ..Default::default() })
        .await
        .expect("response")
        .into_inner();
    assert!(ds.diagnostics[0].detail.contains("hss_other"));
    let functions = session.client.get_functions(pb::get_functions::Request {}).await.expect("functions").into_inner();
    let mut names: Vec<&str> = functions.functions.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["port_allowed", "unexpected_ports"]);
    let meta = session.client.get_metadata(pb::get_metadata::Request {}).await.expect("metadata").into_inner();
    let sources: Vec<&str> = meta.data_sources.iter().map(|d| d.type_name.as_str()).collect();
    assert!(sources.contains(&"hss_host_ports") && sources.contains(&"hss_host_port_drift"), "{sources:?}");
    assert_eq!(meta.functions.len(), 2);
}

/// Functions work on a provider Terraform never configured, and a bad rule names its argument.
#[tokio::test]
async fn functions_run_unconfigured_and_name_the_bad_argument() {
    use hss_provider::value::{Type, encode_dynamic, encode_msgpack};
    let mut session = Provider::start(&[]).await;
    let record = Value::object([("port", n(22)), ("type", s("TCP")), ("laddr", s("0.0.0.0"))]);
    let record_type = record.infer_type().expect("type");
    let rules = |r: &[&str]| Value::List(r.iter().map(|x| s(x)).collect());
    let rules_type = Type::list(Type::String);
    let call = |allowed: Value| pb::call_function::Request {
        name: "port_allowed".into(),
        arguments: vec![
            pb::DynamicValue { msgpack: encode_dynamic(&record, &record_type).expect("encode"), json: Vec::new() },
            pb::DynamicValue { msgpack: encode_msgpack(&allowed, &rules_type).expect("encode"), json: Vec::new() },
        ],
    };
    let ok = session.client.call_function(call(rules(&["22/tcp"]))).await.expect("response").into_inner();
    assert!(ok.error.is_none(), "{:?}", ok.error);
    let result = hss_provider::value::decode_msgpack(&ok.result.expect("result").msgpack, &Type::Bool).expect("bool");
    assert_eq!(result, Value::Bool(true));
    let bad = session.client.call_function(call(rules(&["22", "9000-80"]))).await.expect("response").into_inner();
    let error = bad.error.expect("a function error");
    assert_eq!(error.function_argument, Some(1));
    assert_eq!(error.text, "allowed[1]: rule \"9000-80\": port range 9000-80 is reversed");
}

#[tokio::test]
async fn garbage_config_bytes_give_a_diagnostic() {
    let mut session = Provider::start(&[]).await;
    let response = session
        .client
        .validate_data_resource_config(pb::validate_data_resource_config::Request {
            type_name: "hss_host_ports".into(),
            config: Some(pb::DynamicValue { msgpack: vec![0x82, 0xa7, b'h', 0xff], json: Vec::new() }),
        })
        .await
        .expect("response")
        .into_inner();
    assert_eq!(response.diagnostics.len(), 1);
    assert!(response.diagnostics[0].summary.contains("Cannot decode"), "{:?}", response.diagnostics);

    // Terraform always sends msgpack; a JSON DynamicValue is refused with a clear diagnostic.
    let response = session
        .client
        .validate_data_resource_config(pb::validate_data_resource_config::Request {
            type_name: "hss_host_ports".into(),
            config: Some(pb::DynamicValue { msgpack: Vec::new(), json: br#"{"host_id":"h"}"#.to_vec() }),
        })
        .await
        .expect("response")
        .into_inner();
    assert_eq!(response.diagnostics.len(), 1);
    assert!(response.diagnostics[0].detail.contains("arrived as JSON"), "{:?}", response.diagnostics);
}
