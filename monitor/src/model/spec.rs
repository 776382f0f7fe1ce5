//! `verity-model.json`: what a `model.safetensors` computes and how dataset columns become its
//! input. Documented in docs/models.md.

use serde::{Deserialize, Serialize};

use std::collections::BTreeMap;

use super::safetensors::{SafeTensors, TensorInfo};
use crate::{Error, Result};

/// The format name every spec carries.
pub const FORMAT: &str = "verity-model/1";

/// A model spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// Always [`FORMAT`].
    pub format: String,
    /// The network.
    pub architecture: Architecture,
    /// The input columns, in the order the first layer reads them.
    pub features: Vec<Feature>,
    /// What the last layer's output means.
    pub output: Output,
}

/// The network: a stack of `nn.Linear` layers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Architecture {
    /// One linear layer to one value.
    LinearRegression,
    /// One linear layer to one logit (sigmoid).
    LogisticRegression,
    /// One linear layer to one logit per class (softmax).
    SoftmaxRegression,
    /// Linear layers of the given hidden sizes with an activation after each hidden layer.
    Mlp {
        /// Hidden layer sizes (at least one).
        hidden_layers: Vec<u64>,
        /// The activation after every hidden layer.
        activation: Activation,
    },
}

/// Activations between hidden layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// max(0, x).
    Relu,
    /// tanh(x).
    Tanh,
    /// 1 / (1 + e^−x).
    Sigmoid,
    /// x·Φ(x), the exact (erf) form, as PyTorch's default `nn.GELU`.
    Gelu,
}

/// One input column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Feature {
    /// The dataset column.
    pub column: String,
    /// `(x − mean) / std` before the network (numeric columns).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standardize: Option<Standardize>,
    /// One input per category, 1 for the row's category (text columns); the order is the
    /// inputs' order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub one_hot: Option<Vec<String>>,
}

/// Standardisation of a numeric feature.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Standardize {
    /// Subtracted.
    pub mean: f64,
    /// Divided by (positive).
    pub std: f64,
}

/// What the output means.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Output {
    /// A regression value (one output, no activation).
    Regression,
    /// The probability of the positive class (one logit, sigmoid), positive at `threshold`.
    Binary {
        /// Decision threshold in (0, 1); 0.5 when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        threshold: Option<f64>,
    },
    /// Probabilities of each class (one logit per class, softmax), in this order.
    Multiclass {
        /// Class labels (at least two, distinct).
        classes: Vec<String>,
    },
}

impl Output {
    /// The decision threshold of a binary output (0.5 when the spec gives none).
    pub fn threshold(&self) -> Option<f64> {
        match self {
            Output::Binary { threshold } => Some(threshold.unwrap_or(0.5)),
            _ => None,
        }
    }

    /// `regression`, `binary` or `multiclass`.
    pub fn task(&self) -> &'static str {
        match self {
            Output::Regression => "regression",
            Output::Binary { .. } => "binary",
            Output::Multiclass { .. } => "multiclass",
        }
    }
}

/// One linear layer as found in the tensors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerTensors {
    /// Name of the `[out, in]` weight tensor.
    pub weight: String,
    /// Name of the `[out]` bias tensor, when the layer has one.
    pub bias: Option<String>,
    /// Inputs.
    pub inputs: u64,
    /// Outputs.
    pub outputs: u64,
}

impl ModelSpec {
    /// Parses and checks a spec (without tensors).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] saying what is wrong.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let spec: ModelSpec = serde_json::from_slice(bytes)
            .map_err(|e| Error::invalid(format!("verity-model.json: {e}")))?;
        spec.validate()?;
        Ok(spec)
    }

    /// Inputs of the first layer: one per numeric feature, one per category of a one-hot one.
    pub fn input_width(&self) -> u64 {
        self.features
            .iter()
            .map(|f| f.one_hot.as_ref().map_or(1, |c| c.len() as u64))
            .sum()
    }

    /// Outputs of the last layer.
    pub fn output_width(&self) -> u64 {
        match &self.output {
            Output::Regression | Output::Binary { .. } => 1,
            Output::Multiclass { classes } => classes.len() as u64,
        }
    }

    /// Layer sizes from input to output.
    pub fn layer_sizes(&self) -> Vec<u64> {
        let mut sizes = vec![self.input_width()];
        if let Architecture::Mlp { hidden_layers, .. } = &self.architecture {
            sizes.extend(hidden_layers);
        }
        sizes.push(self.output_width());
        sizes
    }

    /// Checks the spec on its own.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for another format, no features, a repeated column, a
    /// feature both standardised and one-hot, a non-positive or non-finite std, empty or
    /// repeated categories, an output that does not fit the architecture, a threshold outside
    /// (0, 1), fewer than two classes, or an MLP without hidden layers or with a zero size.
    pub fn validate(&self) -> Result<()> {
        let invalid = |m: String| Err(Error::invalid(format!("verity-model.json: {m}")));
        if self.format != FORMAT {
            return invalid(format!(
                "format must be \"{FORMAT}\", got \"{}\"",
                self.format
            ));
        }
        if self.features.is_empty() {
            return invalid("at least one feature is needed".into());
        }
        let mut seen = std::collections::HashSet::new();
        for f in &self.features {
            if !seen.insert(f.column.as_str()) {
                return invalid(format!("feature column '{}' appears twice", f.column));
            }
            if f.standardize.is_some() && f.one_hot.is_some() {
                return invalid(format!(
                    "feature '{}' cannot be both standardised and one-hot encoded",
                    f.column
                ));
            }
            if let Some(s) = f.standardize
                && !(s.mean.is_finite() && s.std.is_finite() && s.std > 0.0)
            {
                return invalid(format!(
                    "feature '{}': standardize needs a finite mean and a positive std",
                    f.column
                ));
            }
            if let Some(categories) = &f.one_hot {
                let distinct: std::collections::HashSet<_> = categories.iter().collect();
                if categories.is_empty() || distinct.len() != categories.len() {
                    return invalid(format!(
                        "feature '{}': one_hot needs distinct categories",
                        f.column
                    ));
                }
            }
        }
        match (&self.architecture, &self.output) {
            (Architecture::LinearRegression, Output::Regression)
            | (Architecture::LogisticRegression, Output::Binary { .. })
            | (Architecture::SoftmaxRegression, Output::Multiclass { .. })
            | (Architecture::Mlp { .. }, _) => {}
            (architecture, output) => {
                return invalid(format!(
                    "output {output:?} does not fit architecture {architecture:?}"
                ));
            }
        }
        if let Output::Binary { threshold: Some(t) } = self.output
            && !(t > 0.0 && t < 1.0)
        {
            return invalid(format!(
                "threshold must lie strictly between 0 and 1, got {t}"
            ));
        }
        if let Output::Multiclass { classes } = &self.output {
            let distinct: std::collections::HashSet<_> = classes.iter().collect();
            if classes.len() < 2 || distinct.len() != classes.len() {
                return invalid("multiclass output needs at least two distinct classes".into());
            }
        }
        if let Architecture::Mlp { hidden_layers, .. } = &self.architecture
            && (hidden_layers.is_empty() || hidden_layers.contains(&0))
        {
            return invalid("an mlp needs hidden layers of positive sizes".into());
        }
        Ok(())
    }

    /// Finds each linear layer's tensors and checks their shapes against the spec. Names
    /// follow PyTorch's `state_dict`: a single `nn.Linear` as `weight`/`bias` (or an
    /// `nn.Sequential` of one as `0.weight`/`0.bias`); an MLP as an `nn.Sequential` of
    /// Linear and activation modules, the k-th Linear at index 2k (`0.weight`, `2.weight`…).
    /// Biases are optional (`bias=False`); any other tensor is refused.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming the tensor and the expected and found shapes.
    pub fn match_tensors(&self, tensors: &SafeTensors<'_>) -> Result<Vec<LayerTensors>> {
        self.match_tensor_infos(&tensors.tensors)
    }

    /// [`match_tensors`](Self::match_tensors) on a header's tensors by name.
    pub(crate) fn match_tensor_infos(
        &self,
        tensors: &BTreeMap<String, TensorInfo>,
    ) -> Result<Vec<LayerTensors>> {
        let sizes = self.layer_sizes();
        let layers = sizes.len() - 1;
        let prefix = |k: usize| -> String {
            if layers == 1 && tensors.contains_key("weight") {
                String::new()
            } else {
                format!("{}.", 2 * k)
            }
        };
        let mut found = Vec::with_capacity(layers);
        let mut used = std::collections::HashSet::new();
        for k in 0..layers {
            let (inputs, outputs) = (sizes[k], sizes[k + 1]);
            let weight = format!("{}weight", prefix(k));
            let info = tensors.get(&weight).ok_or_else(|| {
                Error::invalid(format!(
                    "layer {} needs a tensor '{weight}' of shape [{outputs}, {inputs}]",
                    k + 1
                ))
            })?;
            if info.shape != [outputs, inputs] {
                return Err(Error::invalid(format!(
                    "tensor '{weight}' has shape {:?}; the spec needs [{outputs}, {inputs}]",
                    info.shape
                )));
            }
            used.insert(weight.clone());
            let bias_name = format!("{}bias", prefix(k));
            let bias = match tensors.get(&bias_name) {
                Some(b) if b.shape != [outputs] => {
                    return Err(Error::invalid(format!(
                        "tensor '{bias_name}' has shape {:?}; the spec needs [{outputs}]",
                        b.shape
                    )));
                }
                Some(_) => {
                    used.insert(bias_name.clone());
                    Some(bias_name)
                }
                None => None,
            };
            found.push(LayerTensors {
                weight,
                bias,
                inputs,
                outputs,
            });
        }
        if let Some(extra) = tensors.keys().find(|n| !used.contains(*n)) {
            return Err(Error::invalid(format!(
                "tensor '{extra}' is not part of the spec's {layers}-layer network"
            )));
        }
        Ok(found)
    }
}
