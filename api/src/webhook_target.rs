//! Where a webhook may be sent. Only project owners create webhooks, but the server sends them
//! from inside the network: without a guard a webhook could probe internal services (its
//! delivery log shows statuses and connection errors). Unless the server allows private
//! targets, a delivery goes only to public addresses, and the address checked is the one
//! connected to (the client is pinned to it, so a second DNS answer cannot differ).

use std::net::{IpAddr, SocketAddr};

/// Whether `ip` is anything but a public unicast address: loopback, private, link-local,
/// shared (CGNAT), unspecified, broadcast, multicast, reserved, documentation, benchmarking,
/// IETF protocol assignments; for IPv6 also unique-local, site-local, discard-only, ORCHID,
/// and the transition forms that carry an IPv4 address (mapped, compatible, NAT64 `64:ff9b::/96`,
/// 6to4 `2002::/16`), which count as the address they carry; Teredo and local-use NAT64 are
/// refused whole.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || a >= 240
                || (a == 100 && (b & 0xc0) == 64)
                || (a == 192 && b == 0 && c == 0)
                || (a == 192 && b == 88 && c == 99)
                || (a == 198 && (b & 0xfe) == 18)
        }
        IpAddr::V6(v6) => {
            let seg = v6.segments();
            let embedded = |hi: u16, lo: u16| {
                let [h1, h2] = hi.to_be_bytes();
                let [l1, l2] = lo.to_be_bytes();
                is_private(IpAddr::from([h1, h2, l1, l2]))
            };
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (seg[0] & 0xfe00) == 0xfc00
                || (seg[0] & 0xffc0) == 0xfe80
                || (seg[0] & 0xffc0) == 0xfec0
                // Documentation 2001:db8::/32 and 3fff::/20.
                || (seg[0] == 0x2001 && seg[1] == 0x0db8)
                || (seg[0] & 0xfff0) == 0x3ff0
                // Teredo 2001::/32, ORCHID 2001:10::/28 and 2001:20::/28, benchmarking 2001:2::/48.
                || (seg[0] == 0x2001 && (seg[1] == 0 || (seg[1] & 0xfff0) == 0x0010 || (seg[1] & 0xfff0) == 0x0020 || (seg[1] == 2 && seg[2] == 0)))
                // Discard-only 100::/64.
                || (seg[0] == 0x0100 && seg[1] == 0 && seg[2] == 0 && seg[3] == 0)
                // Local-use NAT64 64:ff9b:1::/48.
                || (seg[0] == 0x0064 && seg[1] == 0xff9b && seg[2] == 1)
                // Well-known NAT64 64:ff9b::/96: the IPv4 address it reaches.
                || (seg[0] == 0x0064 && seg[1] == 0xff9b && seg[2..6] == [0, 0, 0, 0] && embedded(seg[6], seg[7]))
                // 6to4 2002::/16: the IPv4 address of its relay.
                || (seg[0] == 0x2002 && embedded(seg[1], seg[2]))
                // IPv4-mapped ::ffff:0:0/96 and the deprecated IPv4-compatible ::/96.
                || (seg[..5] == [0, 0, 0, 0, 0] && (seg[5] == 0xffff || seg[5] == 0) && embedded(seg[6], seg[7]))
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
            "::ffff:127.0.0.1",
            "::127.0.0.1",
            // NAT64 of private and loopback IPv4, local-use NAT64, 6to4 of a private relay.
            "64:ff9b::a00:1",
            "64:ff9b::7f00:1",
            "64:ff9b:1::808:808",
            "2002:c0a8:101::1",
            "2002:7f00:1::1",
            // Teredo, documentation, ORCHID, discard, site-local.
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "2001:db8::1",
            "3fff::1",
            "2001:10::1",
            "2001:20::1",
            "100::1",
            "fec0::1",
            // Reserved, benchmarking, documentation and IETF IPv4 ranges.
            "240.0.0.1",
            "198.18.0.1",
            "198.19.255.255",
            "192.0.2.1",
            "198.51.100.1",
            "203.0.113.1",
            "192.0.0.8",
            "192.88.99.1",
        ] {
            assert!(
                is_private(private.parse().unwrap_or(IpAddr::from([0; 4]))),
                "{private}"
            );
        }
        for public in [
            "8.8.8.8",
            "1.1.1.1",
            "100.128.0.1",
            "198.20.0.1",
            "2001:4860:4860::8888",
            // NAT64 and 6to4 of public IPv4 addresses are public.
            "64:ff9b::808:808",
            "2002:808:808::1",
            "::ffff:8.8.8.8",
        ] {
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
