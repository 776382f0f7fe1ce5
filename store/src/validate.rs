//! Input rules shared by every entry point: names, keys, values and relative paths.

use crate::{Error, Result};

/// Longest entity name (projects, datasets, experiments, runs, models).
pub const MAX_NAME_LEN: usize = 256;
/// Longest param, tag or metric key (MLflow's limit).
pub const MAX_KEY_LEN: usize = 250;
/// Longest param or tag value.
pub const MAX_VALUE_LEN: usize = 8000;
/// Longest description.
pub const MAX_DESCRIPTION_LEN: usize = 65_536;
/// Longest artifact path.
pub const MAX_PATH_LEN: usize = 1024;

fn check_text(what: &str, value: &str, max: usize) -> Result<()> {
    if value.chars().count() > max {
        return Err(Error::invalid(format!(
            "{what} is longer than {max} characters"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(Error::invalid(format!(
            "{what} contains control characters"
        )));
    }
    Ok(())
}

/// An entity name: 1..=256 characters, no control characters, no `/`, no surrounding spaces,
/// not `.` or `..` (as a URL path segment those mean "here" and "the parent", so browsers and
/// HTTP clients rewrite them and the thing could never be addressed).
pub fn name(what: &str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::invalid(format!("{what} must not be empty")));
    }
    check_text(what, value, MAX_NAME_LEN)?;
    if value.trim() != value {
        return Err(Error::invalid(format!(
            "{what} must not start or end with whitespace"
        )));
    }
    if value.contains('/') {
        return Err(Error::invalid(format!("{what} must not contain '/'")));
    }
    if value == "." || value == ".." {
        return Err(Error::invalid(format!(
            "{what} must not be '{value}': it cannot be addressed in a URL"
        )));
    }
    Ok(())
}

/// A user name: 1..=128 ASCII letters, digits and `_ - . @` (an e-mail address fits), starting
/// with a letter or digit. `*` and `,` never occur, so a name cannot collide with policy syntax.
pub fn user_name(value: &str) -> Result<()> {
    let valid = !value.is_empty()
        && value.len() <= 128
        && value.starts_with(|c: char| c.is_ascii_alphanumeric())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '@'));
    if valid {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "user name {value:?} is not valid: use 1 to 128 letters, digits, '_', '-', '.', '@', starting with a letter or digit"
        )))
    }
}

/// A param, tag or metric key: 1..=250 characters of letters, digits and `_ - . / space :`,
/// not a path that escapes (`..`, leading `/`).
pub fn key(what: &str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::invalid(format!("{what} must not be empty")));
    }
    check_text(what, value, MAX_KEY_LEN)?;
    if let Some(c) = value
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | ' ' | ':')))
    {
        return Err(Error::invalid(format!(
            "{what} '{value}' contains '{c}': use letters, digits and _ - . / : or space"
        )));
    }
    if value.starts_with('/') || value.split('/').any(|s| s == "..") {
        return Err(Error::invalid(format!(
            "{what} '{value}' must not start with '/' or contain '..'"
        )));
    }
    Ok(())
}

/// A param or tag value: at most 8000 characters; tabs and newlines allowed.
pub fn value(what: &str, value: &str) -> Result<()> {
    if value.chars().count() > MAX_VALUE_LEN {
        return Err(Error::invalid(format!(
            "{what} is longer than {MAX_VALUE_LEN} characters"
        )));
    }
    if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(Error::invalid(format!(
            "{what} contains control characters"
        )));
    }
    Ok(())
}

/// Dataset sensitivities and user clearances, lowest first.
pub const SENSITIVITIES: [&str; 4] = ["public", "internal", "confidential", "restricted"];

/// A sensitivity or clearance level.
pub fn sensitivity(value: &str) -> Result<()> {
    if SENSITIVITIES.contains(&value) {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "sensitivity must be one of public, internal, confidential, restricted (got {value:?})"
        )))
    }
}

/// The rank of a sensitivity (or clearance) in [`SENSITIVITIES`] order; an unknown one ranks
/// as the most sensitive.
pub fn sensitivity_rank(value: &str) -> usize {
    SENSITIVITIES
        .iter()
        .position(|s| *s == value)
        .unwrap_or(SENSITIVITIES.len() - 1)
}

/// A free-text description.
pub fn description(value: &str) -> Result<()> {
    if value.len() > MAX_DESCRIPTION_LEN {
        return Err(Error::invalid(format!(
            "description is longer than {MAX_DESCRIPTION_LEN} bytes"
        )));
    }
    if value.contains('\0') {
        return Err(Error::invalid("description contains a NUL byte"));
    }
    Ok(())
}

/// A relative artifact path: `a/b/c.txt`; no `..`, `.`, empty segments, absolute paths,
/// backslashes, NUL or other control characters.
pub fn artifact_path(value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::invalid("artifact path must not be empty"));
    }
    if value.contains('\0') {
        return Err(Error::invalid("artifact path contains a NUL byte"));
    }
    check_text("artifact path", value, MAX_PATH_LEN)?;
    let bytes = value.as_bytes();
    let drive = bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':';
    if value.starts_with('/') || value.contains('\\') || drive {
        return Err(Error::invalid("artifact path must be relative"));
    }
    for segment in value.split('/') {
        match segment {
            "" => {
                return Err(Error::invalid(
                    "artifact path has an empty segment ('//' or a trailing '/')",
                ));
            }
            "." | ".." => {
                return Err(Error::invalid(
                    "artifact path must not contain '.' or '..' segments",
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

/// A model alias: letters, digits, `_` and `-`, at most 255; `latest` and `v<digits>` are reserved.
pub fn alias(value: &str) -> Result<()> {
    if value.is_empty() || value.len() > 255 {
        return Err(Error::invalid("alias must have 1 to 255 characters"));
    }
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(Error::invalid(format!(
            "alias '{value}' may contain only letters, digits, '_' and '-'"
        )));
    }
    let lower = value.to_ascii_lowercase();
    let version_like =
        lower.len() > 1 && lower.starts_with('v') && lower[1..].chars().all(|c| c.is_ascii_digit());
    if lower == "latest" || version_like {
        return Err(Error::invalid(format!("alias '{value}' is reserved")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(name("name", "my-project_1").is_ok());
        assert!(name("name", "").is_err());
        assert!(name("name", &"x".repeat(MAX_NAME_LEN + 1)).is_err());
        assert!(name("name", "bad\u{7}bell").is_err());
        assert!(name("name", "a/b").is_err());
        assert!(name("name", ".").is_err());
        assert!(name("name", "..").is_err());
        assert!(name("name", "...").is_ok());
        assert!(name("name", "team.ml").is_ok());
        assert!(name("name", " padded").is_err());
    }

    #[test]
    fn keys() {
        assert!(key("key", "val loss/epoch:1").is_ok());
        assert!(key("key", "a$b").is_err());
        assert!(key("key", "../x").is_err());
        assert!(key("key", "/abs").is_err());
        assert!(key("key", "").is_err());
    }

    #[test]
    fn artifact_paths() {
        for ok in ["model.pkl", "dir/sub/file.txt", "a..b/c"] {
            assert!(artifact_path(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../b",
            "a/./b",
            "a//b",
            "a/",
            "a\0b",
            "a\\b",
            "C:/x",
            "a\nb",
        ] {
            assert!(artifact_path(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn aliases() {
        assert!(alias("champion").is_ok());
        assert!(alias("latest").is_err());
        assert!(alias("v3").is_err());
        assert!(alias("vip").is_ok());
        assert!(alias("a b").is_err());
    }
}
