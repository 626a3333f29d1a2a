//! The port-policy rule language and its matcher, shared by `hss_host_port_drift`, the provider
//! functions and the fleet check. No Terraform types here: rules are strings in, booleans out.
//!
//! # Grammar
//!
//! ```text
//! rule    = ports [ "/" proto ] [ "@" address ]
//! ports   = "*" | N | N "-" M            ; 1 <= N <= M <= 65535
//! proto   = "tcp" | "udp"                ; case-insensitive; absent = both
//! address = IP | CIDR | "loopback" | "any" ; absent = any
//! ```
//!
//! The rule is split at its first `@` (a CIDR contains a `/`), then the ports at the first `/`.
//! Numbers are plain decimal digits (no sign, no spaces); a leading zero is accepted (`022` is
//! 22). Keywords and protocols are case-insensitive. Whitespace anywhere is an error: a rule
//! that reads differently to a human and to the matcher is worse than one that is refused. A
//! CIDR with host bits set (`10.0.0.1/8`) is refused too, since it usually hides a typo.
//!
//! # Matching
//!
//! A record matches a rule when its port is in range, its protocol matches (if the rule names
//! one), and its listening address lies within the rule's address (if the rule names one):
//!
//! - Record protocols `TCP` and `TCP6` are tcp, `UDP` and `UDP6` are udp (any case). A record
//!   with another or no protocol matches only rules without one; a record without a port only
//!   `*`.
//! - `loopback` is 127.0.0.0/8 and ::1. IPv4-mapped IPv6 addresses (`::ffff:127.0.0.1`) compare
//!   as their IPv4 form, in records and in rules.
//! - A wildcard listener (`0.0.0.0` or `::`) exposes every address of its family, so it lies
//!   within only `any`, `0.0.0.0/0` (for `0.0.0.0`), `::/0` (for `::`), or the wildcard itself
//!   written literally (`@0.0.0.0`, `@::`). `22/tcp@127.0.0.1` therefore does not allow sshd on
//!   `0.0.0.0`, and neither does `22/tcp@10.0.0.0/8`.
//! - A record whose address is missing or is not an IP address matches only rules whose address
//!   is absent or `any` (`any` means exactly what leaving the address out means).
//!
//! CIDR containment is a few lines over `std::net`, so no crate is used for it: the wildcard
//! rule above is ours in any case.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A transport protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    /// The protocol of a record's `type`: `TCP`, `TCP6`, `UDP`, `UDP6`, in any case.
    pub(crate) fn of_record(text: &str) -> Option<Proto> {
        match text.to_ascii_lowercase().as_str() {
            "tcp" | "tcp6" => Some(Proto::Tcp),
            "udp" | "udp6" => Some(Proto::Udp),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

/// Where a rule allows listening.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Address {
    Any,
    Loopback,
    /// An address and prefix length, with IPv4-mapped IPv6 already in IPv4 form and host bits
    /// clear.
    Net(IpAddr, u8),
}

/// One parsed rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rule {
    /// `None` for `*`.
    ports: Option<(u16, u16)>,
    proto: Option<Proto>,
    address: Address,
}

/// Why a rule string is not a rule. The message completes `rule "…": `.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub(crate) struct RuleError(String);

impl RuleError {
    fn new(message: impl Into<String>) -> Self {
        RuleError(message.into())
    }
}

/// The view of a port record the matcher needs.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Listener<'a> {
    pub(crate) port: Option<i64>,
    /// The record's `type`, such as `TCP`.
    pub(crate) protocol: Option<&'a str>,
    /// The record's `laddr`, such as `0.0.0.0`.
    pub(crate) laddr: Option<&'a str>,
}

/// How a policy covers one (port, protocol) pair, whatever the addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Coverage {
    /// Some rule allows it on every address: no record with this pair can be unexpected.
    Everywhere,
    /// Only rules with an address allow it: each record's address decides.
    SomeAddresses,
    /// No rule allows it: every record with this pair is unexpected.
    Nowhere,
}

/// IPv4-mapped IPv6 addresses as IPv4; everything else unchanged.
fn normalise(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn bits(ip: IpAddr) -> (u128, u8) {
    match ip {
        IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32),
        IpAddr::V6(v6) => (u128::from(v6), 128),
    }
}

/// The mask of the first `prefix` of `width` bits.
fn mask(prefix: u8, width: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        let all = if width == 128 { u128::MAX } else { (1u128 << width) - 1 };
        all & !((1u128 << (width - prefix)) - 1)
    }
}

fn parse_number(text: &str) -> Result<u32, RuleError> {
    if text.is_empty() {
        return Err(RuleError::new("the port is missing"));
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(RuleError::new(format!("{text:?} is not a port number or \"*\"")));
    }
    let n: u32 = text.parse().unwrap_or(u32::MAX);
    if !(1..=65535).contains(&n) {
        return Err(RuleError::new(format!("port {text} is out of range 1-65535")));
    }
    Ok(n)
}

fn parse_ports(text: &str) -> Result<Option<(u16, u16)>, RuleError> {
    if text == "*" {
        return Ok(None);
    }
    let (low, high) = match text.split_once('-') {
        Some((a, b)) => (parse_number(a)?, parse_number(b)?),
        None => {
            let n = parse_number(text)?;
            (n, n)
        }
    };
    if low > high {
        return Err(RuleError::new(format!("port range {low}-{high} is reversed")));
    }
    // Both are within 1..=65535, so they fit.
    Ok(Some((low as u16, high as u16)))
}

fn parse_address(text: &str) -> Result<Address, RuleError> {
    let invalid = || RuleError::new(format!("{text:?} is not an IP address, CIDR, \"loopback\" or \"any\""));
    match text.to_ascii_lowercase().as_str() {
        "" => return Err(RuleError::new("the address after \"@\" is missing")),
        "any" => return Ok(Address::Any),
        "loopback" => return Ok(Address::Loopback),
        _ => {}
    }
    let (ip_text, prefix_text) = match text.split_once('/') {
        Some((ip, prefix)) => (ip, Some(prefix)),
        None => (text, None),
    };
    let raw: IpAddr = ip_text.parse().map_err(|_| invalid())?;
    let (_, raw_width) = bits(raw);
    let prefix = match prefix_text {
        None => raw_width,
        Some(p) if !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()) => {
            let n: u8 = p.parse().map_err(|_| invalid())?;
            if n > raw_width {
                return Err(RuleError::new(format!("prefix /{n} is longer than {raw_width} bits in {text:?}")));
            }
            n
        }
        Some(_) => return Err(invalid()),
    };
    // An IPv4-mapped network (::ffff:10.0.0.0/104) is the IPv4 network 10.0.0.0/8. A shorter
    // prefix (::ffff:0:0/80) is an IPv6 network, whose host bits the check below refuses.
    let ip = if prefix >= 96 { normalise(raw) } else { raw };
    let prefix = match (raw, ip) {
        (IpAddr::V6(_), IpAddr::V4(_)) => prefix - 96,
        _ => prefix,
    };
    let (value, width) = bits(ip);
    if value & !mask(prefix, width) != 0 {
        let network = match ip {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::from((value & mask(prefix, width)) as u32)),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::from(value & mask(prefix, width))),
        };
        return Err(RuleError::new(format!("{text:?} has host bits set (did you mean {network}/{prefix}?)")));
    }
    Ok(Address::Net(ip, prefix))
}

impl Rule {
    /// Parses one rule string.
    pub(crate) fn parse(text: &str) -> Result<Rule, RuleError> {
        if text.is_empty() {
            return Err(RuleError::new("the rule is empty"));
        }
        if text.chars().any(char::is_whitespace) {
            return Err(RuleError::new("a rule must not contain spaces"));
        }
        let (left, address) = match text.split_once('@') {
            Some((left, address)) => (left, parse_address(address)?),
            None => (text, Address::Any),
        };
        let (ports, proto) = match left.split_once('/') {
            Some((ports, proto)) => {
                let proto = match proto.to_ascii_lowercase().as_str() {
                    "tcp" => Proto::Tcp,
                    "udp" => Proto::Udp,
                    "" => return Err(RuleError::new("the protocol after \"/\" is missing (use tcp or udp)")),
                    _ => return Err(RuleError::new(format!("unknown protocol {proto:?} (use tcp or udp)"))),
                };
                (ports, Some(proto))
            }
            None => (left, None),
        };
        Ok(Rule { ports: parse_ports(ports)?, proto, address })
    }

    fn port_matches(&self, port: Option<i64>) -> bool {
        match (self.ports, port) {
            (None, _) => true,
            (Some((low, high)), Some(p)) => (i64::from(low)..=i64::from(high)).contains(&p),
            (Some(_), None) => false,
        }
    }

    fn proto_matches(&self, protocol: Option<&str>) -> bool {
        match self.proto {
            None => true,
            Some(want) => protocol.and_then(Proto::of_record) == Some(want),
        }
    }

    fn address_matches(&self, laddr: Option<&str>) -> bool {
        let ip = laddr.and_then(|a| a.trim().parse::<IpAddr>().ok()).map(normalise);
        match (&self.address, ip) {
            (Address::Any, _) => true,
            (_, None) => false,
            (Address::Loopback, Some(ip)) => ip.is_loopback() && !ip.is_unspecified(),
            (Address::Net(net, prefix), Some(ip)) => {
                let (net_bits, width) = bits(*net);
                let (ip_bits, ip_width) = bits(ip);
                if width != ip_width {
                    return false;
                }
                if ip.is_unspecified() {
                    // A wildcard listener lies only within its whole family or itself.
                    return net.is_unspecified() && (*prefix == 0 || *prefix == width);
                }
                ip_bits & mask(*prefix, width) == net_bits
            }
        }
    }

    /// Whether the record lies within this rule: port, protocol and address all match.
    pub(crate) fn matches(&self, listener: &Listener<'_>) -> bool {
        self.port_matches(listener.port)
            && self.proto_matches(listener.protocol)
            && self.address_matches(listener.laddr)
    }

    /// Whether this rule names an address other than `any`.
    pub(crate) fn has_address(&self) -> bool {
        self.address != Address::Any
    }

    /// Whether the rule's ports and protocol cover `(port, proto)`, whatever its address says.
    pub(crate) fn covers(&self, port: u16, proto: Proto) -> bool {
        self.port_matches(Some(i64::from(port))) && self.proto.is_none_or(|p| p == proto)
    }
}

impl std::str::FromStr for Rule {
    type Err = RuleError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Rule::parse(s)
    }
}

impl fmt::Display for Rule {
    /// The canonical form: `22/tcp`, `8000-8100`, `*/udp@loopback`, `10.0.0.0/8` addresses.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.ports {
            None => f.write_str("*")?,
            Some((low, high)) if low == high => write!(f, "{low}")?,
            Some((low, high)) => write!(f, "{low}-{high}")?,
        }
        if let Some(proto) = self.proto {
            write!(f, "/{}", proto.name())?;
        }
        match &self.address {
            Address::Any => Ok(()),
            Address::Loopback => f.write_str("@loopback"),
            Address::Net(ip, prefix) if *prefix == bits(*ip).1 => write!(f, "@{ip}"),
            Address::Net(ip, prefix) => write!(f, "@{ip}/{prefix}"),
        }
    }
}

/// How `rules` cover `(port, proto)`: see [`Coverage`].
pub(crate) fn coverage(rules: &[Rule], port: u16, proto: Proto) -> Coverage {
    let covering = rules.iter().filter(|r| r.covers(port, proto));
    let mut any = false;
    for rule in covering {
        if !rule.has_address() {
            return Coverage::Everywhere;
        }
        any = true;
    }
    if any { Coverage::SomeAddresses } else { Coverage::Nowhere }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngSeed};

    fn rule(text: &str) -> Rule {
        Rule::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn rec<'a>(port: i64, proto: &'a str, laddr: &'a str) -> Listener<'a> {
        Listener { port: Some(port), protocol: Some(proto), laddr: Some(laddr) }
    }

    fn error(text: &str) -> String {
        Rule::parse(text).expect_err(text).to_string()
    }

    #[test]
    fn the_documented_examples_parse_and_print_canonically() {
        for (text, canonical) in [
            ("22/tcp", "22/tcp"),
            ("8000-8100/tcp", "8000-8100/tcp"),
            ("68/udp", "68/udp"),
            ("323/udp@127.0.0.1", "323/udp@127.0.0.1"),
            ("*/udp@loopback", "*/udp@loopback"),
            ("5432/tcp@10.0.0.0/8", "5432/tcp@10.0.0.0/8"),
            ("443@::", "443@::"),
            ("22/TCP@ANY", "22/tcp"),
            ("022", "22"),
            ("1-65535", "1-65535"),
            ("80@::ffff:10.0.0.0/104", "80@10.0.0.0/8"),
            ("80@::ffff:127.0.0.1", "80@127.0.0.1"),
        ] {
            assert_eq!(rule(text).to_string(), canonical, "{text}");
            assert_eq!(rule(canonical), rule(text));
        }
    }

    #[test]
    fn every_error_says_what_is_wrong() {
        assert_eq!(error("9000-80"), "port range 9000-80 is reversed");
        assert_eq!(error("0"), "port 0 is out of range 1-65535");
        assert_eq!(error("65536/tcp"), "port 65536 is out of range 1-65535");
        assert_eq!(error("99999999999"), "port 99999999999 is out of range 1-65535");
        assert_eq!(error("http"), "\"http\" is not a port number or \"*\"");
        assert_eq!(error("+22"), "\"+22\" is not a port number or \"*\"");
        assert_eq!(error(""), "the rule is empty");
        assert_eq!(error("22 /tcp"), "a rule must not contain spaces");
        assert_eq!(error("/tcp"), "the port is missing");
        assert_eq!(error("22-"), "the port is missing");
        assert_eq!(error("22/sctp"), "unknown protocol \"sctp\" (use tcp or udp)");
        assert_eq!(error("22/"), "the protocol after \"/\" is missing (use tcp or udp)");
        assert_eq!(error("22@"), "the address after \"@\" is missing");
        assert_eq!(error("22@10.0.0.0/33"), "prefix /33 is longer than 32 bits in \"10.0.0.0/33\"");
        assert_eq!(error("22@localhost"), "\"localhost\" is not an IP address, CIDR, \"loopback\" or \"any\"");
        assert_eq!(error("22@10.0.0.0/x"), "\"10.0.0.0/x\" is not an IP address, CIDR, \"loopback\" or \"any\"");
        assert_eq!(error("22@10.0.0.1/8"), "\"10.0.0.1/8\" has host bits set (did you mean 10.0.0.0/8?)");
        // A mapped prefix shorter than 96 bits is an IPv6 network, not 0.0.0.0/0.
        assert_eq!(error("22@::ffff:0:0/80"), "\"::ffff:0:0/80\" has host bits set (did you mean ::/80?)");
        assert_eq!(error("22@::ffff:0:0/95"), "\"::ffff:0:0/95\" has host bits set (did you mean ::fffe:0:0/95?)");
        assert_eq!(rule("22@::ffff:0:0/96").to_string(), "22@0.0.0.0/0");
    }

    #[test]
    fn ports_and_protocols() {
        assert!(rule("22").matches(&rec(22, "TCP", "0.0.0.0")));
        assert!(rule("22").matches(&rec(22, "UDP", "0.0.0.0")));
        assert!(!rule("22").matches(&rec(23, "TCP", "0.0.0.0")));
        assert!(rule("8000-8100/tcp").matches(&rec(8000, "TCP", "::")));
        assert!(rule("8000-8100/tcp").matches(&rec(8100, "tcp6", "::")));
        assert!(!rule("8000-8100/tcp").matches(&rec(8101, "TCP", "::")));
        assert!(!rule("8000-8100/tcp").matches(&rec(8050, "UDP", "::")));
        assert!(rule("68/udp").matches(&rec(68, "UDP6", "::")));
        let no_type = Listener { port: Some(22), protocol: None, laddr: Some("0.0.0.0") };
        assert!(rule("22").matches(&no_type));
        assert!(!rule("22/tcp").matches(&no_type));
        let sctp = rec(22, "SCTP", "0.0.0.0");
        assert!(!rule("22/tcp").matches(&sctp) && rule("22").matches(&sctp));
        let no_port = Listener { port: None, protocol: Some("TCP"), laddr: Some("0.0.0.0") };
        assert!(rule("*").matches(&no_port));
        assert!(!rule("1-65535").matches(&no_port));
    }

    #[test]
    fn wildcard_listeners_lie_only_within_their_whole_family() {
        let v4 = rec(22, "TCP", "0.0.0.0");
        let v6 = rec(22, "TCP", "::");
        for text in ["22", "22@any", "22@0.0.0.0/0", "22@0.0.0.0"] {
            assert!(rule(text).matches(&v4), "{text} allows 0.0.0.0");
        }
        for text in ["22@127.0.0.1", "22@10.0.0.0/8", "22@loopback", "22@::/0", "22@::", "22@0.0.0.0/1"] {
            assert!(!rule(text).matches(&v4), "{text} must not allow 0.0.0.0");
        }
        for text in ["22", "22@any", "22@::/0", "22@::"] {
            assert!(rule(text).matches(&v6), "{text} allows ::");
        }
        for text in ["22@::1", "22@loopback", "22@0.0.0.0/0", "22@0.0.0.0", "22@fe80::/10", "22@::/1"] {
            assert!(!rule(text).matches(&v6), "{text} must not allow ::");
        }
    }

    #[test]
    fn loopback_cidrs_and_mapped_addresses() {
        for laddr in ["127.0.0.1", "127.0.0.5", "127.255.255.254", "::1", "::ffff:127.0.0.1"] {
            assert!(rule("*@loopback").matches(&rec(323, "UDP", laddr)), "{laddr} is loopback");
        }
        for laddr in ["10.0.0.1", "::2", "0.0.0.0", "::"] {
            assert!(!rule("*@loopback").matches(&rec(323, "UDP", laddr)), "{laddr} is not loopback");
        }
        assert!(rule("5432/tcp@10.0.0.0/8").matches(&rec(5432, "TCP", "10.1.2.3")));
        assert!(rule("5432/tcp@10.0.0.0/8").matches(&rec(5432, "TCP", "::ffff:10.1.2.3")));
        assert!(!rule("5432/tcp@10.0.0.0/8").matches(&rec(5432, "TCP", "11.0.0.1")));
        assert!(rule("443@fd00::/8").matches(&rec(443, "TCP", "fd12::1")));
        assert!(!rule("443@fd00::/8").matches(&rec(443, "TCP", "10.0.0.1")), "families differ");
        assert!(rule("80@::ffff:10.0.0.0/104").matches(&rec(80, "TCP", "10.9.9.9")));
        assert!(rule("80@10.0.0.7").matches(&rec(80, "TCP", "10.0.0.7")));
        assert!(!rule("80@10.0.0.7").matches(&rec(80, "TCP", "10.0.0.8")));
        assert!(rule("*/udp@::1").matches(&rec(53, "UDP", "::1")));
    }

    #[test]
    fn records_without_an_address_match_only_rules_without_one() {
        for laddr in [None, Some(""), Some("not-an-ip"), Some("*")] {
            let r = Listener { port: Some(22), protocol: Some("TCP"), laddr };
            assert!(rule("22/tcp").matches(&r));
            assert!(rule("22/tcp@any").matches(&r));
            assert!(!rule("22/tcp@0.0.0.0/0").matches(&r), "{laddr:?}");
            assert!(!rule("22/tcp@loopback").matches(&r), "{laddr:?}");
        }
    }

    #[test]
    fn coverage_classifies_port_protocol_pairs() {
        let rules: Vec<Rule> =
            ["22/tcp", "323/udp@loopback", "5432/tcp@10.0.0.0/8", "*/udp@127.0.0.1"].iter().map(|t| rule(t)).collect();
        assert_eq!(coverage(&rules, 22, Proto::Tcp), Coverage::Everywhere);
        assert_eq!(coverage(&rules, 22, Proto::Udp), Coverage::SomeAddresses);
        assert_eq!(coverage(&rules, 5432, Proto::Tcp), Coverage::SomeAddresses);
        assert_eq!(coverage(&rules, 8080, Proto::Tcp), Coverage::Nowhere);
        assert_eq!(coverage(&[], 22, Proto::Tcp), Coverage::Nowhere);
    }

    /// Fixed seed: one verdict per commit (see `tests/properties.rs` for the exploration knobs).
    fn config() -> Config {
        Config {
            cases: 512,
            rng_seed: RngSeed::Fixed(0x504f_4c49_4359),
            failure_persistence: None,
            ..Config::default()
        }
    }

    fn any_rule() -> impl Strategy<Value = String> {
        let ports = prop_oneof![
            Just("*".to_owned()),
            (1u32..=65535).prop_map(|p| p.to_string()),
            (1u32..=65535, 0u32..200).prop_map(|(a, d)| format!("{a}-{}", (a + d).min(65535))),
        ];
        let proto = prop_oneof![Just(String::new()), Just("/tcp".to_owned()), Just("/udp".to_owned())];
        let address = prop_oneof![
            Just(String::new()),
            Just("@any".to_owned()),
            Just("@loopback".to_owned()),
            Just("@0.0.0.0/0".to_owned()),
            Just("@::/0".to_owned()),
            Just("@0.0.0.0".to_owned()),
            Just("@::".to_owned()),
            (any::<u32>(), 0u8..=32).prop_map(|(ip, p)| format!("@{}/{p}", Ipv4Addr::from(ip & mask(p, 32) as u32))),
            any::<u32>().prop_map(|ip| format!("@{}", Ipv4Addr::from(ip))),
            any::<u128>().prop_map(|ip| format!("@{}", Ipv6Addr::from(ip))),
        ];
        (ports, proto, address).prop_map(|(a, b, c)| format!("{a}{b}{c}"))
    }

    fn any_laddr() -> impl Strategy<Value = Option<String>> {
        prop_oneof![
            Just(None),
            Just(Some("0.0.0.0".to_owned())),
            Just(Some("::".to_owned())),
            Just(Some("127.0.0.1".to_owned())),
            Just(Some("::1".to_owned())),
            Just(Some("garbage".to_owned())),
            any::<u32>().prop_map(|ip| Some(Ipv4Addr::from(ip).to_string())),
            any::<u128>().prop_map(|ip| Some(Ipv6Addr::from(ip).to_string())),
        ]
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn star_matches_every_record(port in prop::option::of(-5i64..70000), proto in "[A-Za-z0-9]{0,5}", laddr in any_laddr()) {
            let r = Listener { port, protocol: Some(&proto), laddr: laddr.as_deref() };
            prop_assert!(rule("*").matches(&r));
        }

        #[test]
        fn a_rule_matches_exactly_when_each_part_does(text in any_rule(), port in 1i64..=65535, tcp in any::<bool>(), laddr in any_laddr()) {
            let full = rule(&text);
            let proto = if tcp { "TCP" } else { "UDP" };
            let r = Listener { port: Some(port), protocol: Some(proto), laddr: laddr.as_deref() };
            let (ports_part, rest) = match text.split_once('@') { Some((l, _)) => (l, true), None => (text.as_str(), false) };
            let ports_only = rule(ports_part.split('/').next().unwrap_or("*"));
            let proto_only = rule(&format!("*{}", ports_part.split_once('/').map(|(_, p)| format!("/{p}")).unwrap_or_default()));
            let address_only = if rest { rule(&format!("*@{}", text.split_once('@').map(|(_, a)| a).unwrap_or("any"))) } else { rule("*") };
            prop_assert_eq!(full.matches(&r), ports_only.matches(&r) && proto_only.matches(&r) && address_only.matches(&r));
        }

        #[test]
        fn display_parses_back_to_the_same_rule(text in any_rule()) {
            let parsed = rule(&text);
            prop_assert_eq!(rule(&parsed.to_string()), parsed);
        }

        #[test]
        fn rules_with_an_address_never_match_records_without_one(text in any_rule(), port in 1i64..=65535) {
            let parsed = rule(&text);
            let r = Listener { port: Some(port), protocol: Some("TCP"), laddr: None };
            if parsed.has_address() {
                prop_assert!(!parsed.matches(&r));
            }
        }

        #[test]
        fn coverage_agrees_with_matching(texts in prop::collection::vec(any_rule(), 0..5), port in 1u16..=65535, laddr in any_laddr()) {
            let rules: Vec<Rule> = texts.iter().map(|t| rule(t)).collect();
            let r = Listener { port: Some(i64::from(port)), protocol: Some("TCP"), laddr: laddr.as_deref() };
            let allowed = rules.iter().any(|x| x.matches(&r));
            match coverage(&rules, port, Proto::Tcp) {
                Coverage::Everywhere => prop_assert!(allowed),
                Coverage::Nowhere => prop_assert!(!allowed),
                Coverage::SomeAddresses => {}
            }
        }
    }
}
