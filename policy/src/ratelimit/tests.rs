use super::*;

const MIN: Duration = Duration::from_secs(60);

fn ip(s: &str) -> Option<IpAddr> {
    s.parse().ok()
}

#[test]
fn account_locks_after_failures_and_unlocks_after_the_window() {
    let limiter = LoginLimiter::new(LimiterConfig::default());
    let t0 = Instant::now();
    for i in 0..5 {
        assert_eq!(limiter.check("alice", None, t0), Ok(()), "attempt {i}");
        limiter.record("alice", None, false, t0 + Duration::from_secs(i));
    }
    let now = t0 + Duration::from_secs(10);
    // The first failure (t0) leaves the 15 minute window at t0 + 15 min.
    assert_eq!(
        limiter.check("alice", None, now),
        Err(15 * MIN - Duration::from_secs(10))
    );
    assert_eq!(limiter.check("bob", None, now), Ok(()));
    assert_eq!(limiter.check("alice", None, t0 + 15 * MIN), Ok(()));
}

#[test]
fn success_clears_account_failures() {
    let limiter = LoginLimiter::new(LimiterConfig::default());
    let t0 = Instant::now();
    for _ in 0..4 {
        limiter.record("alice", None, false, t0);
    }
    limiter.record("alice", None, true, t0);
    limiter.record("alice", None, false, t0);
    assert_eq!(limiter.check("alice", None, t0), Ok(()));
}

#[test]
fn address_counts_every_attempt() {
    let limiter = LoginLimiter::new(LimiterConfig::default());
    let t0 = Instant::now();
    let addr = ip("192.0.2.7");
    for i in 0..20 {
        let account = format!("user{i}");
        assert_eq!(limiter.check(&account, addr, t0), Ok(()));
        limiter.record(&account, addr, i % 2 == 0, t0);
    }
    let later = t0 + Duration::from_secs(30);
    assert_eq!(
        limiter.check("someone", addr, later),
        Err(Duration::from_secs(30))
    );
    assert_eq!(limiter.check("someone", ip("192.0.2.8"), later), Ok(()));
    assert_eq!(limiter.check("someone", None, later), Ok(()));
    assert_eq!(limiter.check("someone", addr, t0 + MIN), Ok(()));
}

#[test]
fn the_longer_wait_wins() {
    let cfg = LimiterConfig {
        account_failures: 1,
        address_attempts: 1,
        ..LimiterConfig::default()
    };
    let limiter = LoginLimiter::new(cfg);
    let t0 = Instant::now();
    limiter.record("alice", ip("192.0.2.1"), false, t0);
    assert_eq!(limiter.check("alice", ip("192.0.2.1"), t0), Err(15 * MIN));
    assert_eq!(limiter.check("bob", ip("192.0.2.1"), t0), Err(MIN));
}

#[test]
fn ipv6_counts_per_64_network_and_mapped_ipv4_as_ipv4() {
    let cfg = LimiterConfig {
        address_attempts: 2,
        ..LimiterConfig::default()
    };
    let limiter = LoginLimiter::new(cfg);
    let t0 = Instant::now();
    limiter.record("a", ip("2001:db8:1:2::1"), true, t0);
    limiter.record("a", ip("2001:db8:1:2:ffff::9"), true, t0);
    assert!(limiter.check("a", ip("2001:db8:1:2::77"), t0).is_err());
    assert_eq!(limiter.check("a", ip("2001:db8:1:3::1"), t0), Ok(()));

    limiter.record("a", ip("::ffff:192.0.2.5"), true, t0);
    limiter.record("a", ip("192.0.2.5"), true, t0);
    assert!(limiter.check("a", ip("192.0.2.5"), t0).is_err());
}

#[test]
fn zero_limits_disable_checks() {
    let cfg = LimiterConfig {
        account_failures: 0,
        address_attempts: 0,
        ..LimiterConfig::default()
    };
    let limiter = LoginLimiter::new(cfg);
    let t0 = Instant::now();
    for _ in 0..50 {
        limiter.record("alice", ip("192.0.2.1"), false, t0);
    }
    assert_eq!(limiter.check("alice", ip("192.0.2.1"), t0), Ok(()));
    assert!(limiter.is_empty());
}

#[test]
fn memory_is_bounded() {
    let cfg = LimiterConfig {
        max_entries: 100,
        ..LimiterConfig::default()
    };
    let limiter = LoginLimiter::new(cfg);
    let t0 = Instant::now();
    // Expired keys go first.
    for i in 0..60u32 {
        limiter.record(&format!("old{i}"), None, false, t0);
    }
    let t1 = t0 + 16 * MIN;
    for i in 0..60u32 {
        limiter.record(&format!("new{i}"), None, false, t1);
    }
    assert_eq!(limiter.len(), 60);
    assert!(limiter.check("new59", None, t1).is_ok());
    // Live keys past the bound: the least recently used are dropped.
    for i in 0..1000u32 {
        let addr = IpAddr::from([10, 0, (i / 256) as u8, (i % 256) as u8]);
        limiter.record(
            "x",
            Some(addr),
            false,
            t1 + Duration::from_millis(u64::from(i)),
        );
        assert!(limiter.len() <= 100);
    }
    // The most recent address is still tracked (attempts 1 of 20, so allowed but counted).
    let state = limiter.state.lock().unwrap_or_else(PoisonError::into_inner);
    assert!(state.addresses.contains_key(&IpAddr::from([10, 0, 3, 231])));
    assert!(!state.addresses.contains_key(&IpAddr::from([10, 0, 0, 0])));
}

#[test]
fn time_going_backwards_does_not_panic() {
    let limiter = LoginLimiter::new(LimiterConfig::default());
    let t0 = Instant::now() + Duration::from_secs(3600);
    for _ in 0..5 {
        limiter.record("alice", None, false, t0);
    }
    assert!(
        limiter
            .check("alice", None, t0 - Duration::from_secs(10))
            .is_err()
    );
}

#[test]
fn long_account_names_are_keyed_by_digest() {
    let limiter = LoginLimiter::new(LimiterConfig::default());
    let t0 = Instant::now();
    let long = "x".repeat(10_000);
    for _ in 0..5 {
        limiter.record(&long, None, false, t0);
    }
    assert!(limiter.check(&long, None, t0).is_err());
    assert!(limiter.check(&"x".repeat(9_999), None, t0).is_ok());
    let state = limiter.state.lock().unwrap_or_else(PoisonError::into_inner);
    assert!(state.accounts.keys().all(|k| k.len() == 64));
}

#[test]
fn begin_counts_concurrent_attempts_before_any_finishes() {
    let limiter = LoginLimiter::new(LimiterConfig::default());
    let t0 = Instant::now();
    // Ten attempts in flight at once (none finished): only five may proceed.
    let passed = (0..10)
        .filter(|_| limiter.begin("alice", ip("10.0.0.1"), t0).is_ok())
        .count();
    assert_eq!(passed, 5);
    // A success clears the account (the address keeps its count).
    limiter.succeeded("alice");
    assert_eq!(limiter.begin("alice", ip("10.0.0.1"), t0), Ok(()));
    // The address allows 20 attempts a minute, whatever the accounts.
    let more = (0..30)
        .filter(|i| {
            limiter
                .begin(&format!("user{i}"), ip("10.0.0.1"), t0)
                .is_ok()
        })
        .count();
    assert_eq!(more, 20 - 6);
    assert!(limiter.begin("zed", ip("10.0.0.1"), t0).is_err());
    assert!(limiter.begin("zed", ip("10.0.0.2"), t0).is_ok());
}
