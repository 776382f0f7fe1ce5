//! A strict reader of the safetensors format (the header and the tensors' bytes), written for
//! files that may be truncated or hostile: every length and offset is checked before use, with
//! overflow-checked arithmetic, and tensors must tile the data region exactly (no overlaps, no
//! holes), as the format requires.
//!
//! Layout: 8 bytes little-endian `N`, then `N` bytes of JSON header
//! `{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}}`,
//! then the data region the offsets index.

mod stream;

use std::collections::BTreeMap;

use crate::{Error, Result};

pub(crate) use stream::{StreamReader, spent};

/// Largest accepted header, in bytes. The reference implementation accepts 100 MiB, but a
/// header is parsed into memory whole and a hostile one can expand many times there; Verity's
/// models (a few layers) have headers of a few kilobytes.
pub const MAX_HEADER_BYTES: u64 = 8 * 1024 * 1024;

/// Element types Verity reads (others are refused by name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dtype {
    /// 32-bit float.
    F32,
    /// 64-bit float (converted to f32 when loaded).
    F64,
}

impl Dtype {
    fn parse(name: &str) -> Result<Self> {
        match name {
            "F32" => Ok(Dtype::F32),
            "F64" => Ok(Dtype::F64),
            other => Err(Error::invalid(format!(
                "tensor dtype {other} is not supported (use F32 or F64)"
            ))),
        }
    }

    /// Bytes per element.
    pub fn size(self) -> u64 {
        match self {
            Dtype::F32 => 4,
            Dtype::F64 => 8,
        }
    }
}

/// One tensor's entry in the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorInfo {
    /// Element type.
    pub dtype: Dtype,
    /// Dimensions.
    pub shape: Vec<u64>,
    /// Byte range in the data region.
    pub begin: u64,
    /// End of the byte range (exclusive).
    pub end: u64,
}

/// A parsed, checked safetensors file.
#[derive(Debug, Clone)]
pub struct SafeTensors<'a> {
    /// The tensors by name.
    pub tensors: BTreeMap<String, TensorInfo>,
    /// The free-form `__metadata__` strings.
    pub metadata: BTreeMap<String, String>,
    data: &'a [u8],
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTensor {
    dtype: String,
    shape: Vec<u64>,
    data_offsets: [u64; 2],
}

fn bad(message: impl Into<String>) -> Error {
    Error::invalid(format!("invalid safetensors file: {}", message.into()))
}

/// Bytes before the header: its length, little-endian.
pub const LENGTH_PREFIX_BYTES: u64 = 8;

/// Refuses a file of `file_len` bytes too short to hold the header's length.
pub(crate) fn check_file_len(file_len: u64) -> Result<()> {
    if file_len < LENGTH_PREFIX_BYTES {
        return Err(bad(format!(
            "{file_len} bytes is shorter than the 8-byte header length"
        )));
    }
    Ok(())
}

/// The header length the 8-byte `prefix` of a file of `file_len` bytes declares, checked
/// against the limit and the bytes that follow.
pub(crate) fn header_len(prefix: [u8; 8], file_len: u64) -> Result<u64> {
    let header_len = u64::from_le_bytes(prefix);
    if header_len > MAX_HEADER_BYTES {
        return Err(bad(format!(
            "the header declares {header_len} bytes (at most {MAX_HEADER_BYTES})"
        )));
    }
    let available = file_len.saturating_sub(LENGTH_PREFIX_BYTES);
    if header_len > available {
        return Err(bad(format!(
            "the header declares {header_len} bytes but only {available} follow (truncated?)"
        )));
    }
    Ok(header_len)
}

/// A checked header: the tensors tile a data region of `data_len` bytes exactly.
#[derive(Debug, Clone)]
pub(crate) struct Header {
    pub(crate) tensors: BTreeMap<String, TensorInfo>,
    pub(crate) metadata: BTreeMap<String, String>,
}

impl Header {
    /// Parses the header's JSON and checks every tensor against a data region of `data_len`
    /// bytes (see [`SafeTensors::parse`] for the rules).
    pub(crate) fn parse(json: &[u8], data_len: u64) -> Result<Self> {
        let header: BTreeMap<String, serde_json::Value> = serde_json::from_slice(json)
            .map_err(|e| bad(format!("the header is not a JSON object: {e}")))?;
        let mut tensors = BTreeMap::new();
        let mut metadata = BTreeMap::new();
        for (name, value) in header {
            if name == "__metadata__" {
                metadata = serde_json::from_value(value)
                    .map_err(|e| bad(format!("__metadata__ must map strings to strings: {e}")))?;
                continue;
            }
            let raw: RawTensor =
                serde_json::from_value(value).map_err(|e| bad(format!("tensor '{name}': {e}")))?;
            let dtype =
                Dtype::parse(&raw.dtype).map_err(|e| bad(format!("tensor '{name}': {e}")))?;
            let elements = raw
                .shape
                .iter()
                .try_fold(1u64, |acc, d| acc.checked_mul(*d))
                .ok_or_else(|| bad(format!("tensor '{name}': shape {:?} overflows", raw.shape)))?;
            let size = elements
                .checked_mul(dtype.size())
                .ok_or_else(|| bad(format!("tensor '{name}': shape {:?} overflows", raw.shape)))?;
            let [begin, end] = raw.data_offsets;
            if begin > end || end > data_len {
                return Err(bad(format!(
                    "tensor '{name}': offsets [{begin}, {end}] lie outside the {data_len} data bytes"
                )));
            }
            if end - begin != size {
                return Err(bad(format!(
                    "tensor '{name}': shape {:?} of {} needs {size} bytes, its offsets give {}",
                    raw.shape,
                    raw.dtype,
                    end - begin
                )));
            }
            tensors.insert(
                name,
                TensorInfo {
                    dtype,
                    shape: raw.shape,
                    begin,
                    end,
                },
            );
        }
        let header = Self { tensors, metadata };
        let mut covered = 0u64;
        for (begin, end, name) in header.in_data_order() {
            if begin < covered {
                return Err(bad(format!(
                    "tensor '{name}' overlaps the tensor before it"
                )));
            }
            if begin > covered {
                return Err(bad(format!(
                    "bytes {covered}..{begin} of the data belong to no tensor"
                )));
            }
            covered = end;
        }
        if covered != data_len {
            return Err(bad(format!(
                "bytes {covered}..{data_len} of the data belong to no tensor"
            )));
        }
        Ok(header)
    }

    /// The tensors' byte ranges and names in the order they lie in the data region (a
    /// zero-sized tensor before the tensor that starts where it sits).
    pub(crate) fn in_data_order(&self) -> Vec<(u64, u64, &str)> {
        let mut ranges: Vec<(u64, u64, &str)> = self
            .tensors
            .iter()
            .map(|(n, t)| (t.begin, t.end, n.as_str()))
            .collect();
        ranges.sort_unstable();
        ranges
    }
}

/// One element of `dtype` from its little-endian bytes (`bytes.len() == dtype.size()`), as
/// f32 (F64 values are rounded, so one beyond f32's range becomes infinite).
pub(crate) fn element_f32(dtype: Dtype, bytes: &[u8]) -> f32 {
    let mut buf = [0u8; 8];
    let n = bytes.len().min(8);
    buf[..n].copy_from_slice(&bytes[..n]);
    match dtype {
        Dtype::F32 => f32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]),
        Dtype::F64 => f64::from_le_bytes(buf) as f32,
    }
}

/// The error for a tensor that holds a NaN or an infinity (as f32).
pub(crate) fn non_finite(name: &str) -> Error {
    Error::invalid(format!("tensor '{name}' holds a NaN or infinite value"))
}

impl<'a> SafeTensors<'a> {
    /// Parses and checks `bytes`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming the problem: too short, a header length beyond the
    /// file or the limit, header JSON that does not parse, an unknown dtype, a shape whose byte
    /// size overflows or differs from its offsets, offsets outside the data, overlapping
    /// tensors, or bytes no tensor covers.
    pub fn parse(bytes: &'a [u8]) -> Result<Self> {
        let file_len = bytes.len() as u64;
        check_file_len(file_len)?;
        let prefix: [u8; 8] = bytes
            .get(..8)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| bad("the header length cannot be read"))?;
        let header_len = header_len(prefix, file_len)?;
        // Checked against the file's length above.
        let header_end = 8 + header_len as usize;
        let data = &bytes[header_end..];
        let Header { tensors, metadata } = Header::parse(&bytes[8..header_end], data.len() as u64)?;
        Ok(Self {
            tensors,
            metadata,
            data,
        })
    }

    /// A tensor's values as f32, row-major.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an unknown name.
    pub fn values_f32(&self, name: &str) -> Result<Vec<f32>> {
        let info = self
            .tensors
            .get(name)
            .ok_or_else(|| Error::invalid(format!("no tensor named '{name}'")))?;
        // Offsets were checked against the data length in `parse`.
        let bytes = &self.data[info.begin as usize..info.end as usize];
        Ok(bytes
            .chunks_exact(info.dtype.size() as usize)
            .map(|c| element_f32(info.dtype, c))
            .collect())
    }
}

/// Writes a safetensors file of F32 tensors (for tests and examples): name, shape, values.
pub fn write_f32(tensors: &[(&str, Vec<u64>, Vec<f32>)]) -> Vec<u8> {
    let mut header = serde_json::Map::new();
    let mut data = Vec::new();
    for (name, shape, values) in tensors {
        let begin = data.len();
        for v in values {
            data.extend_from_slice(&v.to_le_bytes());
        }
        header.insert(
            (*name).to_owned(),
            serde_json::json!({"dtype": "F32", "shape": shape, "data_offsets": [begin, data.len()]}),
        );
    }
    let mut json = serde_json::Value::Object(header).to_string().into_bytes();
    // The header is padded with spaces to a multiple of 8 bytes, as writers do.
    while !json.len().is_multiple_of(8) {
        json.push(b' ');
    }
    let mut out = (json.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&json);
    out.extend_from_slice(&data);
    out
}
