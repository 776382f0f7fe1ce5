//! Where a webhook may be sent. Only project owners create webhooks, but the server sends them
//! from inside the network: without a guard a webhook could probe internal services (its
//! delivery log shows statuses and connection errors). Unless the server allows private
//! targets, a delivery goes only to public addresses, and the address checked is the one
//! connected to (the client is pinned to it, so a second DNS answer cannot differ).

use std::net::{IpAddr, SocketAddr};

/// Whether `ip` is loopback, private, link-local, shared (CGNAT), unspecified, broadcast,
/// multicast, or an IPv6 unique-local or mapped form of one of those.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || a == 0
                || (a == 100 && (b & 0xc0) == 64)
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || v6
                    .to_ipv4_mapped()
                    .is_some_and(|v4| is_private(IpAddr::V4(v4)))
        }
    }
}

/// Why a delivery cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// What is wrong.
    pub message: String,
    /// Whether retrying cannot help (a private address; a name that does not resolve may
    /// resolve later).
    pub permanent: bool,
}

fn refuse(message: String, permanent: bool) -> Refusal {
    Refusal { message, permanent }
}

/// Resolves a webhook URL's host to the address to connect to: the first address, after
/// refusing private ones unless `allow_private`. Returns the host name and the address.
pub async fn resolve(url: &str, allow_private: bool) -> Result<(String, SocketAddr), Refusal> {
    let parsed = url::Url::parse(url).map_err(|e| refuse(format!("invalid URL: {e}"), true))?;
    let host = parsed
        .host_str()
        .ok_or_else(|| refuse("the URL has no host".to_owned(), true))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = parsed
        .port_or_known_default()
        .ok_or_else(|| refuse("the URL has no port".to_owned(), true))?;
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|e| refuse(format!("cannot resolve {host}: {e}"), false))?
        .collect();
    let Some(first) = addresses.first().copied() else {
        return Err(refuse(format!("{host} has no address"), false));
    };
    if !allow_private && let Some(private) = addresses.iter().find(|a| is_private(a.ip())) {
        return Err(refuse(
            format!(
                "refused: {host} resolves to the private address {} (start the server with \
                 --webhook-allow-private to allow it)",
                private.ip()
            ),
            true,
        ));
    }
    Ok((host, first))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_public_addresses() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(
                is_private(private.parse().unwrap_or(IpAddr::from([0; 4]))),
                "{private}"
            );
        }
        for public in ["8.8.8.8", "1.1.1.1", "100.128.0.1", "2001:4860:4860::8888"] {
            let ip: IpAddr = public.parse().unwrap_or(IpAddr::from([127, 0, 0, 1]));
            assert!(!is_private(ip), "{public}");
        }
    }

    #[tokio::test]
    async fn loopback_targets_need_the_flag() {
        let refused = resolve("http://127.0.0.1:9/hook", false).await;
        assert!(
            refused.is_err_and(|e| e.permanent && e.message.contains("private address 127.0.0.1"))
        );
        let allowed = resolve("http://127.0.0.1:9/hook", true).await;
        assert_eq!(
            allowed.ok(),
            Some((
                "127.0.0.1".to_owned(),
                "127.0.0.1:9"
                    .parse()
                    .unwrap_or(SocketAddr::from(([0; 4], 0)))
            ))
        );
        assert!(resolve("not a url", true).await.is_err());
    }
}
