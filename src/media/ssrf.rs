//! Which addresses a server-side fetch may connect to. A pure function with a table-driven test:
//! everything that is not plainly public unicast is refused. `allow_private_fetch` (for LAN image
//! hosts) opens loopback and the RFC 1918 ranges, nothing more, and cloud-metadata and platform
//! addresses are refused whatever it says: they hand out the machine's credentials.

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

/// Never fetched from, whatever the configuration: link-local IPv4 (AWS, GCP, Azure, Oracle and
/// DigitalOcean metadata at 169.254.169.254, ECS task credentials at 169.254.170.2), AWS's IPv6
/// metadata address, Alibaba Cloud's metadata service and Azure's platform (WireServer) address,
/// which is public address space.
const NEVER: &[&str] = &[
    "169.254.0.0/16",
    "fd00:ec2::254/128",
    "100.100.100.200/32",
    "168.63.129.16/32",
];

/// What `allow_private_fetch` opens: loopback and RFC 1918 private networks.
const PRIVATE: &[&str] = &[
    "127.0.0.0/8",
    "::1/128",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
];

fn nets(list: &[&str]) -> Vec<IpNet> {
    let parsed: Vec<IpNet> = list.iter().filter_map(|n| n.parse().ok()).collect();
    debug_assert_eq!(parsed.len(), list.len());
    parsed
}

/// The fetch policy: the built-in deny list (unless private fetches are allowed, which opens
/// loopback and RFC 1918), the metadata addresses always, plus any extra networks the operator
/// (or a test) denies.
#[derive(Debug, Clone)]
pub struct AddressPolicy {
    allow_private: bool,
    builtin: Vec<IpNet>,
    never: Vec<IpNet>,
    private: Vec<IpNet>,
    extra: Vec<IpNet>,
}

impl AddressPolicy {
    pub fn new(allow_private: bool, extra: Vec<IpNet>) -> Self {
        AddressPolicy {
            allow_private,
            builtin: nets(DENIED),
            never: nets(NEVER),
            private: nets(PRIVATE),
            extra,
        }
    }

    /// Whether connecting to `ip` is allowed. IPv4-mapped (`::ffff:a.b.c.d`) and IPv4-compatible
    /// (`::a.b.c.d`) addresses are judged as the IPv4 address they carry.
    pub fn allows(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        let within = |list: &[IpNet]| list.iter().any(|n| n.contains(&ip));
        if within(&self.extra) || within(&self.never) {
            return false;
        }
        !within(&self.builtin) || (self.allow_private && within(&self.private))
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

    #[test]
    fn private_fetches_open_loopback_and_rfc1918_only_and_never_metadata() {
        let lan = AddressPolicy::new(true, vec![]);
        let strict = AddressPolicy::new(false, vec![]);
        for ip in [
            "127.0.0.1",
            "::1",
            "::ffff:127.0.0.1",
            "10.0.0.8",
            "172.16.5.4",
            "172.31.255.254",
            "192.168.1.20",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(lan.allows(ip), "{ip} is opened by allow_private_fetch");
            assert!(!strict.allows(ip), "{ip} is refused without it");
        }
        // Cloud metadata and platform addresses, in every spelling, under either policy.
        for ip in [
            "169.254.169.254",
            "169.254.170.2",
            "169.254.0.1",
            "::ffff:169.254.169.254",
            "::169.254.169.254",
            "fd00:ec2::254",
            "100.100.100.200",
            "168.63.129.16",
            "::ffff:168.63.129.16",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(!lan.allows(ip), "{ip} is never fetched");
            assert!(!strict.allows(ip), "{ip} is never fetched");
        }
        // What allow_private_fetch does not open: special-purpose space that is not a LAN.
        for ip in [
            "0.0.0.0",
            "100.64.0.1",
            "192.0.0.8",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "fc00::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(
                !lan.allows(ip),
                "{ip} stays refused with allow_private_fetch"
            );
        }
        assert!(lan.allows("8.8.8.8".parse().unwrap()));
        assert!(!strict.allows("168.63.129.16".parse().unwrap()));
        assert!(strict.allows("168.63.129.17".parse().unwrap()));
    }
}
