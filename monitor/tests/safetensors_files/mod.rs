//! safetensors files for the format tests: one from a header and data, and a table of
//! truncated and hostile files with what their refusal says, shared by the in-memory reader's
//! tests and the streaming checker's (which must refuse each alike).
#![allow(dead_code)]

use serde_json::json;

/// A file with `header` as its JSON header and `data` after it.
pub fn raw(header: &serde_json::Value, data: &[u8]) -> Vec<u8> {
    let json = header.to_string().into_bytes();
    let mut out = (json.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&json);
    out.extend_from_slice(data);
    out
}

/// Files a reader must refuse, each with a piece of its refusal's message. `good` is a valid
/// file of more than 40 bytes whose only tensor data are 48 bytes at its end (truncations and
/// trailing bytes are cut from it); `name` names the tensors of the made-up headers.
pub fn hostile(good: &[u8], name: &str) -> Vec<(Vec<u8>, &'static str)> {
    let t = |dtype: &str, shape: serde_json::Value, offsets: [u64; 2]| json!({name: {"dtype": dtype, "shape": shape, "data_offsets": offsets}});
    let two = |first: [u64; 2], second: [u64; 2]| {
        json!({
            name: {"dtype": "F32", "shape": [2], "data_offsets": first},
            format!("{name}.2"): {"dtype": "F32", "shape": [2], "data_offsets": second}
        })
    };
    vec![
        (vec![], "0 bytes is shorter than the 8-byte header length"),
        (vec![1, 2, 3], "shorter than the 8-byte header length"),
        (u64::MAX.to_le_bytes().to_vec(), "at most"),
        (
            [(200u64 << 20).to_le_bytes().to_vec(), vec![b' '; 64]].concat(),
            "at most",
        ),
        (
            [1000u64.to_le_bytes().to_vec(), b"{}".to_vec()].concat(),
            "truncated",
        ),
        (good[..good.len() - 3].to_vec(), "outside"),
        (good[..good.len() - 4].to_vec(), "outside"),
        (good[..40].to_vec(), "truncated"),
        ([good.to_vec(), vec![0; 4]].concat(), "belong to no tensor"),
        (raw(&json!([1, 2]), &[]), "not a JSON object"),
        (0u64.to_le_bytes().to_vec(), "not a JSON object"),
        (
            raw(&t("I8", json!([1]), [0, 1]), &[0]),
            "dtype I8 is not supported",
        ),
        (
            raw(&t("F32", json!([u64::MAX, 4]), [0, 16]), &[0; 16]),
            "overflows",
        ),
        (
            raw(&t("F32", json!([1_000_000, 1_000_000]), [0, 16]), &[0; 16]),
            "needs 4000000000000 bytes",
        ),
        (raw(&t("F32", json!([4]), [8, 4]), &[0; 16]), "outside"),
        (
            raw(&t("F32", json!([4]), [0, 16]), &[0; 20]),
            "belong to no tensor",
        ),
        (raw(&two([0, 8], [4, 12]), &[0; 12]), "overlaps"),
        (
            raw(&t("F32", json!([1]), [4, 8]), &[0; 8]),
            "bytes 0..4 of the data belong to no tensor",
        ),
        (
            raw(
                &json!({name: {"dtype": "F32", "shape": [1], "data_offsets": [0, 4], "x": 1}}),
                &[0; 4],
            ),
            "unknown field",
        ),
        (
            raw(&json!({"__metadata__": {"n": 1}}), &[]),
            "__metadata__ must map strings to strings",
        ),
    ]
}
