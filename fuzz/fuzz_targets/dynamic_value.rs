//! Fuzz target: Terraform's DynamicValue decoders. The first byte picks the type (the provider
//! block, `hss_host_ports`, `dynamic`, each kind of container); the rest is decoded as msgpack
//! (and encoded again when it decodes), as JSON, and as type JSON.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = hss_provider::fuzzing::dynamic_value(data);
});
