//! API tokens and session ids: random secrets shown once, stored only as SHA-256 digests.
//!
//! A secret is a prefix (`vty_` for API tokens, `vts_` for sessions) and 43 URL-safe base64
//! characters encoding 32 random bytes. The first [`DISPLAY_PREFIX_CHARS`] characters may be
//! stored and shown to tell tokens apart.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::random;

/// The prefix of every API token.
pub const TOKEN_PREFIX: &str = "vty_";
/// The prefix of every session id.
pub const SESSION_PREFIX: &str = "vts_";
/// How many leading characters of a secret are kept for display.
pub const DISPLAY_PREFIX_CHARS: usize = 12;
/// Length of a secret's random part: 32 bytes in unpadded base64.
const BODY_CHARS: usize = 43;

/// A freshly generated secret: hand `secret` to the user once, store the other two.
#[derive(Clone, PartialEq, Eq)]
pub struct NewSecret {
    /// The whole secret, e.g. `vty_<43 chars>`.
    pub secret: String,
    /// The first 12 characters, safe to store and show.
    pub display_prefix: String,
    /// SHA-256 of the whole secret, lowercase hex; what the database keeps.
    pub digest: String,
}

impl std::fmt::Debug for NewSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewSecret")
            .field("secret", &"<redacted>")
            .field("display_prefix", &self.display_prefix)
            .field("digest", &self.digest)
            .finish()
    }
}

fn new_secret(prefix: &str) -> NewSecret {
    let secret = format!("{prefix}{}", random_body());
    NewSecret {
        display_prefix: secret.chars().take(DISPLAY_PREFIX_CHARS).collect(),
        digest: digest(&secret),
        secret,
    }
}

fn random_body() -> String {
    URL_SAFE_NO_PAD.encode(random::bytes::<32>())
}

/// A new API token (`vty_` + 43 characters from 32 random bytes).
pub fn new_token() -> NewSecret {
    new_secret(TOKEN_PREFIX)
}

/// A new session id (`vts_` + 43 characters from 32 random bytes).
pub fn new_session() -> NewSecret {
    new_secret(SESSION_PREFIX)
}

/// A new CSRF token: 43 URL-safe characters from 32 random bytes.
pub fn new_csrf_token() -> String {
    random_body()
}

/// A new webhook signing secret: 43 URL-safe characters from 32 random bytes.
pub fn new_signing_secret() -> String {
    random_body()
}

/// SHA-256 of `secret`, lowercase hex.
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Checks that `s` looks like an API token and returns its digest for the lookup.
pub fn parse_token(s: &str) -> Result<String> {
    let body = s.strip_prefix(TOKEN_PREFIX).ok_or_else(|| {
        Error::Unauthenticated(format!(
            "not a Verity API token (expected the prefix {TOKEN_PREFIX})"
        ))
    })?;
    let well_formed = body.len() == BODY_CHARS
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !well_formed {
        return Err(Error::Unauthenticated(format!(
            "malformed Verity API token (expected {TOKEN_PREFIX} and {BODY_CHARS} URL-safe \
             base64 characters)"
        )));
    }
    Ok(digest(s))
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn tokens_have_the_documented_shape() -> Result<()> {
        let t = new_token();
        assert_eq!(t.secret.len(), 4 + 43);
        assert!(t.secret.starts_with("vty_"));
        assert_eq!(t.display_prefix, t.secret[..12]);
        assert_eq!(t.digest.len(), 64);
        assert_eq!(parse_token(&t.secret)?, t.digest);
        assert_ne!(new_token().secret, t.secret);
        assert!(!format!("{t:?}").contains(&t.secret));

        let s = new_session();
        assert!(s.secret.starts_with("vts_") && s.secret.len() == 47);
        assert_eq!(new_csrf_token().len(), 43);
        Ok(())
    }

    #[test]
    fn digest_is_sha256_hex() {
        assert_eq!(
            digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn parse_rejects_wrong_prefix_and_malformed_bodies() {
        let msg = |s: &str| parse_token(s).err().map(|e| (e.kind(), e.to_string()));
        let prefix = Some((
            ErrorKind::Unauthenticated,
            "not a Verity API token (expected the prefix vty_)".to_owned(),
        ));
        assert_eq!(msg("vts_abc"), prefix);
        assert_eq!(msg(""), prefix);
        assert_eq!(msg("Bearer vty_x"), prefix);
        let body = "a".repeat(43);
        assert!(parse_token(&format!("vty_{body}")).is_ok());
        for bad in [
            "vty_",
            "vty_abc",
            &format!("vty_{body}a"),
            &format!("vty_{}+", "a".repeat(42)),
        ] {
            let (kind, text) = msg(bad).unwrap_or((ErrorKind::Internal, String::new()));
            assert_eq!(kind, ErrorKind::Unauthenticated);
            assert!(text.starts_with("malformed Verity API token"), "{text}");
        }
        assert!(parse_token(&format!("vty_{}é", "a".repeat(41))).is_err());
    }

    #[test]
    fn constant_time_comparison() {
        assert!(constant_time_eq(b"", b""));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
