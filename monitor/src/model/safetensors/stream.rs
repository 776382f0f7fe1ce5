//! Reading a safetensors file as it arrives, chunk by chunk: the same header rules as
//! [`SafeTensors::parse`](super::SafeTensors::parse), and every element scanned once, holding
//! the header and at most one element split across two chunks (never the data).

use super::{
    Dtype, Header, LENGTH_PREFIX_BYTES, check_file_len, element_f32, header_len, non_finite,
};
use crate::{Error, Result};

/// A safetensors file read incrementally: [`feed`](Self::feed) its bytes in order, in chunks
/// of any size, then [`finish`](Self::finish).
///
/// Header problems are reported by the `feed` that completes the header, as
/// [`SafeTensors::parse`](super::SafeTensors::parse) would report them for the whole file.
/// Non-finite elements are remembered and reported by `finish` (the first tensor by name, as
/// the in-memory check does). After an error the reader is spent: later calls fail.
#[derive(Debug)]
pub(crate) struct StreamReader {
    /// The file's announced length.
    total_len: u64,
    /// Bytes fed so far.
    received: u64,
    state: State,
    /// The first tensor, by name, found to hold a NaN or an infinity.
    non_finite: Option<String>,
}

#[derive(Debug)]
enum State {
    /// Reading the 8-byte header length.
    Prefix(Vec<u8>),
    /// Reading the header's `len` bytes of JSON.
    Header { len: u64, json: Vec<u8> },
    /// Scanning the data region.
    Data(Scan),
    /// An error was returned.
    Failed,
}

/// Where the scan of the data region stands.
#[derive(Debug)]
struct Scan {
    header: Header,
    /// Tensors with data, in data order: (end offset, dtype, name).
    tensors: Vec<(u64, Dtype, String)>,
    /// The tensor being scanned.
    index: usize,
    /// Offset in the data region.
    position: u64,
    /// Bytes of an element split across chunks.
    carry: [u8; 8],
    carry_len: usize,
}

impl StreamReader {
    /// A reader for a file of `total_len` bytes.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when `total_len` is too short for the header length.
    pub(crate) fn new(total_len: u64) -> Result<Self> {
        check_file_len(total_len)?;
        Ok(Self {
            total_len,
            received: 0,
            state: State::Prefix(Vec::with_capacity(8)),
            non_finite: None,
        })
    }

    /// The checked header, once it has been read.
    pub(crate) fn header(&self) -> Option<&Header> {
        match &self.state {
            State::Data(scan) => Some(&scan.header),
            _ => None,
        }
    }

    /// Reads the next `chunk` of the file.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a header [`SafeTensors::parse`](super::SafeTensors::parse)
    /// refuses; [`Error::Internal`] for bytes past the announced length, or after an error.
    pub(crate) fn feed(&mut self, chunk: &[u8]) -> Result<()> {
        if matches!(self.state, State::Failed) {
            return Err(spent());
        }
        let result = self.feed_inner(chunk);
        if result.is_err() {
            self.state = State::Failed;
        }
        result
    }

    fn feed_inner(&mut self, mut chunk: &[u8]) -> Result<()> {
        let fed = self.received.saturating_add(chunk.len() as u64);
        if fed > self.total_len {
            return Err(Error::Internal(format!(
                "the weights hold more than the {} bytes announced",
                self.total_len
            )));
        }
        self.received = fed;
        while !chunk.is_empty() {
            match &mut self.state {
                State::Prefix(prefix) => {
                    let take = (8 - prefix.len()).min(chunk.len());
                    prefix.extend_from_slice(&chunk[..take]);
                    chunk = &chunk[take..];
                    if let Ok(bytes) = <[u8; 8]>::try_from(prefix.as_slice()) {
                        let len = header_len(bytes, self.total_len)?;
                        self.state = State::Header {
                            len,
                            json: Vec::new(),
                        };
                        self.complete_header()?;
                    }
                }
                State::Header { len, json } => {
                    let missing = usize::try_from(*len - json.len() as u64).unwrap_or(usize::MAX);
                    let take = missing.min(chunk.len());
                    json.extend_from_slice(&chunk[..take]);
                    chunk = &chunk[take..];
                    self.complete_header()?;
                }
                State::Data(scan) => {
                    chunk = scan.scan(chunk, &mut self.non_finite);
                    if !chunk.is_empty() {
                        // Only past the data region, which `fed` rules out.
                        return Err(Error::Internal(
                            "the weights' data outgrew their header".into(),
                        ));
                    }
                }
                State::Failed => return Err(spent()),
            }
        }
        Ok(())
    }

    /// Moves to the data once the header's bytes are all in.
    fn complete_header(&mut self) -> Result<()> {
        let State::Header { len, json } = &self.state else {
            return Ok(());
        };
        if json.len() as u64 != *len {
            return Ok(());
        }
        // `header_len` checked that the header fits in the file.
        let data_len = self.total_len - LENGTH_PREFIX_BYTES - len;
        let header = Header::parse(json, data_len)?;
        let tensors = header
            .in_data_order()
            .into_iter()
            .filter(|(begin, end, _)| end > begin)
            .map(|(_, end, name)| (end, header.tensors[name].dtype, name.to_owned()))
            .collect();
        self.state = State::Data(Scan {
            header,
            tensors,
            index: 0,
            position: 0,
            carry: [0; 8],
            carry_len: 0,
        });
        Ok(())
    }

    /// The header, after checking that every announced byte was fed.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming the first tensor (by name) that holds a NaN or an
    /// infinity; [`Error::Internal`] when fewer bytes than announced were fed, or after an
    /// error.
    pub(crate) fn finish(self) -> Result<Header> {
        if matches!(self.state, State::Failed) {
            return Err(spent());
        }
        if self.received != self.total_len {
            return Err(Error::Internal(format!(
                "the weights ended after {} of their {} bytes",
                self.received, self.total_len
            )));
        }
        match self.state {
            State::Data(scan) => match self.non_finite {
                Some(name) => Err(non_finite(&name)),
                None => Ok(scan.header),
            },
            _ => Err(Error::Internal(
                "the weights ended inside their header".into(),
            )),
        }
    }
}

/// The error of a reader or checker used after an error.
pub(crate) fn spent() -> Error {
    Error::Internal("the weights check already failed".into())
}

impl Scan {
    /// Scans the start of `chunk` that belongs to the data region; returns what lies beyond.
    fn scan<'c>(&mut self, mut chunk: &'c [u8], non_finite: &mut Option<String>) -> &'c [u8] {
        while !chunk.is_empty() {
            let Some(&(end, dtype, _)) = self.tensors.get(self.index) else {
                return chunk;
            };
            let in_tensor = usize::try_from(end - self.position).unwrap_or(usize::MAX);
            let (part, rest) = chunk.split_at(in_tensor.min(chunk.len()));
            // A tensor after the first bad one by name cannot change the verdict: skip it.
            let decided = non_finite
                .as_deref()
                .is_some_and(|first| first <= self.tensors[self.index].2.as_str());
            if !decided && !self.all_finite(part, dtype) {
                *non_finite = Some(self.tensors[self.index].2.clone());
            }
            self.position += part.len() as u64;
            if self.position == end {
                // Tensors hold whole elements: nothing carries over to the next one.
                self.index += 1;
                self.carry_len = 0;
            }
            chunk = rest;
        }
        chunk
    }

    /// Whether every element completed by `part` (with the bytes carried from the last
    /// chunk) is finite; keeps a trailing partial element for the next chunk.
    fn all_finite(&mut self, mut part: &[u8], dtype: Dtype) -> bool {
        let size = dtype.size() as usize;
        let mut finite = true;
        if self.carry_len > 0 {
            let take = (size - self.carry_len).min(part.len());
            self.carry[self.carry_len..self.carry_len + take].copy_from_slice(&part[..take]);
            self.carry_len += take;
            part = &part[take..];
            if self.carry_len < size {
                return true;
            }
            finite &= element_f32(dtype, &self.carry[..size]).is_finite();
            self.carry_len = 0;
        }
        let mut elements = part.chunks_exact(size);
        finite &= elements.all(|e| element_f32(dtype, e).is_finite());
        let rest = elements.remainder();
        self.carry[..rest.len()].copy_from_slice(rest);
        self.carry_len = rest.len();
        finite
    }
}
