//! The forward pass against an independent float64 reference written with plain loops, on
//! random weights and inputs: relative error ≤ 1e-5 for every architecture, activation and
//! output.
#![allow(clippy::unwrap_used, missing_docs)]

use serde_json::json;
use verity_monitor::ErrorKind;
use verity_monitor::model::safetensors::write_f32;
use verity_monitor::model::{DeviceChoice, ModelSpec, Network, SafeTensors};

struct Rng(u64);

impl Rng {
    fn unit(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform in [−scale, scale), rounded to f32 (what the model holds).
    fn values(&mut self, n: usize, scale: f64) -> Vec<f32> {
        (0..n)
            .map(|_| ((self.unit() * 2.0 - 1.0) * scale) as f32)
            .collect()
    }
}

/// The reference: f64 loops over the same f32 weights.
fn reference(
    layers: &[(Vec<f32>, Vec<f32>, usize, usize)],
    activation: Option<&str>,
    output: &str,
    x: &[f32],
    rows: usize,
) -> Vec<f64> {
    let mut out = Vec::new();
    for r in 0..rows {
        let width = layers[0].3;
        let mut h: Vec<f64> = x[r * width..(r + 1) * width]
            .iter()
            .map(|v| f64::from(*v))
            .collect();
        for (k, (w, b, outputs, inputs)) in layers.iter().enumerate() {
            let mut next = vec![0.0; *outputs];
            for (o, value) in next.iter_mut().enumerate() {
                let mut s = f64::from(b[o]);
                for i in 0..*inputs {
                    s += f64::from(w[o * inputs + i]) * h[i];
                }
                *value = s;
            }
            if k + 1 < layers.len() {
                for v in &mut next {
                    *v = match activation.unwrap() {
                        "relu" => v.max(0.0),
                        "tanh" => v.tanh(),
                        "sigmoid" => 1.0 / (1.0 + (-*v).exp()),
                        "gelu" => 0.5 * *v * (1.0 + libm::erf(*v / std::f64::consts::SQRT_2)),
                        other => panic!("{other}"),
                    };
                }
            }
            h = next;
        }
        match output {
            "binary" => out.push(1.0 / (1.0 + (-h[0]).exp())),
            "multiclass" => {
                let max = h.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let sum: f64 = h.iter().map(|v| (v - max).exp()).sum();
                out.extend(h.iter().map(|v| (v - max).exp() / sum));
            }
            _ => out.extend(h),
        }
    }
    out
}

fn check(
    architecture: serde_json::Value,
    output: serde_json::Value,
    sizes: &[usize],
    activation: Option<&str>,
    seed: u64,
) {
    let mut rng = Rng(seed);
    let features: Vec<_> = (0..sizes[0])
        .map(|i| json!({"column": format!("f{i}")}))
        .collect();
    let spec = ModelSpec::from_json(
        json!({"format": "verity-model/1", "architecture": architecture,
               "features": features, "output": output})
        .to_string()
        .as_bytes(),
    )
    .unwrap();
    let mut layers = Vec::new();
    let mut named = Vec::new();
    for k in 0..sizes.len() - 1 {
        let (inputs, outputs) = (sizes[k], sizes[k + 1]);
        let scale = 1.0 / (inputs as f64).sqrt();
        let w = rng.values(outputs * inputs, scale);
        let b = rng.values(outputs, scale);
        named.push((
            format!("{}.weight", 2 * k),
            vec![outputs as u64, inputs as u64],
            w.clone(),
        ));
        named.push((format!("{}.bias", 2 * k), vec![outputs as u64], b.clone()));
        layers.push((w, b, outputs, inputs));
    }
    let borrowed: Vec<(&str, Vec<u64>, Vec<f32>)> = named
        .iter()
        .map(|(n, s, v)| (n.as_str(), s.clone(), v.clone()))
        .collect();
    let file = write_f32(&borrowed);
    let tensors = SafeTensors::parse(&file).unwrap();
    let device = DeviceChoice::Cpu.device().unwrap();
    let network = Network::load(&spec, &tensors, &device).unwrap();
    assert!(!network.is_cuda());
    let rows = 257;
    let x = rng.values(rows * sizes[0], 3.0);
    let got = network.forward(x.clone(), rows).unwrap();
    let want = reference(
        &layers,
        activation,
        output["type"].as_str().unwrap(),
        &x,
        rows,
    );
    assert_eq!(got.len(), want.len());
    let worst = got
        .iter()
        .zip(&want)
        .map(|(g, w)| (f64::from(*g) - w).abs() / w.abs().max(1.0))
        .fold(0.0, f64::max);
    assert!(
        worst <= 1e-5,
        "{architecture} {output}: relative error {worst}"
    );
}

#[test]
fn mlps_match_the_float64_reference_for_every_activation() {
    for (i, activation) in ["relu", "tanh", "sigmoid", "gelu"].into_iter().enumerate() {
        check(
            json!({"type": "mlp", "hidden_layers": [64, 64], "activation": activation}),
            json!({"type": "regression"}),
            &[20, 64, 64, 1],
            Some(activation),
            i as u64 + 1,
        );
    }
    check(
        json!({"type": "mlp", "hidden_layers": [16], "activation": "relu"}),
        json!({"type": "binary"}),
        &[7, 16, 1],
        Some("relu"),
        11,
    );
    check(
        json!({"type": "mlp", "hidden_layers": [16, 8], "activation": "gelu"}),
        json!({"type": "multiclass", "classes": ["a", "b", "c", "d"]}),
        &[5, 16, 8, 4],
        Some("gelu"),
        12,
    );
}

#[test]
fn single_layer_models_match_the_reference() {
    // Sequential-style names (`0.weight`) work for single layers too.
    check(
        json!({"type": "linear_regression"}),
        json!({"type": "regression"}),
        &[9, 1],
        None,
        21,
    );
    check(
        json!({"type": "logistic_regression"}),
        json!({"type": "binary", "threshold": 0.3}),
        &[9, 1],
        None,
        22,
    );
    check(
        json!({"type": "softmax_regression"}),
        json!({"type": "multiclass", "classes": ["x", "y", "z"]}),
        &[6, 3],
        None,
        23,
    );
}

#[test]
fn inputs_and_devices_are_checked() {
    let spec = ModelSpec::from_json(
        json!({"format": "verity-model/1", "architecture": {"type": "linear_regression"},
               "features": [{"column": "a"}, {"column": "b"}], "output": {"type": "regression"}})
        .to_string()
        .as_bytes(),
    )
    .unwrap();
    let file = write_f32(&[
        ("weight", vec![1, 2], vec![2.0, -1.0]),
        ("bias", vec![1], vec![0.5]),
    ]);
    let tensors = SafeTensors::parse(&file).unwrap();
    let network = Network::load(&spec, &tensors, &DeviceChoice::Auto.device().unwrap()).unwrap();
    assert_eq!(
        network.forward(vec![1.0, 3.0, 0.0, 0.0], 2).unwrap(),
        vec![-0.5, 0.5]
    );
    assert!(network.forward(Vec::new(), 0).unwrap().is_empty());
    let err = network.forward(vec![1.0, 2.0, 3.0], 2).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.to_string().contains("not 2 rows of 2"), "{err}");
    assert!("tpu".parse::<DeviceChoice>().is_err());
    if !cfg!(feature = "cuda") {
        let err = DeviceChoice::Cuda.device().unwrap_err();
        assert!(err.to_string().contains("built without CUDA"), "{err}");
    }
}
