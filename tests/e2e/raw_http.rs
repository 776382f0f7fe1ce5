//! HTTP/1.1 over a bare TCP connection, byte for byte: for requests a client library would
//! rewrite or refuse (`..` in a path, over-long URLs, forged `Host` headers, bodies announced
//! but never sent) and to time what the server does with a connection.

use std::time::{Duration, Instant};

use anyhow::Result;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// An answer read off the wire.
pub(crate) struct RawAnswer {
    /// The status code of the status line.
    pub(crate) status: u16,
    /// The status line and the headers, without the blank line that ends them.
    pub(crate) head: String,
    /// The body (decoded when it came in chunks).
    pub(crate) body: Vec<u8>,
}

/// Writes `head` and `body` on a fresh connection to `addr` (`host:port`) and reads until a
/// whole answer has arrived (see [`parse`]), the server closes the connection, or `wait` has
/// passed. Writing goes on while reading: a server may answer and close before it has read
/// everything, and what arrived before a reset is kept. Returns the bytes that arrived and the
/// time from the first byte written to the last read.
pub(crate) async fn exchange(
    addr: &str,
    head: String,
    body: Vec<u8>,
    wait: Duration,
) -> Result<(Vec<u8>, Duration)> {
    let stream = TcpStream::connect(addr).await?;
    let started = Instant::now();
    let (mut reader, mut writer) = stream.into_split();
    // The task hands the writer back, so that the connection stays open for writing until
    // the answer has been read.
    let writing = tokio::spawn(async move {
        let _ = writer.write_all(head.as_bytes()).await;
        let _ = writer.write_all(&body).await;
        writer
    });
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let left = wait.saturating_sub(started.elapsed());
        match tokio::time::timeout(left, reader.read(&mut chunk)).await {
            Ok(Ok(0) | Err(_)) | Err(_) => break,
            Ok(Ok(n)) => {
                buf.extend_from_slice(&chunk[..n]);
                if parse(&buf, false).is_some() {
                    break;
                }
            }
        }
    }
    let took = started.elapsed();
    writing.abort();
    Ok((buf, took))
}

/// The answer at the start of `buf` once all of it is there: its head, then its body, of
/// `Content-Length` bytes or in chunks up to the last one. An answer that states neither
/// length ends where the connection does, so it is whole only once the server has closed it
/// (`closed`). `None`: not (yet) a whole answer.
pub(crate) fn parse(buf: &[u8], closed: bool) -> Option<RawAnswer> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let rest = &buf[end + 4..];
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let header = |name: &str| {
        head.lines()
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_ascii_lowercase())
    };
    let body = if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        dechunk(rest)?
    } else if let Some(length) = header("content-length") {
        rest.get(..length.parse().ok()?)?.to_vec()
    } else if closed {
        rest.to_vec()
    } else {
        return None;
    };
    Some(RawAnswer { status, head, body })
}

/// Decodes a chunked body; `None` until the last (empty) chunk has arrived.
fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n")?;
        let size_text = String::from_utf8_lossy(&data[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..).unwrap_or_default();
    }
}
