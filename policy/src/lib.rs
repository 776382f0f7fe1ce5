//! Verity access control: who may do what (roles, permissions and attribute conditions
//! evaluated by casbin), password hashing (argon2id), API tokens and session ids, and login
//! rate limits.
//!
//! The crate knows neither HTTP nor SQL: rules and credentials come in as values, and every
//! failure is an [`Error`] whose [`Error::kind`] the API maps to an HTTP status.

pub mod authorizer;
mod error;
pub mod model;
pub mod password;
mod random;
pub mod ratelimit;
pub mod token;

pub use authorizer::{Authorizer, Object, Rule, Subject, default_rules};
pub use error::{Error, ErrorKind, Result};
pub use model::{
    Action, Condition, Permission, Role, Sensitivity, default_permissions,
    permission_table_markdown,
};
pub use password::{generate_password, hash_password, validate_new_password, verify_password};
pub use ratelimit::{Admission, LimiterConfig, LoginLimiter, Refusal};
pub use token::{
    NewSecret, TOKEN_PREFIX, constant_time_eq, digest, new_csrf_token, new_session,
    new_signing_secret, new_token, parse_token,
};
