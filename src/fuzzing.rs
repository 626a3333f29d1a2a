//! Entry points for the fuzz targets in `fuzz/` and the property tests: thin wrappers that
//! reach the crate's internal parsers. Not a stable API.
