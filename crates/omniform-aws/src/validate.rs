//! Checks of values before any API call: CIDR syntax, ports, protocols, instance types, DNS
//! names, TTLs, secret names. Each problem names its attribute path and the fix.

use std::net::{Ipv4Addr, Ipv6Addr};

use omniform_core::AttrPath;
use omniform_provider::AttrProblem;

pub fn problem(path: &str, message: impl Into<String>, hint: impl Into<String>) -> AttrProblem {
    AttrProblem {
        path: path.parse().unwrap_or_else(|_| AttrPath::root()),
        message: message.into(),
        hint: hint.into(),
    }
}

fn cidr(s: &str, v6: bool) -> bool {
    let Some((addr, bits)) = s.split_once('/') else {
        return false;
    };
    let Ok(bits) = bits.parse::<u8>() else {
        return false;
    };
    if v6 {
        addr.parse::<Ipv6Addr>().is_ok() && bits <= 128
    } else {
        addr.parse::<Ipv4Addr>().is_ok() && bits <= 32
    }
}

pub fn check_cidr(out: &mut Vec<AttrProblem>, path: &str, s: &str, v6: bool) {
    if !cidr(s, v6) {
        let (kind, example) = if v6 {
            ("an IPv6 CIDR", "::/0 or 2001:db8::/32")
        } else {
            ("an IPv4 CIDR", "10.0.0.0/16 or 0.0.0.0/0")
        };
        out.push(problem(
            path,
            format!("{s:?} is not {kind}"),
            format!("write it like {example}"),
        ));
    }
}

/// Normalises a protocol name: `all` and `-1` mean every protocol; numbers 6/17/1 are
/// tcp/udp/icmp.
pub fn protocol(p: &str) -> Option<String> {
    Some(match p.to_ascii_lowercase().as_str() {
        "-1" | "all" => "-1".into(),
        "tcp" | "6" => "tcp".into(),
        "udp" | "17" => "udp".into(),
        "icmp" | "1" => "icmp".into(),
        "icmpv6" | "58" => "icmpv6".into(),
        other => match other.parse::<u8>() {
            Ok(n) => n.to_string(),
            Err(_) => return None,
        },
    })
}

pub fn check_protocol(out: &mut Vec<AttrProblem>, path: &str, p: &str) {
    if protocol(p).is_none() {
        out.push(problem(
            path,
            format!("unknown protocol {p:?}"),
            "use tcp, udp, icmp, icmpv6, -1 (all) or a protocol number 0-255",
        ));
    }
}

pub fn check_ports(
    out: &mut Vec<AttrProblem>,
    path: &str,
    protocol_name: &str,
    from: i64,
    to: i64,
) {
    let all = protocol(protocol_name).as_deref() == Some("-1");
    let icmp = matches!(
        protocol(protocol_name).as_deref(),
        Some("icmp") | Some("icmpv6")
    );
    if all || icmp {
        if !(-1..=65535).contains(&from) || !(-1..=65535).contains(&to) {
            out.push(problem(
                &format!("{path}.from_port"),
                format!("port {from}-{to} is out of range"),
                "use 0 to 0 (or -1) with protocol -1",
            ));
        }
        return;
    }
    for (name, port) in [("from_port", from), ("to_port", to)] {
        if !(0..=65535).contains(&port) {
            out.push(problem(
                &format!("{path}.{name}"),
                format!("{name} {port} is out of range"),
                "ports are 0 to 65535",
            ));
        }
    }
    if from > to {
        out.push(problem(
            &format!("{path}.from_port"),
            format!("from_port {from} is greater than to_port {to}"),
            "a range goes from the lower port to the higher one",
        ));
    }
}

/// `t3.xlarge`, `m6i.2xlarge`, `c7gn.metal`: a family with a generation digit, a dot, a size.
pub fn check_instance_type(out: &mut Vec<AttrProblem>, path: &str, t: &str) {
    let ok = t.split_once('.').is_some_and(|(family, size)| {
        family
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase())
            && family.chars().any(|c| c.is_ascii_digit())
            && family
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !size.is_empty()
            && size
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    });
    if !ok {
        out.push(problem(
            path,
            format!("{t:?} is not an EC2 instance type"),
            "instance types look like t3.xlarge or m6i.2xlarge",
        ));
    } else if let Some((family, size)) = t.split_once('.')
        && !is_instance_size(size)
    {
        out.push(problem(
            path,
            format!("{t:?} is not an EC2 instance type: there is no size {size:?}"),
            format!(
                "sizes are nano, micro, small, medium, large, xlarge, 2xlarge ... 48xlarge and metal, like {family}.xlarge"
            ),
        ));
    }
}

/// The size half of an instance type: nano ... xlarge, Nxlarge, metal, metal-Nxl.
fn is_instance_size(size: &str) -> bool {
    let digits_then = |s: &str, suffix: &str| {
        s.strip_suffix(suffix)
            .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
    };
    matches!(
        size,
        "nano" | "micro" | "small" | "medium" | "large" | "xlarge" | "metal"
    ) || digits_then(size, "xlarge")
        || size
            .strip_prefix("metal-")
            .is_some_and(|rest| digits_then(rest, "xl"))
}

pub fn check_ami(out: &mut Vec<AttrProblem>, path: &str, ami: &str) {
    let ok = ami
        .strip_prefix("ami-")
        .is_some_and(|h| (8..=17).contains(&h.len()) && h.chars().all(|c| c.is_ascii_hexdigit()));
    if !ok {
        out.push(problem(
            path,
            format!("{ami:?} is not an AMI id"),
            "AMI ids look like ami-0abcdef1234567890",
        ));
    }
}

/// A DNS name: labels of letters, digits, `-` and `_` (and `*` as a whole first label), each
/// at most 63 characters, 253 in all; a trailing dot is allowed.
pub fn dns_name_ok(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() || name.len() > 253 {
        return false;
    }
    name.split('.').enumerate().all(|(i, label)| {
        (label == "*" && i == 0)
            || (!label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
    })
}

pub fn check_dns_name(out: &mut Vec<AttrProblem>, path: &str, name: &str) {
    if !dns_name_ok(name) {
        out.push(problem(path, format!("{name:?} is not a valid DNS name"), "DNS names are dot-separated labels of letters, digits and hyphens, each at most 63 characters"));
    }
}

pub fn ipv4_ok(s: &str) -> bool {
    s.parse::<Ipv4Addr>().is_ok()
}

pub fn ipv6_ok(s: &str) -> bool {
    s.parse::<Ipv6Addr>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs() {
        assert!(cidr("10.0.0.0/16", false));
        assert!(cidr("0.0.0.0/0", false));
        assert!(!cidr("10.0.0.0/33", false));
        assert!(!cidr("10.0.0/16", false));
        assert!(!cidr("10.0.0.0", false));
        assert!(cidr("::/0", true));
        assert!(!cidr("::/129", true));
    }

    #[test]
    fn names_and_types() {
        assert!(dns_name_ok("example.com"));
        assert!(dns_name_ok("*.example.com."));
        assert!(dns_name_ok("_dmarc.example.com"));
        assert!(!dns_name_ok("exa mple.com"));
        assert!(!dns_name_ok("-bad.com"));
        assert!(!dns_name_ok(&format!("{}.com", "a".repeat(64))));
        let mut out = Vec::new();
        check_instance_type(&mut out, "instance_type", "t3.xlarge");
        check_instance_type(&mut out, "instance_type", "m6i.2xlarge");
        check_instance_type(&mut out, "instance_type", "c7i.metal-24xl");
        check_instance_type(&mut out, "instance_type", "t4g.nano");
        assert!(out.is_empty(), "{out:?}");
        check_instance_type(&mut out, "instance_type", "m6i.xlarg");
        assert_eq!(out.len(), 1);
        assert!(out[0].message.contains("no size \"xlarg\""));
        out.clear();
        check_instance_type(&mut out, "instance_type", "large");
        check_instance_type(&mut out, "instance_type", "T3.large");
        assert_eq!(out.len(), 2);
        assert_eq!(protocol("ALL").as_deref(), Some("-1"));
        assert_eq!(protocol("6").as_deref(), Some("tcp"));
        assert_eq!(protocol("carrier-pigeon"), None);
    }

    #[test]
    fn ports() {
        let mut out = Vec::new();
        check_ports(&mut out, "ingress[0]", "tcp", 443, 443);
        check_ports(&mut out, "ingress[0]", "-1", 0, 0);
        assert!(out.is_empty());
        check_ports(&mut out, "ingress[0]", "tcp", 443, 80);
        check_ports(&mut out, "ingress[1]", "tcp", 0, 70000);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].path.to_string(), "ingress[0].from_port");
        assert_eq!(out[1].path.to_string(), "ingress[1].to_port");
    }
}
