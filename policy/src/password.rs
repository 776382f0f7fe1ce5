//! Password hashing with argon2id (argon2 0.6 defaults: 19 MiB, 2 passes, 1 lane) and the
//! rules for new passwords.
//!
//! Hashing is slow on purpose, so both operations run on tokio's blocking pool.

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{self, PasswordHasher, PasswordVerifier, phc::PasswordHash};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::{Error, Result};
use crate::random;

/// The shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The longest password accepted, in bytes (argon2 takes any length; this bounds the work).
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Hashes `password` with argon2id and a fresh random salt; returns the PHC string
/// (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`).
pub async fn hash_password(password: String) -> Result<String> {
    blocking(move || hash_blocking(&password)).await
}

/// Whether `password` matches the stored PHC string. With no stored hash (unknown user) it
/// verifies against a dummy hash, so the answer takes as long, and returns false.
///
/// A stored value that is not a valid PHC string is an [`Error::PasswordHash`], not `false`.
pub async fn verify_password(password: String, phc: Option<String>) -> Result<bool> {
    blocking(move || match phc {
        Some(phc) => verify_blocking(&password, &phc),
        None => {
            let dummy = dummy_hash()?;
            verify_blocking(&password, dummy)?;
            Ok(false)
        }
    })
    .await
}

/// Checks a new password: at least [`MIN_PASSWORD_CHARS`] characters and at most
/// [`MAX_PASSWORD_BYTES`] bytes.
pub fn validate_new_password(password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(Error::InvalidArgument(format!(
            "the password is too short: use at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(Error::InvalidArgument(format!(
            "the password is too long: use at most {MAX_PASSWORD_BYTES} bytes"
        )));
    }
    Ok(())
}

/// A random password of 24 URL-safe characters (144 bits), e.g. for a first admin.
pub fn generate_password() -> String {
    URL_SAFE_NO_PAD.encode(random::bytes::<18>())
}

/// At most one hash per core at a time: each takes 19 MiB and a core for tens of
/// milliseconds, so a burst of logins queues here instead of exhausting memory and threads.
fn hashing_slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: OnceLock<tokio::sync::Semaphore> = OnceLock::new();
    SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        tokio::sync::Semaphore::new(cores)
    })
}

async fn blocking<T, F>(f: F) -> Result<T>
where
    F: FnOnce() -> Result<T> + Send + 'static,
    T: Send + 'static,
{
    let _slot = hashing_slots()
        .acquire()
        .await
        .map_err(|e| Error::Internal(format!("password hashing slots closed: {e}")))?;
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Internal(format!("password hashing task failed: {e}")))?
}

fn hash_blocking(password: &str) -> Result<String> {
    let hash: PasswordHash = Argon2::default()
        .hash_password(password.as_bytes())
        .map_err(|e| Error::PasswordHash(e.to_string()))?;
    Ok(hash.to_string())
}

fn verify_blocking(password: &str, phc: &str) -> Result<bool> {
    let parsed = PasswordHash::new(phc)
        .map_err(|e| Error::PasswordHash(format!("the stored hash does not parse: {e}")))?;
    match Argon2::default().verify_password(password.as_bytes(), &parsed) {
        Ok(()) => Ok(true),
        Err(password_hash::Error::PasswordInvalid) => Ok(false),
        Err(e) => Err(Error::PasswordHash(e.to_string())),
    }
}

/// A hash of a random password with the default parameters, made once.
fn dummy_hash() -> Result<&'static str> {
    static DUMMY: OnceLock<Option<String>> = OnceLock::new();
    DUMMY
        .get_or_init(|| hash_blocking(&generate_password()).ok())
        .as_deref()
        .ok_or_else(|| Error::Internal("could not compute the dummy password hash".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[tokio::test]
    async fn hash_and_verify() -> Result<()> {
        let phc = hash_password("correct horse battery".to_owned()).await?;
        assert!(phc.starts_with("$argon2id$v=19$"), "{phc}");
        assert!(verify_password("correct horse battery".to_owned(), Some(phc.clone())).await?);
        assert!(!verify_password("wrong horse battery".to_owned(), Some(phc.clone())).await?);
        let again = hash_password("correct horse battery".to_owned()).await?;
        assert_ne!(phc, again, "each hash gets a fresh salt");
        Ok(())
    }

    #[tokio::test]
    async fn unknown_user_is_false() -> Result<()> {
        assert!(!verify_password("anything at all".to_owned(), None).await?);
        Ok(())
    }

    #[tokio::test]
    async fn bad_stored_hash_is_an_error() {
        let err = verify_password("x".to_owned(), Some("not a hash".to_owned())).await;
        assert_eq!(err.err().map(|e| e.kind()), Some(ErrorKind::Internal));
    }

    #[test]
    fn new_password_rules() {
        assert!(validate_new_password("short").is_err());
        assert!(validate_new_password("elevenchars").is_err());
        assert!(validate_new_password("twelve chars").is_ok());
        assert!(
            validate_new_password("ééééééééééé").is_err(),
            "11 characters, 22 bytes"
        );
        assert!(validate_new_password(&"x".repeat(1024)).is_ok());
        let err = validate_new_password(&"x".repeat(1025)).err();
        assert_eq!(err.map(|e| e.kind()), Some(ErrorKind::InvalidArgument));
    }

    #[test]
    fn generated_passwords() {
        let a = generate_password();
        assert_eq!(a.len(), 24);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert!(validate_new_password(&a).is_ok());
        assert_ne!(a, generate_password());
    }
}
