//! Validation benchmarks (written later in this issue).
fn main() {}
