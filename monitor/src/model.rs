//! Models Verity evaluates: the documented `verity-model.json` spec, a strict safetensors
//! reader that checks a spec against its tensors (whole with [`check_model`], or streamed with
//! [`ModelChecker`]), the forward pass with Candle on the CPU or a GPU, evaluation of a model
//! on a dataset version (predictions, metrics overall and per group, fairness), and the
//! comparison of two evaluations. Documented in docs/models.md.

mod check;
pub mod compare;
pub mod evaluate;
pub mod metrics;
pub mod network;
pub mod safetensors;
pub mod spec;

pub use check::{ModelChecker, check_model, check_model_stream};
pub use compare::{Better, Comparison, FigureDifference, compare};
pub use evaluate::{
    EvaluationConfig, EvaluationOutcome, Metrics, Model, evaluate, evaluate_with_limits,
};
pub use network::{DeviceChoice, Network};
pub use safetensors::SafeTensors;
pub use spec::{Activation, Architecture, Feature, LayerTensors, ModelSpec, Output, Standardize};
