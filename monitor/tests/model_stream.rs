//! `model.safetensors` checked as it streams in: the same verdicts and messages as the
//! in-memory check, whatever the chunk sizes, holding one chunk at a time.
#![allow(clippy::unwrap_used, missing_docs)]

mod safetensors_files;

use safetensors_files::raw;
use serde_json::json;
use verity_monitor::ErrorKind;
use verity_monitor::model::safetensors::write_f32;
use verity_monitor::model::{ModelChecker, ModelSpec, check_model, check_model_stream};

fn mlp_spec() -> Vec<u8> {
    json!({
        "format": "verity-model/1",
        "architecture": {"type": "mlp", "hidden_layers": [4], "activation": "relu"},
        "features": [
            {"column": "age", "standardize": {"mean": 40.0, "std": 10.0}},
            {"column": "country", "one_hot": ["de", "fr"]}
        ],
        "output": {"type": "binary", "threshold": 0.7}
    })
    .to_string()
    .into_bytes()
}

fn linear_spec() -> Vec<u8> {
    json!({
        "format": "verity-model/1",
        "architecture": {"type": "linear_regression"},
        "features": [{"column": "x"}, {"column": "y"}],
        "output": {"type": "regression"}
    })
    .to_string()
    .into_bytes()
}

fn values(n: usize) -> Vec<f32> {
    (0..n).map(|i| i as f32 * 0.25 - 1.0).collect()
}

fn mlp_file(first: Vec<f32>) -> Vec<u8> {
    write_f32(&[
        ("0.weight", vec![4, 3], first),
        ("0.bias", vec![4], values(4)),
        ("2.weight", vec![1, 4], values(4)),
        ("2.bias", vec![1], values(1)),
    ])
}

fn streamed(spec: &[u8], weights: &[u8], chunk: usize) -> verity_monitor::Result<ModelSpec> {
    let mut checker = ModelChecker::new(spec, weights.len() as u64)?;
    for piece in weights.chunks(chunk.max(1)) {
        checker.feed(piece)?;
    }
    checker.finish()
}

/// The streamed verdict equals the in-memory one for every chunk size.
fn assert_same(spec: &[u8], weights: &[u8]) -> Result<ModelSpec, (ErrorKind, String)> {
    let whole = check_model(spec, weights).map_err(|e| (e.kind(), e.to_string()));
    for chunk in [1, 2, 3, 7, 8, 13, 64, 4096, weights.len()] {
        let stream = streamed(spec, weights, chunk).map_err(|e| (e.kind(), e.to_string()));
        assert_eq!(stream, whole, "chunks of {chunk}");
    }
    whole
}

#[test]
fn valid_models_pass_in_any_chunk_size() {
    let spec = assert_same(&mlp_spec(), &mlp_file(values(12))).unwrap();
    assert_eq!(spec.layer_sizes(), vec![3, 4, 1]);
    let file = include_bytes!("fixtures/mlp.safetensors");
    assert_same(&mlp_spec(), file).unwrap();
    // F64 tensors and a zero-sized tensor (refused by the spec as extra, identically).
    let f64_file = raw(
        &json!({
            "__metadata__": {"framework": "pt"},
            "weight": {"dtype": "F64", "shape": [1, 2], "data_offsets": [0, 16]},
            "bias": {"dtype": "F64", "shape": [1], "data_offsets": [16, 24]}
        }),
        &[1.5f64, -2.0, 0.25]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect::<Vec<u8>>(),
    );
    assert_same(&linear_spec(), &f64_file).unwrap();
    let with_empty = raw(
        &json!({
            "weight": {"dtype": "F32", "shape": [1, 2], "data_offsets": [0, 8]},
            "empty": {"dtype": "F32", "shape": [0, 3], "data_offsets": [8, 8]}
        }),
        &[0u8; 8],
    );
    let (kind, message) = assert_same(&linear_spec(), &with_empty).unwrap_err();
    assert_eq!(kind, ErrorKind::InvalidArgument);
    assert!(
        message.contains("'empty' is not part of the spec"),
        "{message}"
    );
}

#[test]
fn non_finite_weights_are_refused_like_the_in_memory_check() {
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        for at in [0, 5, 11] {
            let mut first = values(12);
            first[at] = bad;
            let (kind, message) = assert_same(&mlp_spec(), &mlp_file(first)).unwrap_err();
            assert_eq!(kind, ErrorKind::InvalidArgument);
            assert_eq!(message, "tensor '0.weight' holds a NaN or infinite value");
        }
    }
    // Two bad tensors: the first by name is named, whichever comes first in the data.
    let file = write_f32(&[
        ("2.weight", vec![1, 4], vec![0.0, f32::NAN, 0.0, 0.0]),
        ("0.weight", vec![4, 3], values(12)),
        ("0.bias", vec![4], vec![0.0, 0.0, 0.0, f32::INFINITY]),
    ]);
    let (_, message) = assert_same(&mlp_spec(), &file).unwrap_err();
    assert_eq!(message, "tensor '0.bias' holds a NaN or infinite value");
    // An F64 weight beyond f32's range, split across chunks.
    let file = raw(
        &json!({
            "weight": {"dtype": "F64", "shape": [1, 2], "data_offsets": [0, 16]}
        }),
        &[1.0f64, 1e300]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect::<Vec<u8>>(),
    );
    let (_, message) = assert_same(&linear_spec(), &file).unwrap_err();
    assert_eq!(message, "tensor 'weight' holds a NaN or infinite value");
}

#[test]
fn shapes_that_disagree_with_the_spec_are_refused_like_the_in_memory_check() {
    let cases = [
        write_f32(&[
            ("0.weight", vec![4, 2], values(8)),
            ("2.weight", vec![1, 4], values(4)),
        ]),
        write_f32(&[("0.weight", vec![4, 3], values(12))]),
        write_f32(&[
            ("0.weight", vec![4, 3], values(12)),
            ("0.bias", vec![3], values(3)),
            ("2.weight", vec![1, 4], values(4)),
        ]),
        write_f32(&[
            ("0.weight", vec![4, 3], values(12)),
            ("2.weight", vec![1, 4], values(4)),
            ("4.weight", vec![1, 1], values(1)),
        ]),
    ];
    for file in cases {
        let (kind, message) = assert_same(&mlp_spec(), &file).unwrap_err();
        assert_eq!(kind, ErrorKind::InvalidArgument);
        assert!(
            message.contains("shape") || message.contains("not part"),
            "{message}"
        );
    }
    // A shape mismatch wins over a NaN, as in memory.
    let file = write_f32(&[("0.weight", vec![4, 2], vec![f32::NAN; 8])]);
    let (_, message) = assert_same(&mlp_spec(), &file).unwrap_err();
    assert!(message.contains("has shape [4, 2]"), "{message}");
}

#[test]
fn truncated_and_hostile_files_are_refused_like_the_in_memory_check() {
    let good = mlp_file(values(12));
    let cases = safetensors_files::hostile(&good, "0.weight");
    for (bytes, needle) in cases {
        let (kind, message) = assert_same(&mlp_spec(), &bytes).unwrap_err();
        assert_eq!(kind, ErrorKind::InvalidArgument, "{needle}");
        assert!(message.contains(needle), "{needle}: {message}");
    }
    // A bad spec is refused before any byte of the weights.
    let err = ModelChecker::new(b"{}", 100).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert_eq!(
        err.to_string(),
        check_model(b"{}", &good).unwrap_err().to_string()
    );
}

#[test]
fn a_stream_that_disagrees_with_its_length_is_an_internal_error() {
    let file = mlp_file(values(12));
    let spec = mlp_spec();
    // Fewer bytes than announced: the file itself is consistent, the stream is short.
    let mut short = ModelChecker::new(&spec, file.len() as u64).unwrap();
    short.feed(&file[..file.len() - 4]).unwrap();
    let err = short.finish().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Internal);
    assert!(err.to_string().contains("ended after"), "{err}");
    // More bytes than announced.
    let mut long = ModelChecker::new(&spec, file.len() as u64).unwrap();
    long.feed(&file).unwrap();
    let err = long.feed(&[0]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Internal);
    assert!(err.to_string().contains("more than"), "{err}");
    // A spent checker refuses more work.
    let err = long.feed(&[]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Internal);
    assert!(long.finish().is_err());
    // The stream ends inside the header.
    let mut early = ModelChecker::new(&spec, file.len() as u64).unwrap();
    early.feed(&file[..12]).unwrap();
    assert_eq!(early.finish().unwrap_err().kind(), ErrorKind::Internal);
}

#[tokio::test]
async fn check_model_stream_reads_a_stream_of_chunks() {
    let file = mlp_file(values(12));
    let spec = mlp_spec();
    let chunks = |size: usize| {
        futures::stream::iter(
            file.chunks(size)
                .map(|c| Ok::<_, String>(c.to_vec()))
                .collect::<Vec<_>>(),
        )
    };
    let checked = check_model_stream(&spec, chunks(7), file.len() as u64)
        .await
        .unwrap();
    assert_eq!(checked, check_model(&spec, &file).unwrap());
    let mut nan = values(12);
    nan[3] = f32::NAN;
    let bad = mlp_file(nan);
    let stream = futures::stream::iter(bad.chunks(5).map(|c| Ok::<_, String>(c.to_vec())));
    let err = check_model_stream(&spec, stream, bad.len() as u64)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        check_model(&spec, &bad).unwrap_err().to_string()
    );
    // A failed read is an internal error carrying the stream's message.
    let failing = futures::stream::iter(vec![
        Ok(file[..10].to_vec()),
        Err("connection reset".to_owned()),
    ]);
    let err = check_model_stream(&spec, failing, file.len() as u64)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Internal);
    assert!(err.to_string().contains("connection reset"), "{err}");
}
