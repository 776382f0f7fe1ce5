//! HMAC-SHA256 signatures of webhook bodies (RFC 2104) with a timestamp in the signed string,
//! as Stripe signs its webhooks: `X-Verity-Signature: t=<unix seconds>,v1=<lower-case hex>`,
//! where the HMAC covers `<t>.<exact body bytes>`. A receiver recomputes it and refuses a
//! timestamp too far from its clock, so a captured delivery cannot be replayed later.

use sha2::{Digest, Sha256};

/// The header that carries the signature.
pub const HEADER: &str = "X-Verity-Signature";

const BLOCK: usize = 64;

/// HMAC-SHA256 of `message` under `key`.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// The header value for `body` sent at `timestamp` (seconds since the Unix epoch), signed
/// with `secret`: `t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>.<body>">`.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac(secret, timestamp, body))
    )
}

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> [u8; 32] {
    let mut signed = format!("{timestamp}.").into_bytes();
    signed.extend_from_slice(body);
    hmac_sha256(secret, &signed)
}

/// Why a signature does not check out.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(not(test), allow(dead_code))] // the receiver's side, for tests
pub enum Invalid {
    /// The header is not `t=...,v1=...`.
    Malformed,
    /// The timestamp is further than the tolerance from now (a replay, or a wrong clock).
    Stale,
    /// No `v1` signature matches.
    Mismatch,
}

/// Checks a signature header as a receiver should: well formed, a timestamp within
/// `tolerance_secs` of `now` (seconds), and a `v1` equal (in constant time) to the HMAC of
/// `<t>.<body>` under `secret`.
#[cfg_attr(not(test), allow(dead_code))] // the receiver's side, for tests
pub fn verify(
    secret: &[u8],
    header: &str,
    body: &[u8],
    now: i64,
    tolerance_secs: i64,
) -> Result<(), Invalid> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", v)) => signatures.push(hex::decode(v).map_err(|_| Invalid::Malformed)?),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(Invalid::Malformed)?;
    if signatures.is_empty() {
        return Err(Invalid::Malformed);
    }
    if now.abs_diff(timestamp) > tolerance_secs.unsigned_abs() {
        return Err(Invalid::Stale);
    }
    let expected = mac(secret, timestamp, body);
    if signatures
        .iter()
        .any(|s| verity_policy::constant_time_eq(s, &expected))
    {
        Ok(())
    } else {
        Err(Invalid::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231 test cases 1, 2 and 6 (a key longer than the block).
    #[test]
    fn rfc_4231_vectors() {
        assert_eq!(
            hex::encode(hmac_sha256(&[0x0b; 20], b"Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        assert_eq!(
            hex::encode(hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex::encode(hmac_sha256(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn signatures_cover_the_timestamp() {
        let header = sign(b"secret", 1_700_000_000, b"{}");
        assert!(header.starts_with("t=1700000000,v1="), "{header}");
        // What a receiver computes by hand: HMAC of "<t>.<body>".
        assert_eq!(
            header,
            format!(
                "t=1700000000,v1={}",
                hex::encode(hmac_sha256(b"secret", b"1700000000.{}"))
            )
        );
        assert_eq!(
            verify(b"secret", &header, b"{}", 1_700_000_100, 300),
            Ok(())
        );
        // A replay ten minutes later, another body, another secret, a moved timestamp.
        assert_eq!(
            verify(b"secret", &header, b"{}", 1_700_000_600, 300),
            Err(Invalid::Stale)
        );
        assert_eq!(
            verify(b"secret", &header, b"{ }", 1_700_000_000, 300),
            Err(Invalid::Mismatch)
        );
        assert_eq!(
            verify(b"other", &header, b"{}", 1_700_000_000, 300),
            Err(Invalid::Mismatch)
        );
        let moved = header.replace("t=1700000000", "t=1700000500");
        assert_eq!(
            verify(b"secret", &moved, b"{}", 1_700_000_500, 300),
            Err(Invalid::Mismatch)
        );
        assert_eq!(
            verify(b"secret", "sha256=abc", b"{}", 0, 300),
            Err(Invalid::Malformed)
        );
    }
}
