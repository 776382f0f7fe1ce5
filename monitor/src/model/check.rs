//! Checking a model's two files before it is registered or loaded: the spec parses, the
//! tensors match it, and every weight is finite. [`check_model`] takes the weights whole;
//! [`ModelChecker`] and [`check_model_stream`] read them chunk by chunk, holding the header and
//! one chunk, with the same rules, errors and messages.

use futures::{Stream, StreamExt};

use super::safetensors::{SafeTensors, StreamReader, non_finite, spent};
use super::spec::ModelSpec;
use crate::{Error, Result};

/// Checks a model's two files without loading it: the spec parses, the tensors match it, and
/// every weight is finite. Registration and [`Model::load`](super::Model::load) both apply
/// it. [`ModelChecker`] does the same on weights that arrive in chunks.
///
/// # Errors
/// [`Error::InvalidArgument`] saying what is wrong.
pub fn check_model(spec_json: &[u8], weights: &[u8]) -> Result<ModelSpec> {
    let spec = ModelSpec::from_json(spec_json)?;
    let tensors = SafeTensors::parse(weights)?;
    spec.match_tensors(&tensors)?;
    for name in tensors.tensors.keys() {
        if tensors.values_f32(name)?.iter().any(|v| !v.is_finite()) {
            return Err(non_finite(name));
        }
    }
    Ok(spec)
}

/// [`check_model`] on a `model.safetensors` read as it arrives: create it with the spec and the
/// file's length, [`feed`](Self::feed) the file's bytes in order (chunks of any size), then
/// [`finish`](Self::finish). It holds the spec, the file's header and at most one element
/// split across two chunks; the weights themselves are scanned and dropped.
///
/// The first error is the one [`check_model`] gives for the same bytes, returned by the call
/// that sees it: `new` for the spec and a file too short, the `feed` that completes the header
/// for header problems and tensors that do not match the spec, `finish` for a non-finite
/// weight. After an error the checker is spent.
///
/// ```
/// # use verity_monitor::model::{ModelChecker, safetensors::write_f32};
/// let spec = br#"{"format": "verity-model/1", "architecture": {"type": "linear_regression"},
///     "features": [{"column": "x"}], "output": {"type": "regression"}}"#;
/// let weights = write_f32(&[("weight", vec![1, 1], vec![2.0])]);
/// let mut checker = ModelChecker::new(spec, weights.len() as u64)?;
/// for chunk in weights.chunks(5) {
///     checker.feed(chunk)?;
/// }
/// let spec = checker.finish()?;
/// assert_eq!(spec.input_width(), 1);
/// # Ok::<(), verity_monitor::Error>(())
/// ```
#[derive(Debug)]
pub struct ModelChecker {
    spec: ModelSpec,
    reader: StreamReader,
    matched: bool,
    failed: bool,
}

impl ModelChecker {
    /// A checker for `spec_json` and a `model.safetensors` of `total_len` bytes.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a bad spec or a file too short to be safetensors.
    pub fn new(spec_json: &[u8], total_len: u64) -> Result<Self> {
        let spec = ModelSpec::from_json(spec_json)?;
        let reader = StreamReader::new(total_len)?;
        Ok(Self {
            spec,
            reader,
            matched: false,
            failed: false,
        })
    }

    /// Reads the next `chunk` of the weights file.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a bad header or tensors that do not match the spec (as
    /// [`check_model`]); [`Error::Internal`] for bytes past the announced length, or a call
    /// after an error.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<()> {
        if self.failed {
            return Err(spent());
        }
        let result = self.feed_inner(chunk);
        self.failed = result.is_err();
        result
    }

    fn feed_inner(&mut self, chunk: &[u8]) -> Result<()> {
        self.reader.feed(chunk)?;
        if !self.matched
            && let Some(header) = self.reader.header()
        {
            self.spec.match_tensor_infos(&header.tensors)?;
            self.matched = true;
        }
        Ok(())
    }

    /// Ends the check and returns the spec.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming the first tensor (by name) holding a NaN or an
    /// infinite value (as [`check_model`]); [`Error::Internal`] when fewer bytes than
    /// announced were fed, or after an error.
    pub fn finish(self) -> Result<ModelSpec> {
        if self.failed {
            return Err(spent());
        }
        self.reader.finish()?;
        if !self.matched {
            return Err(Error::Internal(
                "the weights' header was never checked".into(),
            ));
        }
        Ok(self.spec)
    }
}

/// [`check_model`] on weights read from `weights`, a stream of chunks (such as an object
/// store's download) whose total is `total_len` bytes, holding one chunk at a time.
///
/// # Errors
/// As [`ModelChecker`]; a chunk the stream fails to deliver is [`Error::Internal`] with the
/// stream's error. Callers that must tell their own read errors apart drive a
/// [`ModelChecker`] themselves.
pub async fn check_model_stream<S, T, E>(
    spec_json: &[u8],
    mut weights: S,
    total_len: u64,
) -> Result<ModelSpec>
where
    S: Stream<Item = std::result::Result<T, E>> + Unpin,
    T: AsRef<[u8]>,
    E: std::fmt::Display,
{
    let mut checker = ModelChecker::new(spec_json, total_len)?;
    while let Some(chunk) = weights.next().await {
        let chunk =
            chunk.map_err(|e| Error::Internal(format!("reading the weights failed: {e}")))?;
        checker.feed(chunk.as_ref())?;
    }
    checker.finish()
}
