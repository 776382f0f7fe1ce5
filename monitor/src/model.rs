//! Models Verity can evaluate (issue 5, first part): the documented `verity-model.json` spec
//! and a strict safetensors reader that checks a spec against its tensors. The forward pass
//! with Candle comes next.

pub mod safetensors;
pub mod spec;

pub use safetensors::SafeTensors;
pub use spec::{Activation, Architecture, Feature, LayerTensors, ModelSpec, Output, Standardize};
