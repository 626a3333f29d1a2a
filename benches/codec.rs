//! Criterion micro-benchmarks of the codec's hot paths (placeholder: being written).
use criterion::{Criterion, criterion_group, criterion_main};

fn placeholder(_c: &mut Criterion) {}

criterion_group!(benches, placeholder);
criterion_main!(benches);
