//! Which addresses a server-side fetch may connect to. A pure function with a table-driven test:
//! everything that is not plainly public unicast is refused.

use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;

/// Ranges never fetched from unless `allow_private_fetch` is on (RFC 6890 special-purpose space,
/// cloud metadata, and the ranges that tunnel or translate to them).
const DENIED: &[&str] = &[
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.88.99.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
    "255.255.255.255/32",
    "::/128",
    "::1/128",
    "64:ff9b::/96",
    "64:ff9b:1::/48",
    "100::/64",
    "2001::/32",
    "2001:db8::/32",
    "2002::/16",
    "fc00::/7",
    "fe80::/10",
    "fec0::/10",
    "ff00::/8",
];

/// The fetch policy: the built-in deny list (unless private fetches are allowed) plus any extra
/// networks the operator (or a test) denies.
#[derive(Debug, Clone)]
pub struct AddressPolicy {
    allow_private: bool,
    builtin: Vec<IpNet>,
    extra: Vec<IpNet>,
}

impl AddressPolicy {
    pub fn new(allow_private: bool, extra: Vec<IpNet>) -> Self {
        let builtin = DENIED
            .iter()
            .filter_map(|n| n.parse().ok())
            .collect::<Vec<IpNet>>();
        debug_assert_eq!(builtin.len(), DENIED.len());
        AddressPolicy {
            allow_private,
            builtin,
            extra,
        }
    }

    /// Whether connecting to `ip` is allowed. IPv4-mapped (`::ffff:a.b.c.d`) and IPv4-compatible
    /// (`::a.b.c.d`) addresses are judged as the IPv4 address they carry.
    pub fn allows(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        if self.extra.iter().any(|n| n.contains(&ip)) {
            return false;
        }
        self.allow_private || !self.builtin.iter().any(|n| n.contains(&ip))
    }
}

/// Maps IPv4-in-IPv6 spellings to plain IPv4, so they meet the IPv4 rules.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return IpAddr::V4(v4);
            }
            let s = v6.segments();
            // IPv4-compatible ::a.b.c.d (deprecated, but still routed by some stacks); `::` and
            // `::1` keep their IPv6 meaning.
            if s[..6] == [0; 6] && !(s[6] == 0 && s[7] <= 1) {
                let [a, b] = s[6].to_be_bytes();
                let [c, d] = s[7].to_be_bytes();
                return IpAddr::V4(Ipv4Addr::new(a, b, c, d));
            }
            IpAddr::V6(v6)
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_classifier_refuses_every_special_range_and_allows_public_unicast() {
        let strict = AddressPolicy::new(false, vec![]);
        let denied = [
            "0.0.0.0",
            "10.0.0.1",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "127.255.255.254",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.88.99.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "::10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::1",
            "100::1",
            "2001::1",
            "2001:db8::1",
            "2002:7f00:1::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
        ];
        for ip in denied {
            let addr: IpAddr = ip.parse().unwrap();
            assert!(!strict.allows(addr), "{ip} should be refused");
        }
        let allowed = [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.216.34",
            "172.32.0.1",
            "100.128.0.1",
            "192.169.0.1",
            "::ffff:8.8.8.8",
            "2606:4700:4700::1111",
            "2a00:1450:4001::1",
        ];
        for ip in allowed {
            let addr: IpAddr = ip.parse().unwrap();
            assert!(strict.allows(addr), "{ip} should be allowed");
        }
    }

    #[test]
    fn private_fetches_can_be_allowed_but_extra_denials_always_hold() {
        let lan = AddressPolicy::new(true, vec!["127.0.0.2/32".parse().unwrap()]);
        assert!(lan.allows("127.0.0.1".parse().unwrap()));
        assert!(lan.allows("10.1.2.3".parse().unwrap()));
        assert!(!lan.allows("127.0.0.2".parse().unwrap()));
        assert!(!lan.allows("::ffff:127.0.0.2".parse().unwrap()));
    }
}
