//! End-to-end tests (stub while building).
fn main() {}
