//! Operating-system randomness for salts, secrets and generated passwords.

use std::io::Read;

/// Fills `buf` from the operating system's CSPRNG.
///
/// # Aborts
///
/// When neither `getrandom` nor `/dev/urandom` yields bytes the process aborts: issuing
/// predictable secrets is worse than stopping, and the callers' signatures have no error.
pub(crate) fn fill(buf: &mut [u8]) {
    if getrandom::fill(buf).is_ok() {
        return;
    }
    let urandom = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(buf));
    if urandom.is_err() {
        eprintln!("verity-policy: the operating system's random source failed; aborting");
        std::process::abort();
    }
}

/// `N` random bytes.
pub(crate) fn bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    fill(&mut buf);
    buf
}
