//! Models Verity can evaluate (issue 5, first part): the documented `verity-model.json` spec,
//! a strict safetensors reader that checks a spec against its tensors, and the forward pass
//! with Candle on the CPU or a GPU. Reading datasets into inputs, metrics and reports come next.

pub mod network;
pub mod safetensors;
pub mod spec;

pub use network::{DeviceChoice, Network};
pub use safetensors::SafeTensors;
pub use spec::{Activation, Architecture, Feature, LayerTensors, ModelSpec, Output, Standardize};
