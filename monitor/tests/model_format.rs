//! The model format: `verity-model.json` checked on its own and against `model.safetensors`,
//! and the safetensors reader on valid, truncated and hostile files.
#![allow(clippy::unwrap_used, missing_docs)]

mod safetensors_files;

use safetensors_files::raw;
use serde_json::json;
use verity_monitor::ErrorKind;
use verity_monitor::model::safetensors::write_f32;
use verity_monitor::model::{Activation, Architecture, ModelSpec, SafeTensors};

fn mlp_spec() -> serde_json::Value {
    json!({
        "format": "verity-model/1",
        "architecture": {"type": "mlp", "hidden_layers": [4], "activation": "relu"},
        "features": [
            {"column": "age", "standardize": {"mean": 40.0, "std": 10.0}},
            {"column": "country", "one_hot": ["de", "fr"]}
        ],
        "output": {"type": "binary", "threshold": 0.7}
    })
}

fn spec(value: &serde_json::Value) -> verity_monitor::Result<ModelSpec> {
    ModelSpec::from_json(value.to_string().as_bytes())
}

fn values(n: usize) -> Vec<f32> {
    (0..n).map(|i| i as f32 * 0.25 - 1.0).collect()
}

#[test]
fn an_mlp_saved_as_a_sequential_state_dict_matches_its_spec() {
    let spec = spec(&mlp_spec()).unwrap();
    assert_eq!(spec.input_width(), 3);
    assert_eq!(spec.layer_sizes(), vec![3, 4, 1]);
    assert!(matches!(
        spec.architecture,
        Architecture::Mlp {
            activation: Activation::Relu,
            ..
        }
    ));
    // nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1)).state_dict()
    let file = write_f32(&[
        ("0.weight", vec![4, 3], values(12)),
        ("0.bias", vec![4], values(4)),
        ("2.weight", vec![1, 4], values(4)),
        ("2.bias", vec![1], values(1)),
    ]);
    let tensors = SafeTensors::parse(&file).unwrap();
    let layers = spec.match_tensors(&tensors).unwrap();
    assert_eq!(layers.len(), 2);
    assert_eq!(layers[1].weight, "2.weight");
    assert_eq!(layers[1].bias.as_deref(), Some("2.bias"));
    assert_eq!((layers[0].inputs, layers[0].outputs), (3, 4));
    assert_eq!(tensors.values_f32("0.weight").unwrap(), values(12));
    assert!(tensors.values_f32("nope").is_err());
}

#[test]
fn single_layers_without_prefix_or_bias() {
    let logistic = spec(&json!({
        "format": "verity-model/1",
        "architecture": {"type": "logistic_regression"},
        "features": [{"column": "a"}, {"column": "b"}],
        "output": {"type": "binary"}
    }))
    .unwrap();
    // nn.Linear(2, 1).state_dict() and nn.Linear(2, 1, bias=False) in a Sequential.
    for file in [
        write_f32(&[
            ("weight", vec![1, 2], values(2)),
            ("bias", vec![1], values(1)),
        ]),
        write_f32(&[("0.weight", vec![1, 2], values(2))]),
    ] {
        let tensors = SafeTensors::parse(&file).unwrap();
        assert_eq!(logistic.match_tensors(&tensors).unwrap().len(), 1);
    }
    let softmax = spec(&json!({
        "format": "verity-model/1",
        "architecture": {"type": "softmax_regression"},
        "features": [{"column": "a"}],
        "output": {"type": "multiclass", "classes": ["x", "y", "z"]}
    }))
    .unwrap();
    let file = write_f32(&[
        ("weight", vec![3, 1], values(3)),
        ("bias", vec![3], values(3)),
    ]);
    assert!(
        softmax
            .match_tensors(&SafeTensors::parse(&file).unwrap())
            .is_ok()
    );
}

#[test]
fn tensors_that_disagree_with_the_spec_are_refused_by_name() {
    let spec = spec(&mlp_spec()).unwrap();
    let cases = [
        (
            vec![
                ("0.weight", vec![4, 2], values(8)),
                ("2.weight", vec![1, 4], values(4)),
            ],
            "'0.weight' has shape [4, 2]; the spec needs [4, 3]",
        ),
        (
            vec![("0.weight", vec![4, 3], values(12))],
            "needs a tensor '2.weight' of shape [1, 4]",
        ),
        (
            vec![
                ("0.weight", vec![4, 3], values(12)),
                ("0.bias", vec![3], values(3)),
                ("2.weight", vec![1, 4], values(4)),
            ],
            "'0.bias' has shape [3]",
        ),
        (
            vec![
                ("0.weight", vec![4, 3], values(12)),
                ("2.weight", vec![1, 4], values(4)),
                ("4.weight", vec![1, 1], values(1)),
            ],
            "'4.weight' is not part of the spec's 2-layer network",
        ),
    ];
    for (tensors, needle) in cases {
        let file = write_f32(&tensors);
        let parsed = SafeTensors::parse(&file).unwrap();
        let err = spec.match_tensors(&parsed).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        assert!(err.to_string().contains(needle), "{err}");
    }
}

#[test]
fn invalid_specs_say_why() {
    let with = |path: &[&str], value: serde_json::Value| {
        let mut spec = mlp_spec();
        let mut at = &mut spec;
        for key in &path[..path.len() - 1] {
            at = at.get_mut(*key).unwrap();
        }
        at[path[path.len() - 1]] = value;
        spec
    };
    let cases = [
        (with(&["format"], json!("onnx")), "format must be"),
        (with(&["features"], json!([])), "at least one feature"),
        (
            with(&["features"], json!([{"column": "a"}, {"column": "a"}])),
            "appears twice",
        ),
        (
            with(
                &["features"],
                json!([{"column": "a", "standardize": {"mean": 0, "std": 0}}]),
            ),
            "positive std",
        ),
        (
            with(
                &["features"],
                json!([{"column": "a", "standardize": {"mean": 0, "std": 1}, "one_hot": ["x"]}]),
            ),
            "both standardised and one-hot",
        ),
        (
            with(
                &["features"],
                json!([{"column": "a", "one_hot": ["x", "x"]}]),
            ),
            "distinct categories",
        ),
        (
            with(&["output"], json!({"type": "binary", "threshold": 1.0})),
            "strictly between",
        ),
        (
            with(
                &["output"],
                json!({"type": "multiclass", "classes": ["only"]}),
            ),
            "two distinct classes",
        ),
        (
            with(
                &["architecture"],
                json!({"type": "mlp", "hidden_layers": [], "activation": "relu"}),
            ),
            "hidden layers of positive sizes",
        ),
        (
            with(&["architecture"], json!({"type": "linear_regression"})),
            "does not fit",
        ),
        (
            with(
                &["architecture"],
                json!({"type": "mlp", "hidden_layers": [4], "activation": "swish"}),
            ),
            "unknown variant",
        ),
        (with(&["extra"], json!(1)), "unknown field"),
    ];
    for (value, needle) in cases {
        let err = spec(&value).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        assert!(err.to_string().contains(needle), "{needle}: {err}");
    }
    assert!(ModelSpec::from_json(b"{").is_err());
}

#[test]
fn truncated_and_hostile_files_are_refused() {
    let good = write_f32(&[("w", vec![2, 2], values(4)), ("v", vec![8], values(8))]);
    let cases = safetensors_files::hostile(&good, "w");
    for (bytes, needle) in cases {
        let err = SafeTensors::parse(&bytes).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        assert!(err.to_string().contains(needle), "{needle}: {err}");
    }
    // Metadata and an F64 tensor (read as f32), with a zero-sized tensor among them.
    let file = raw(
        &json!({
            "__metadata__": {"framework": "pt"},
            "w": {"dtype": "F64", "shape": [2], "data_offsets": [0, 16]},
            "empty": {"dtype": "F32", "shape": [0, 3], "data_offsets": [16, 16]}
        }),
        &[1.5f64.to_le_bytes(), (-2.0f64).to_le_bytes()].concat(),
    );
    let parsed = SafeTensors::parse(&file).unwrap();
    assert_eq!(parsed.metadata["framework"], "pt");
    assert_eq!(parsed.values_f32("w").unwrap(), vec![1.5, -2.0]);
    assert!(parsed.values_f32("empty").unwrap().is_empty());
}

/// A file written by the reference implementation (`tests/fixtures/make_fixture.py`, the
/// safetensors package's NumPy API) reads as written and matches the MLP spec.
#[test]
fn a_file_from_the_reference_implementation() {
    let file = include_bytes!("fixtures/mlp.safetensors");
    let tensors = SafeTensors::parse(file).unwrap();
    assert_eq!(tensors.metadata["format"], "pt");
    assert_eq!(tensors.tensors["0.weight"].shape, vec![4, 3]);
    assert_eq!(tensors.values_f32("0.weight").unwrap(), values(12));
    assert_eq!(tensors.values_f32("2.bias").unwrap(), vec![-1.0]);
    let spec = spec(&mlp_spec()).unwrap();
    let layers = spec.match_tensors(&tensors).unwrap();
    assert_eq!(layers.len(), 2);
}
