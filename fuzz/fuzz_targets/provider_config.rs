//! Fuzz target: the provider block as ValidateProviderConfig and ConfigureProvider handle it:
//! decoded (msgpack, or JSON when it starts with `{`), validated, and turned into an HSS client.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = hss_provider::fuzzing::provider_config(data);
});
