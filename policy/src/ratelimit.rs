//! Login rate limiting in memory: failures per account and attempts per client address, each
//! counted in a sliding window.
//!
//! Memory is bounded: each key keeps at most as many timestamps as its limit, and when the
//! number of keys passes [`LimiterConfig::max_entries`] expired keys are purged, then the
//! least recently used ones.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Limits for [`LoginLimiter`]. A limit of 0 disables that check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimiterConfig {
    /// Failed logins an account may have inside `account_window` (default 5).
    pub account_failures: u32,
    /// The window for account failures (default 15 minutes).
    pub account_window: Duration,
    /// Login attempts an address may make inside `address_window` (default 20).
    pub address_attempts: u32,
    /// The window for address attempts (default 1 minute).
    pub address_window: Duration,
    /// Keys (accounts plus addresses) kept before old ones are dropped (default 100 000).
    pub max_entries: usize,
}

impl Default for LimiterConfig {
    fn default() -> Self {
        LimiterConfig {
            account_failures: 5,
            account_window: Duration::from_secs(15 * 60),
            address_attempts: 20,
            address_window: Duration::from_secs(60),
            max_entries: 100_000,
        }
    }
}

/// Recent events for one key, oldest first, at most `limit` of them.
type Events = VecDeque<Instant>;

#[derive(Default)]
struct State {
    accounts: HashMap<String, Events>,
    addresses: HashMap<IpAddr, Events>,
}

/// Counts login attempts and says when to refuse the next one. Share it behind an `Arc`.
pub struct LoginLimiter {
    cfg: LimiterConfig,
    state: Mutex<State>,
}

impl std::fmt::Debug for LoginLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginLimiter")
            .field("cfg", &self.cfg)
            .finish_non_exhaustive()
    }
}

/// The key for an address: IPv4 as is (IPv4-mapped IPv6 too), IPv6 by its /64 network, since
/// one client usually holds a whole /64.
fn address_key(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
        v4 => v4,
    }
}

/// Account names longer than this are tracked by their SHA-256, so that long made-up names
/// cannot fill memory.
const MAX_ACCOUNT_KEY_BYTES: usize = 128;

/// The key for an account: the name itself, or the digest of a very long one.
fn account_key(account: &str) -> Cow<'_, str> {
    if account.len() > MAX_ACCOUNT_KEY_BYTES {
        Cow::Owned(crate::token::digest(account))
    } else {
        Cow::Borrowed(account)
    }
}

/// How long until fewer than `limit` of `events` fall inside `window`; `None` when that is
/// already so.
fn wait(events: Option<&Events>, limit: u32, window: Duration, now: Instant) -> Option<Duration> {
    let limit = usize::try_from(limit).ok().filter(|l| *l > 0)?;
    let recent: Vec<&Instant> = events?
        .iter()
        .filter(|t| now.saturating_duration_since(**t) < window)
        .collect();
    // With n >= limit recent events, the key is allowed again once the event at n - limit
    // (counting from the oldest) leaves the window.
    let deciding = recent
        .len()
        .checked_sub(limit)
        .and_then(|i| recent.get(i))?;
    Some(window.saturating_sub(now.saturating_duration_since(**deciding)))
}

fn push(events: &mut Events, now: Instant, limit: u32) {
    events.push_back(now);
    let keep = usize::try_from(limit).unwrap_or(usize::MAX).max(1);
    while events.len() > keep {
        events.pop_front();
    }
}

/// Drops keys whose newest event is outside `window`.
fn purge_expired<K>(map: &mut HashMap<K, Events>, window: Duration, now: Instant) {
    map.retain(|_, events| {
        events
            .back()
            .is_some_and(|t| now.saturating_duration_since(*t) < window)
    });
}

/// Drops the `count` keys with the oldest newest event.
fn drop_oldest<K: Eq + Hash + Clone>(map: &mut HashMap<K, Events>, count: usize) {
    if count == 0 {
        return;
    }
    let mut by_age: Vec<(Option<Instant>, K)> = map
        .iter()
        .map(|(k, e)| (e.back().copied(), k.clone()))
        .collect();
    by_age.sort_unstable_by_key(|(t, _)| *t);
    for (_, key) in by_age.into_iter().take(count) {
        map.remove(&key);
    }
}

impl LoginLimiter {
    /// A limiter with the given limits.
    pub fn new(cfg: LimiterConfig) -> Self {
        LoginLimiter {
            cfg,
            state: Mutex::new(State::default()),
        }
    }

    /// Whether a login for `account` from `address` may be tried at `now`; if not, how long to
    /// wait. Refused when the account has had too many failures, or the address too many
    /// attempts, inside their windows.
    pub fn check(
        &self,
        account: &str,
        address: Option<IpAddr>,
        now: Instant,
    ) -> Result<(), Duration> {
        let cfg = &self.cfg;
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let by_account = wait(
            state.accounts.get(account_key(account).as_ref()),
            cfg.account_failures,
            cfg.account_window,
            now,
        );
        let by_address = address.and_then(|a| {
            wait(
                state.addresses.get(&address_key(a)),
                cfg.address_attempts,
                cfg.address_window,
                now,
            )
        });
        drop(state);
        match by_account.max(by_address) {
            Some(retry_after) => Err(retry_after),
            None => Ok(()),
        }
    }

    /// Checks and counts an attempt in one step, so that concurrent attempts cannot all pass
    /// the check before any is counted: the attempt counts for the address and, until
    /// [`LoginLimiter::succeeded`] says otherwise, as a failure of the account.
    pub fn begin(
        &self,
        account: &str,
        address: Option<IpAddr>,
        now: Instant,
    ) -> Result<(), Duration> {
        let cfg = &self.cfg;
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let key = account_key(account);
        let by_account = wait(
            state.accounts.get(key.as_ref()),
            cfg.account_failures,
            cfg.account_window,
            now,
        );
        let by_address = address.and_then(|a| {
            wait(
                state.addresses.get(&address_key(a)),
                cfg.address_attempts,
                cfg.address_window,
                now,
            )
        });
        if let Some(retry_after) = by_account.max(by_address) {
            return Err(retry_after);
        }
        if let Some(address) = address.filter(|_| cfg.address_attempts > 0) {
            let events = state.addresses.entry(address_key(address)).or_default();
            push(events, now, cfg.address_attempts);
        }
        if cfg.account_failures > 0 {
            let events = state.accounts.entry(key.into_owned()).or_default();
            push(events, now, cfg.account_failures);
        }
        self.bound(&mut state, now);
        Ok(())
    }

    /// The attempt begun with [`LoginLimiter::begin`] succeeded: the account's failures are
    /// cleared.
    pub fn succeeded(&self, account: &str) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.accounts.remove(account_key(account).as_ref());
    }

    /// Records a login attempt: it counts for the address; a failure counts for the account,
    /// and a success clears the account's failures.
    pub fn record(&self, account: &str, address: Option<IpAddr>, success: bool, now: Instant) {
        let cfg = &self.cfg;
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(address) = address.filter(|_| cfg.address_attempts > 0) {
            let events = state.addresses.entry(address_key(address)).or_default();
            push(events, now, cfg.address_attempts);
        }
        let account = account_key(account);
        if success {
            state.accounts.remove(account.as_ref());
        } else if cfg.account_failures > 0 {
            let events = state.accounts.entry(account.into_owned()).or_default();
            push(events, now, cfg.account_failures);
        }
        self.bound(&mut state, now);
    }

    /// Keeps the number of keys at or under `max_entries`: purges expired keys, then drops
    /// the least recently used down to 90% so the work is not repeated on every call.
    fn bound(&self, state: &mut State, now: Instant) {
        let max = self.cfg.max_entries;
        if state.accounts.len() + state.addresses.len() <= max {
            return;
        }
        purge_expired(&mut state.accounts, self.cfg.account_window, now);
        purge_expired(&mut state.addresses, self.cfg.address_window, now);
        let total = state.accounts.len() + state.addresses.len();
        if total <= max {
            return;
        }
        let target = max - max / 10;
        let excess = total - target;
        // Drop from each map in proportion to its size.
        let from_accounts = excess * state.accounts.len() / total;
        drop_oldest(&mut state.accounts, from_accounts);
        drop_oldest(&mut state.addresses, excess - from_accounts);
    }

    /// How many keys (accounts plus addresses) are tracked.
    pub fn len(&self) -> usize {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.accounts.len() + state.addresses.len()
    }

    /// Whether nothing is tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests;
