//! Login rate limiting in memory, counted in sliding windows:
//!
//! - **Lock-out per account and address**: too many failures of one account from one address
//!   refuse that pair only, so failures from elsewhere cannot lock the owner out of a clean
//!   client.
//! - **Per address**: too many attempts from one address, whatever the accounts, are refused.
//! - **Account-wide slow-down, never a refusal**: once an account has many failures from all
//!   addresses together, an address that has itself failed on it waits before its password is
//!   checked ([`Admission::delay`], which the caller sleeps); an address with no failures on
//!   the account is not slowed down.
//!
//! IPv4 addresses are keyed as they are, IPv6 ones by /64; attempts without an address share
//! one "unknown" key. Refusals say whether they are the first of their address in its window,
//! so that the caller audits at most one refusal per address and window.
//!
//! Memory is bounded: each key keeps only the timestamps its limit needs, and when the number
//! of keys passes [`LimiterConfig::max_entries`] expired keys are purged, then the least
//! recently used ones.

mod memory;
mod window;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use window::{AddrKey, Events, account_key, address_key, push, recent, wait};

/// Limits for [`LoginLimiter`]. A limit of 0 disables that check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimiterConfig {
    /// Failed logins of one account from one address inside `account_window` before that
    /// account is refused to that address (default 5).
    pub account_failures: u32,
    /// The window for failures, per account and address and account-wide (default 15
    /// minutes).
    pub account_window: Duration,
    /// Login attempts an address may make inside `address_window` (default 20).
    pub address_attempts: u32,
    /// The window for address attempts (default 1 minute).
    pub address_window: Duration,
    /// Failures of an account from all addresses together, inside `account_window`, from which
    /// attempts by addresses that have failed on the account are slowed down (default 5; 0
    /// disables the slow-down).
    pub slowdown_after: u32,
    /// The first slow-down delay; it doubles with each further account-wide failure (default
    /// 1 s; 0 disables the slow-down).
    pub slowdown_base: Duration,
    /// The longest slow-down delay (default 8 s).
    pub slowdown_max: Duration,
    /// Keys kept (account and address pairs, accounts, addresses and refusal reports) before
    /// old ones are dropped (default 100 000).
    pub max_entries: usize,
}

impl Default for LimiterConfig {
    fn default() -> Self {
        LimiterConfig {
            account_failures: 5,
            account_window: Duration::from_secs(15 * 60),
            address_attempts: 20,
            address_window: Duration::from_secs(60),
            slowdown_after: 5,
            slowdown_base: Duration::from_secs(1),
            slowdown_max: Duration::from_secs(8),
            max_entries: 100_000,
        }
    }
}

/// A login attempt that may go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admission {
    /// How long to wait before checking the password (zero unless the account is being
    /// slowed down); the caller sleeps it, the limiter never does.
    pub delay: Duration,
}

/// A refused login attempt (HTTP 429).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// How long until such an attempt would be allowed (for `Retry-After`).
    pub retry_after: Duration,
    /// Whether this is the first refusal of the address inside its address window: audit only
    /// those, so that refused attempts write at most one audit row per address and window.
    pub audit: bool,
}

impl From<Refusal> for crate::Error {
    fn from(refusal: Refusal) -> Self {
        crate::Error::TooManyRequests {
            retry_after: refusal.retry_after,
        }
    }
}

/// An account key with an address key.
type PairKey = (String, AddrKey);

#[derive(Default)]
struct State {
    /// Failures per account and address.
    pairs: HashMap<PairKey, Events>,
    /// Failures per account, all addresses together (for the slow-down).
    accounts: HashMap<String, Events>,
    /// Attempts per address.
    addresses: HashMap<AddrKey, Events>,
    /// When a refusal of each address was last reported for audit.
    reported: HashMap<AddrKey, Instant>,
}

/// Counts login attempts and says when to refuse or slow down the next one. Share it behind
/// an `Arc`.
pub struct LoginLimiter {
    cfg: LimiterConfig,
    /// Account-wide failures kept per account: enough to reach the longest delay, plus one
    /// that [`LoginLimiter::succeeded`] may take back.
    account_keep: usize,
    state: Mutex<State>,
}

impl std::fmt::Debug for LoginLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginLimiter")
            .field("cfg", &self.cfg)
            .finish_non_exhaustive()
    }
}

/// How many doublings take `base` to at least `max` (at most 64).
fn doublings(base: Duration, max: Duration) -> usize {
    let mut delay = base;
    let mut steps = 0;
    while delay < max && steps < 64 {
        delay = delay.saturating_mul(2);
        steps += 1;
    }
    steps
}

fn limit(n: u32) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

impl LoginLimiter {
    /// A limiter with the given limits.
    pub fn new(cfg: LimiterConfig) -> Self {
        let account_keep = limit(cfg.slowdown_after)
            .saturating_add(doublings(cfg.slowdown_base, cfg.slowdown_max))
            .saturating_add(1);
        LoginLimiter {
            cfg,
            account_keep,
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn slows_down(&self) -> bool {
        let cfg = &self.cfg;
        cfg.slowdown_after > 0 && !cfg.slowdown_base.is_zero() && !cfg.slowdown_max.is_zero()
    }

    fn tracks_pairs(&self) -> bool {
        self.cfg.account_failures > 0 || self.slows_down()
    }

    /// Checks and counts a login attempt for `account` from `address` in one step, under one
    /// lock, so that concurrent attempts cannot all pass before any is counted.
    ///
    /// Refused when the address has made too many attempts, or the account has failed too
    /// often from this address, inside their windows. Otherwise the attempt counts for the
    /// address and, until [`LoginLimiter::succeeded`] says otherwise, as a failure of the
    /// account from this address and account-wide; the admission carries the slow-down delay
    /// to sleep before checking the password.
    pub fn begin(
        &self,
        account: &str,
        address: Option<IpAddr>,
        now: Instant,
    ) -> Result<Admission, Refusal> {
        let cfg = &self.cfg;
        let pair: PairKey = (account_key(account).into_owned(), address.map(address_key));
        let mut state = self.lock();
        let by_address = wait(
            state.addresses.get(&pair.1),
            cfg.address_attempts,
            cfg.address_window,
            now,
        );
        let by_pair = wait(
            state.pairs.get(&pair),
            cfg.account_failures,
            cfg.account_window,
            now,
        );
        if let Some(retry_after) = by_address.max(by_pair) {
            let audit = state
                .reported
                .get(&pair.1)
                .is_none_or(|t| now.saturating_duration_since(*t) >= cfg.address_window);
            if audit {
                state.reported.insert(pair.1, now);
                state.bound(cfg, now);
            }
            return Err(Refusal { retry_after, audit });
        }
        let delay = self.delay(&state, &pair, now);
        if cfg.address_attempts > 0 {
            let events = state.addresses.entry(pair.1).or_default();
            push(events, now, limit(cfg.address_attempts));
        }
        if self.slows_down() {
            let events = state.accounts.entry(pair.0.clone()).or_default();
            push(events, now, self.account_keep);
        }
        if self.tracks_pairs() {
            let events = state.pairs.entry(pair).or_default();
            push(events, now, limit(cfg.account_failures));
        }
        state.bound(cfg, now);
        Ok(Admission { delay })
    }

    /// The slow-down for an attempt on `pair`, before it is counted: `slowdown_base` ×
    /// 2^(account-wide failures − `slowdown_after`), at most `slowdown_max`, once the account
    /// has at least `slowdown_after` failures and this address at least one; zero otherwise.
    fn delay(&self, state: &State, pair: &PairKey, now: Instant) -> Duration {
        let cfg = &self.cfg;
        let window = cfg.account_window;
        if !self.slows_down() || recent(state.pairs.get(pair), window, now) == 0 {
            return Duration::ZERO;
        }
        let failures = recent(state.accounts.get(&pair.0), window, now);
        let Some(steps) = failures.checked_sub(limit(cfg.slowdown_after)) else {
            return Duration::ZERO;
        };
        u32::try_from(steps)
            .ok()
            .and_then(|steps| 2u32.checked_pow(steps))
            .and_then(|factor| cfg.slowdown_base.checked_mul(factor))
            .map_or(cfg.slowdown_max, |d| d.min(cfg.slowdown_max))
    }

    /// The attempt begun with [`LoginLimiter::begin`] for `account` from `address` succeeded:
    /// the failures of the account from this address are cleared, and the account-wide
    /// failure the attempt added (the newest) is taken back.
    pub fn succeeded(&self, account: &str, address: Option<IpAddr>) {
        let pair: PairKey = (account_key(account).into_owned(), address.map(address_key));
        let mut state = self.lock();
        let had_failures = state.pairs.remove(&pair).is_some_and(|e| !e.is_empty());
        if !had_failures {
            return;
        }
        if let Some(events) = state.accounts.get_mut(&pair.0) {
            events.pop_back();
            if events.is_empty() {
                state.accounts.remove(&pair.0);
            }
        }
    }

    /// How many keys are tracked: account and address pairs, accounts, addresses and refusal
    /// reports.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether nothing is tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests;
