//! Fuzz target: an `hss_host_ports` config as ValidateDataResourceConfig and ReadDataSource check
//! it before any request: decoded (msgpack, or JSON when it starts with `{`) and validated.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = hss_provider::fuzzing::host_ports_config(data);
});
