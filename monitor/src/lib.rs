//! Verity monitoring: the statistics behind data-quality, drift and fairness checks.
//!
//! This crate returns domain results (plain Rust values), never DataFusion or HTTP types.
//! [`source`] reads dataset versions from the object store with DataFusion, [`profile`]
//! computes data profiles, [`drift`] holds the per-column drift tests with Evidently's default
//! method choice, and [`fairness`] the group metrics with Fairlearn's and AIF360's conventions.
//! [`privacy`] answers differentially private queries with OpenDP's measurements.

pub mod check;
pub mod drift;
mod error;
pub mod fairness;
pub mod masking;
pub mod model;
pub mod privacy;
pub mod profile;
pub mod read;
pub mod source;

pub use error::{Error, ErrorKind, Result};
