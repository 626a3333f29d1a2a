//! Fuzz target: an HSS API response body, parsed as a page of the port list and as the error
//! body of a refused, throttled and failed answer.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = hss_provider::fuzzing::api_page(data);
});
