//! The client's address. It is the TCP peer, unless the peer is a trusted proxy
//! (`--trusted-proxies`): then `X-Forwarded-For` is read from the right, skipping trusted
//! proxies, and the first address that is not one is the client (what nginx's `real_ip` with
//! `real_ip_recursive on` does). A client cannot forge its address through a header, because
//! only what trusted proxies appended is read.

use std::net::IpAddr;
use std::str::FromStr;

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The client's address, as the login limiter and the audit trail see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// Networks whose connections are reverse proxies that append the client to
/// `X-Forwarded-For`.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses a list of addresses and CIDR networks (`10.0.0.0/8`, `127.0.0.1`, `::1`).
    pub fn parse(items: &[String]) -> Result<Self, String> {
        let mut nets = Vec::with_capacity(items.len());
        for item in items.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
            let net = IpNet::from_str(item)
                .or_else(|_| IpAddr::from_str(item).map(IpNet::from))
                .map_err(|_| {
                    format!("--trusted-proxies: '{item}' is not an IP address or CIDR network")
                })?;
            nets.push(net);
        }
        Ok(Self(nets))
    }

    /// Whether `ip` belongs to a trusted proxy.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client behind a connection from `peer` with these headers.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.contains(peer) {
            return peer;
        }
        let mut client = peer;
        let hops = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect::<Vec<_>>();
        for hop in hops.into_iter().rev() {
            // An unparseable hop ends the trusted chain: what is left of it is the client's.
            let Some(address) = parse_hop(hop) else {
                break;
            };
            client = address;
            if !self.contains(address) {
                break;
            }
        }
        client
    }
}

/// One `X-Forwarded-For` entry: an address, possibly with a port or in brackets.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = IpAddr::from_str(hop) {
        return Some(ip.to_canonical());
    }
    if let Ok(socket) = std::net::SocketAddr::from_str(hop) {
        return Some(socket.ip().to_canonical());
    }
    let inner = hop.strip_prefix('[')?.split(']').next()?;
    IpAddr::from_str(inner).ok().map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in xff {
            headers.append(
                "x-forwarded-for",
                HeaderValue::from_str(value).expect("header"),
            );
        }
        headers
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn only_trusted_proxies_are_believed() -> Result<(), String> {
        let proxies = TrustedProxies::parse(&["10.0.0.0/8".into(), "::1".into()])?;
        // Not a proxy: the header is the client's own claim, ignored.
        assert_eq!(
            proxies.client(ip("203.0.113.9"), &headers(&["1.2.3.4"])),
            ip("203.0.113.9")
        );
        // A proxy: the rightmost untrusted entry, whatever the client put before it.
        assert_eq!(
            proxies.client(
                ip("10.1.1.1"),
                &headers(&["6.6.6.6, 198.51.100.7, 10.2.2.2"])
            ),
            ip("198.51.100.7")
        );
        assert_eq!(
            proxies.client(ip("10.1.1.1"), &headers(&["6.6.6.6", "198.51.100.7:4711"])),
            ip("198.51.100.7")
        );
        assert_eq!(
            proxies.client(ip("::1"), &headers(&["[2001:db8::5]:80"])),
            ip("2001:db8::5")
        );
        // No header, or nothing usable: the proxy itself.
        assert_eq!(
            proxies.client(ip("10.1.1.1"), &headers(&[])),
            ip("10.1.1.1")
        );
        assert_eq!(
            proxies.client(ip("10.1.1.1"), &headers(&["unknown"])),
            ip("10.1.1.1")
        );
        // Only proxies: the leftmost.
        assert_eq!(
            proxies.client(ip("10.1.1.1"), &headers(&["10.3.3.3, 10.2.2.2"])),
            ip("10.3.3.3")
        );
        // IPv4-mapped peers match IPv4 networks.
        assert_eq!(
            proxies.client(ip("::ffff:10.1.1.1"), &headers(&["198.51.100.7"])),
            ip("198.51.100.7")
        );
        assert!(TrustedProxies::parse(&["10.0.0.0/33".into()]).is_err());
        assert!(TrustedProxies::parse(&["proxy.local".into()]).is_err());
        Ok(())
    }
}
