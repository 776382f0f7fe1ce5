//! The forward pass of a checked model with Candle, on the CPU or (with the `cuda` feature) a
//! GPU: f32 inputs `[rows, inputs]` in, `[rows, outputs]` out (values, the positive class's
//! probability, or class probabilities).

use candle_core::{D, Device, Tensor};

use super::safetensors::SafeTensors;
use super::spec::{Activation, Architecture, LayerTensors, ModelSpec, Output};
use crate::{Error, Result};

/// Where the forward pass runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceChoice {
    /// The CPU.
    Cpu,
    /// The first CUDA GPU; an error when the build has no CUDA or the machine no GPU.
    Cuda,
    /// A GPU when the build has CUDA and one is present, else the CPU.
    Auto,
}

impl std::str::FromStr for DeviceChoice {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "cpu" => Ok(DeviceChoice::Cpu),
            "cuda" => Ok(DeviceChoice::Cuda),
            "auto" => Ok(DeviceChoice::Auto),
            other => Err(Error::invalid(format!(
                "device '{other}' is not one of cpu, cuda, auto"
            ))),
        }
    }
}

impl DeviceChoice {
    /// The Candle device.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when CUDA is asked for and this binary was built without the
    /// `cuda` feature, or no GPU answers.
    pub fn device(self) -> Result<Device> {
        match self {
            DeviceChoice::Cpu => Ok(Device::Cpu),
            DeviceChoice::Cuda if !cfg!(feature = "cuda") => Err(Error::invalid(
                "this verity was built without CUDA: rebuild with `--features cuda`, or use --device cpu",
            )),
            DeviceChoice::Cuda => Device::new_cuda(0)
                .map_err(|e| Error::invalid(format!("no CUDA device is usable: {e}"))),
            DeviceChoice::Auto => {
                if cfg!(feature = "cuda") && candle_core::utils::cuda_is_available() {
                    Device::new_cuda(0).or(Ok(Device::Cpu))
                } else {
                    Ok(Device::Cpu)
                }
            }
        }
    }
}

/// A model's weights on a device, ready to run.
#[derive(Debug)]
pub struct Network {
    /// Per layer: the weight transposed to `[in, out]`, and the bias `[out]`.
    layers: Vec<(Tensor, Option<Tensor>)>,
    hidden_activation: Option<Activation>,
    output: Output,
    inputs: usize,
    device: Device,
}

fn candle(e: candle_core::Error) -> Error {
    Error::Internal(format!("tensor computation failed: {e}"))
}

impl Network {
    /// Loads the layers `spec.match_tensors` found onto `device`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the tensors do not match the spec; [`Error::Internal`]
    /// when the device refuses them.
    pub fn load(spec: &ModelSpec, tensors: &SafeTensors<'_>, device: &Device) -> Result<Self> {
        let found: Vec<LayerTensors> = spec.match_tensors(tensors)?;
        let mut layers = Vec::with_capacity(found.len());
        for layer in &found {
            let (rows, cols) = (layer.outputs as usize, layer.inputs as usize);
            let weight = Tensor::from_vec(tensors.values_f32(&layer.weight)?, (rows, cols), device)
                .and_then(|w| w.t()?.contiguous())
                .map_err(candle)?;
            let bias = match &layer.bias {
                Some(name) => Some(
                    Tensor::from_vec(tensors.values_f32(name)?, rows, device).map_err(candle)?,
                ),
                None => None,
            };
            layers.push((weight, bias));
        }
        let hidden_activation = match &spec.architecture {
            Architecture::Mlp { activation, .. } => Some(*activation),
            _ => None,
        };
        Ok(Self {
            layers,
            hidden_activation,
            output: spec.output.clone(),
            inputs: spec.input_width() as usize,
            device: device.clone(),
        })
    }

    /// Whether it runs on a GPU.
    pub fn is_cuda(&self) -> bool {
        self.device.is_cuda()
    }

    /// Runs `rows` rows of `inputs` (row-major, `rows × input width` values) and returns
    /// `rows × output width` values, row-major: the value (regression), the positive class's
    /// probability (binary), or each class's probability (multiclass).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when `inputs` does not hold `rows` full rows.
    pub fn forward(&self, inputs: Vec<f32>, rows: usize) -> Result<Vec<f32>> {
        if rows.checked_mul(self.inputs) != Some(inputs.len()) {
            return Err(Error::invalid(format!(
                "{} input values are not {rows} rows of {}",
                inputs.len(),
                self.inputs
            )));
        }
        if rows == 0 {
            return Ok(Vec::new());
        }
        let mut x = Tensor::from_vec(inputs, (rows, self.inputs), &self.device).map_err(candle)?;
        let last = self.layers.len() - 1;
        for (k, (weight, bias)) in self.layers.iter().enumerate() {
            x = x.matmul(weight).map_err(candle)?;
            if let Some(bias) = bias {
                x = x.broadcast_add(bias).map_err(candle)?;
            }
            if k < last
                && let Some(activation) = self.hidden_activation
            {
                x = activate(&x, activation).map_err(candle)?;
            }
        }
        let x = match self.output {
            Output::Regression => x,
            Output::Binary { .. } => sigmoid(&x).map_err(candle)?,
            Output::Multiclass { .. } => softmax_rows(&x).map_err(candle)?,
        };
        x.flatten_all()
            .and_then(|t| t.to_vec1::<f32>())
            .map_err(candle)
    }
}

fn sigmoid(x: &Tensor) -> candle_core::Result<Tensor> {
    (x.neg()?.exp()? + 1.0)?.recip()
}

fn activate(x: &Tensor, activation: Activation) -> candle_core::Result<Tensor> {
    match activation {
        Activation::Relu => x.relu(),
        Activation::Tanh => x.tanh(),
        Activation::Sigmoid => sigmoid(x),
        Activation::Gelu => x.gelu_erf(),
    }
}

/// Softmax over each row, shifted by the row's maximum so that large logits do not overflow.
fn softmax_rows(x: &Tensor) -> candle_core::Result<Tensor> {
    let max = x.max_keepdim(D::Minus1)?;
    let e = x.broadcast_sub(&max)?.exp()?;
    let sum = e.sum_keepdim(D::Minus1)?;
    e.broadcast_div(&sum)
}
