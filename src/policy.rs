//! The port-policy rule language and its matcher (placeholder until the matcher lands).
