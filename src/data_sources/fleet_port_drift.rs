//! `hss_fleet_port_drift`: the whole fleet checked against a port policy in a handful of
//! requests, however many servers there are.
//!
//! # The read plan
//!
//! 1. Page through ListPortStatistics (`sort_key=port`): the fleet's distinct (port, protocol)
//!    pairs, each with the number of servers that have it open.
//! 2. Classify each pair with [`policy::coverage`]: a pair some rule allows on every address is
//!    done; a pair allowed only on some addresses, or not at all, is a candidate.
//! 3. For each candidate, page through ListPortHost (concurrently, within the provider-wide
//!    limits) and apply the full rules, addresses included, to every record.
//!
//! Requests therefore grow with the number of distinct ports and with the violations, not with
//! the number of servers: a statistics page per 199 pairs, plus about one request per candidate.
//!
//! # `TCP6` and `UDP6`
//!
//! The statistics count IPv6 listeners apart (`TCP6`, `UDP6`), while ListPortHost only filters
//! on `TCP` and `UDP`. The documented models do not say how the two relate; we assume that
//! `type=TCP` (`UDP`) lists the IPv4 and the IPv6 listeners alike, the IPv6 ones with an IPv6
//! `laddr`. A rule's protocol covers both families (`22/tcp` allows `TCP6`), so one read per
//! port and protocol serves both rows. A pair whose type is none of the four is always a
//! candidate, read without a type filter.
//!
//! # Consistency
//!
//! Each statistics row says how many servers have the pair open (`num`). For every pair read,
//! that count must equal the number of distinct servers listed, per family (IPv6 `laddr` for
//! `TCP6`/`UDP6`). When they disagree, the fleet changed between the requests, or the API is
//! inconsistent: the whole check is read again, up to three times, then it fails with an error
//! that names the pair. A check never passes on numbers that do not add up.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use futures_util::stream::{self, StreamExt, TryStreamExt};

use super::DataSource;
use super::host_ports::Port;
use super::hosts::{ENTERPRISE_PROJECT_DOC, query_id};
use super::policy_args::{self, GRAMMAR, RuleText};
use super::port_hosts::PortHost;
use crate::diagnostics::Diagnostic;
use crate::hss::{Error, PortHostQuery, PortHostRecord, PortStatistic, PortStatisticsQuery};
use crate::model::{Len, OneOf, Range, terraform_model};
use crate::policy::{self, Coverage, Listener, Proto};
use crate::provider::ReadContext;

pub(crate) struct FleetPortDrift;

const DEFAULT_PAGE_SIZE: u32 = 200;
/// How many times the whole check is read when the statistics and the listed servers disagree.
pub(crate) const MAX_CHECK_ATTEMPTS: u32 = 3;
/// The error of a failed check names at most this many servers, and this many ports of each.
const HOSTS_SHOWN: usize = 10;
const PORTS_SHOWN_PER_HOST: usize = 5;

terraform_model! {
    /// The policy and the part of the fleet it applies to.
    pub(crate) struct FleetDriftArgs {
        required allowed: Vec<RuleText>,
            "What may be open anywhere in the fleet: a listener that matches none of these rules is a violation. \
             See the rule language in the data source's description.";
        optional enterprise_project_id: String, ENTERPRISE_PROJECT_DOC, Len(1, 256);
        optional category: String,
            "`host` (the API's default: processes of the servers themselves) or `container`.",
            OneOf(&["host", "container"]);
        optional fail_on_drift: bool,
            "When `true`, any violation fails the read with an error that lists them by server, so the plan \
             stops. Default `false`.";
        optional page_size: i64, "Records per request, 10 to 200, sent as the API's `limit`. Default `200`.", Range(10, 200);
    }
}

terraform_model! {
    /// What the check finds.
    pub(crate) struct FleetDriftState {
        computed id: String,
            "Identifies the check: the filters in use and a fingerprint of the rules.";
        computed violations: Vec<PortHost>,
            "Every listener that matches no `allowed` rule, in the shape of `hss_port_hosts.hosts`, sorted by \
             host, then port.";
        computed hosts_in_violation: Vec<String>, "The distinct `host_id`s of `violations`, sorted.";
        computed in_policy: bool, "`true` when nothing in the fleet violates the policy.";
        computed summary: String,
            "One line for humans, such as `1 unexpected on 1 server(s) (web-1 (0a1b...): TCP/23 on 0.0.0.0 by \
             /usr/sbin/xinetd (pid 812)); 5 of 312 port/protocol pairs read server by server`.";
        computed requests: i64,
            "How many API requests the check took (retries and re-reads included): two or so for the statistics, \
             plus about one per pair that needed a closer look.";
    }
}

impl DataSource for FleetPortDrift {
    type Args = FleetDriftArgs;
    type State = FleetDriftState;

    fn type_name(&self) -> &'static str {
        "hss_fleet_port_drift"
    }

    fn description(&self) -> String {
        format!(
            "Checks every server of the fleet against a port policy in a few requests, however many servers there \
             are. It reads the fleet's distinct open ports (ListPortStatistics, \
             `GET /v5/{{project_id}}/asset/port/statistics`); a port and protocol that some rule allows on every \
             address is done; for each other one, it lists the servers that have it open (ListPortHost, \
             `GET /v5/{{project_id}}/asset/ports/detail`) and applies the full rules, addresses included. Both \
             lists are read completely, and a statistics count that disagrees with the servers listed for it is \
             re-read, then reported as an error. The statistics count IPv6 listeners apart (`TCP6`, `UDP6`); the \
             check assumes that ListPortHost's `TCP` and `UDP` include them, with an IPv6 `laddr`. {GRAMMAR}"
        )
    }

    async fn read(&self, ctx: &ReadContext, args: &FleetDriftArgs) -> Result<FleetDriftState, Vec<Diagnostic>> {
        let rules: Vec<policy::Rule> = args.allowed.iter().filter_map(|r| r.rule.clone()).collect();
        let page_size = args.page_size.and_then(|p| u32::try_from(p).ok()).unwrap_or(DEFAULT_PAGE_SIZE);
        let enterprise_project_id = args.enterprise_project_id.clone().or_else(|| ctx.enterprise_project_id.clone());
        let statistics = PortStatisticsQuery {
            enterprise_project_id: enterprise_project_id.clone(),
            category: args.category.clone(),
            sort_key: Some("port".into()),
            page_size,
            ..Default::default()
        };
        let template =
            PortHostQuery { enterprise_project_id, category: args.category.clone(), page_size, ..Default::default() };
        let started = std::time::Instant::now();
        let mut requests = 0u64;
        let mut last_problem = String::new();
        for attempt in 1..=MAX_CHECK_ATTEMPTS {
            let outcome = check_once(ctx, &statistics, &template, &args.allowed, &rules, &mut requests)
                .await
                .map_err(|err| vec![Diagnostic::error("Cannot check the fleet's open ports", err.to_string())])?;
            match outcome {
                Ok(found) => {
                    tracing::debug!(
                        pairs = found.pairs,
                        candidates = found.candidates,
                        violations = found.violations.len(),
                        requests,
                        attempt,
                        elapsed_ms = started.elapsed().as_millis() as u64,
                        "fleet port check done"
                    );
                    return finish(args, &statistics, found, requests);
                }
                Err(problem) => {
                    tracing::warn!(attempt, max_attempts = MAX_CHECK_ATTEMPTS, %problem, "fleet port check inconsistent");
                    last_problem = problem;
                }
            }
        }
        Err(vec![Diagnostic::error(
            "Cannot check the fleet's open ports: the answers do not add up",
            format!(
                "The port statistics and the servers listed for them disagreed on each of {MAX_CHECK_ATTEMPTS} reads \
                 ({requests} requests); the last time: {last_problem}. The fleet may be changing fast, or HSS may count \
                 differently than assumed (TCP6/UDP6 statistics are taken to count the IPv6 listeners that \
                 ListPortHost lists under TCP/UDP). Run it again; if it persists, check with hss_port_hosts."
            ),
        )])
    }
}

/// One consistent check.
struct Found {
    pairs: usize,
    candidates: usize,
    violations: Vec<PortHost>,
}

/// Which ListPortHost read covers a statistics row: the port and its protocol (`None` for a type
/// that is not TCP, TCP6, UDP or UDP6).
type Candidate = (u16, Option<Proto>);

/// Reads the statistics, then every candidate; `Ok(Err(problem))` when the counts disagree.
async fn check_once(
    ctx: &ReadContext,
    statistics: &PortStatisticsQuery,
    template: &PortHostQuery,
    allowed: &[RuleText],
    rules: &[policy::Rule],
    requests: &mut u64,
) -> Result<Result<Found, String>, Error> {
    let stats = ctx.client.list_port_statistics(statistics, &ctx.cancel).await?;
    *requests += stats.requests;
    let candidates = match plan(&stats.records, rules) {
        Ok(candidates) => candidates,
        Err(problem) => return Ok(Err(problem)),
    };
    let fan_out = ctx.client.config().max_concurrent_requests.max(1);
    let reads: Vec<(Candidate, Vec<PortHostRecord>, u64)> = stream::iter(candidates.keys().copied())
        .map(|candidate| async move {
            let query = PortHostQuery {
                port: candidate.0,
                port_type: candidate.1.map(|p| query_type(p).to_owned()),
                ..template.clone()
            };
            let listing = ctx.client.list_port_hosts(&query, &ctx.cancel).await?;
            Ok::<_, Error>((candidate, listing.records, listing.requests))
        })
        .buffer_unordered(fan_out)
        .try_collect()
        .await?;
    *requests += reads.iter().map(|(_, _, n)| n).sum::<u64>();
    let mut problems = Vec::new();
    let mut violations = Vec::new();
    for (candidate, records, _) in reads {
        let rows = candidates.get(&candidate).map(Vec::as_slice).unwrap_or_default();
        let records: Vec<PortHostRecord> = match candidate.1 {
            Some(_) => records,
            // Read without a type filter: the TCP and UDP records belong to the other pairs.
            None => records.into_iter().filter(|r| protocol(r).is_none()).collect(),
        };
        problems.extend(count_problems(candidate, rows, &records));
        for record in records {
            let port = record.port.or(Some(i64::from(candidate.0)));
            let fallback = candidate.1.map(query_type);
            let listener =
                Listener { port, protocol: record.port_type.as_deref().or(fallback), laddr: record.laddr.as_deref() };
            if !allowed.iter().any(|r| r.matches(&listener)) {
                violations.push(PortHost::from(record));
            }
        }
    }
    if !problems.is_empty() {
        problems.sort();
        return Ok(Err(crate::hss::error::problems_text(problems, policy_args::SUMMARY_ITEMS)));
    }
    violations.sort_unstable();
    Ok(Ok(Found { pairs: stats.records.len(), candidates: candidates.len(), violations }))
}

/// The candidates and the statistics rows each one must account for. A row without a port in
/// 1..=65535 makes the answer unusable (the problem is returned).
fn plan<'a>(
    rows: &'a [PortStatistic],
    rules: &[policy::Rule],
) -> Result<BTreeMap<Candidate, Vec<&'a PortStatistic>>, String> {
    let mut candidates: BTreeMap<Candidate, Vec<&PortStatistic>> = BTreeMap::new();
    for row in rows {
        let port = row.port.and_then(|p| u16::try_from(p).ok()).filter(|p| *p > 0).ok_or_else(|| {
            format!(
                "the statistics list a row without a valid port number (type {}, port {})",
                row.port_type.as_deref().unwrap_or("?"),
                row.port.map_or_else(|| "absent".to_owned(), |p| p.to_string())
            )
        })?;
        let proto = row.port_type.as_deref().and_then(Proto::of_record);
        let covered = proto.is_some_and(|p| policy::coverage(rules, port, p) == Coverage::Everywhere);
        if !covered {
            candidates.entry((port, proto)).or_default().push(row);
        }
    }
    Ok(candidates)
}

/// The `type` ListPortHost filters on for a protocol.
fn query_type(proto: Proto) -> &'static str {
    match proto {
        Proto::Tcp => "TCP",
        Proto::Udp => "UDP",
    }
}

fn protocol(record: &PortHostRecord) -> Option<Proto> {
    record.port_type.as_deref().and_then(Proto::of_record)
}

/// Which statistics row counts a record: its family for TCP and UDP (`6` for an IPv6 `laddr` or
/// a `TCP6`/`UDP6` type), its raw type otherwise.
fn record_bucket(candidate: Candidate, record: &PortHostRecord) -> String {
    match candidate.1 {
        Some(_) => {
            let typed_v6 = record.port_type.as_deref().is_some_and(|t| t.ends_with('6'));
            let laddr_v6 =
                record.laddr.as_deref().and_then(|a| a.trim().parse::<IpAddr>().ok()).is_some_and(|ip| ip.is_ipv6());
            if typed_v6 || laddr_v6 { "6".into() } else { "4".into() }
        }
        None => record.port_type.clone().unwrap_or_default(),
    }
}

fn row_bucket(candidate: Candidate, row: &PortStatistic) -> String {
    match candidate.1 {
        Some(_) => {
            if row.port_type.as_deref().is_some_and(|t| t.ends_with('6')) {
                "6".into()
            } else {
                "4".into()
            }
        }
        None => row.port_type.clone().unwrap_or_default(),
    }
}

/// The rows whose `num` disagrees with the distinct servers listed for them.
fn count_problems(candidate: Candidate, rows: &[&PortStatistic], records: &[PortHostRecord]) -> Vec<String> {
    let mut expected: BTreeMap<String, (i64, String)> = BTreeMap::new();
    let mut unknown_count: BTreeSet<String> = BTreeSet::new();
    for row in rows {
        let bucket = row_bucket(candidate, row);
        let name = row.port_type.clone().unwrap_or_else(|| "?".into());
        match row.num {
            Some(n) => {
                let entry = expected.entry(bucket).or_insert((0, name));
                entry.0 += n;
            }
            None => {
                unknown_count.insert(bucket);
            }
        }
    }
    let mut listed: BTreeMap<String, BTreeSet<Option<&str>>> = BTreeMap::new();
    for record in records {
        listed.entry(record_bucket(candidate, record)).or_default().insert(record.host_id.as_deref());
    }
    let family_name = |bucket: &str| match (candidate.1, bucket) {
        (Some(p), "6") => format!("{}6", query_type(p)),
        (Some(p), _) => query_type(p).to_owned(),
        (None, other) => other.to_owned(),
    };
    let buckets: BTreeSet<&String> = expected.keys().chain(listed.keys()).collect();
    let mut problems = Vec::new();
    for bucket in buckets {
        if unknown_count.contains(bucket) {
            continue;
        }
        let want = expected.get(bucket).map_or(0, |(n, _)| *n);
        let got = listed.get(bucket).map_or(0, BTreeSet::len);
        if i64::try_from(got).ok() != Some(want) {
            let name = expected.get(bucket).map_or_else(|| family_name(bucket), |(_, name)| name.clone());
            problems.push(format!(
                "{name}/{}: the statistics count {want} server(s), ListPortHost lists {got}",
                candidate.0
            ));
        }
    }
    problems
}

fn finish(
    args: &FleetDriftArgs,
    statistics: &PortStatisticsQuery,
    found: Found,
    requests: u64,
) -> Result<FleetDriftState, Vec<Diagnostic>> {
    let violations = found.violations;
    let hosts: BTreeSet<&str> = violations.iter().filter_map(|v| v.host_id.as_deref()).collect();
    let hosts_in_violation: Vec<String> = hosts.iter().map(|h| (*h).to_owned()).collect();
    let described: Vec<String> = violations.iter().map(|v| format!("{}: {}", host_label(v), describe(v))).collect();
    let items = if described.is_empty() {
        String::new()
    } else {
        format!(" ({})", policy_args::capped(&described, policy_args::SUMMARY_ITEMS))
    };
    let summary = format!(
        "{} unexpected on {} server(s){items}; {} of {} port/protocol pairs read server by server",
        violations.len(),
        hosts_in_violation.len(),
        found.candidates,
        found.pairs,
    );
    if args.fail_on_drift == Some(true) && !violations.is_empty() {
        return Err(vec![drift_error(&violations, hosts_in_violation.len())]);
    }
    let filters: Vec<(String, String)> =
        statistics.filters().into_iter().filter(|(k, _)| k == "enterprise_project_id" || k == "category").collect();
    Ok(FleetDriftState {
        id: format!(
            "{}#policy-{}",
            query_id("fleet", &filters),
            policy_args::fingerprint(&policy_args::texts(&args.allowed))
        ),
        in_policy: violations.is_empty(),
        violations,
        hosts_in_violation,
        summary,
        requests: i64::try_from(requests).unwrap_or(i64::MAX),
    })
}

/// `web-1 (0a1b...)`, or the ID alone when the name is unknown.
fn host_label(v: &PortHost) -> String {
    let id = v.host_id.as_deref().unwrap_or("?");
    match v.host_name.as_deref().filter(|n| !n.is_empty()) {
        Some(name) => format!("{name} ({id})"),
        None => id.to_owned(),
    }
}

/// `TCP/23 on 0.0.0.0 by /usr/sbin/xinetd (pid 812)`, as `hss_host_port_drift` says it.
fn describe(v: &PortHost) -> String {
    policy_args::describe(&Port {
        port: v.port,
        r#type: v.r#type.clone(),
        laddr: v.laddr.clone(),
        pid: v.pid,
        path: v.path.clone(),
        container_id: v.container_id.clone(),
        ..Default::default()
    })
}

/// The error of a failed check: the violations grouped by server, capped with counts.
fn drift_error(violations: &[PortHost], hosts: usize) -> Diagnostic {
    // `violations` is sorted by host first, so each server's records are adjacent.
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for v in violations {
        let label = host_label(v);
        match groups.last_mut() {
            Some((last, lines)) if *last == label => lines.push(describe(v)),
            _ => groups.push((label, vec![describe(v)])),
        }
    }
    let mut lines = vec![format!("{} open port(s) on {hosts} server(s) match no allowed rule:", violations.len())];
    for (label, ports) in groups.iter().take(HOSTS_SHOWN) {
        lines.push(format!("  {label}:"));
        for port in ports.iter().take(PORTS_SHOWN_PER_HOST) {
            lines.push(format!("    - {port}"));
        }
        if ports.len() > PORTS_SHOWN_PER_HOST {
            lines.push(format!("    ... and {} more on this server", ports.len() - PORTS_SHOWN_PER_HOST));
        }
    }
    if groups.len() > HOSTS_SHOWN {
        let rest: usize = groups.iter().skip(HOSTS_SHOWN).map(|(_, p)| p.len()).sum();
        lines.push(format!("  ... and {} more server(s) with {rest} open port(s)", groups.len() - HOSTS_SHOWN));
    }
    lines.push(String::new());
    lines.push("Close what should not be open, or add a rule to `allowed` if it is expected.".into());
    Diagnostic::error(format!("Open ports of {hosts} server(s) drift from the fleet policy"), lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(texts: &[&str]) -> Vec<policy::Rule> {
        texts.iter().map(|t| policy::Rule::parse(t).expect("rule")).collect()
    }

    fn row(port: i64, ty: &str, num: i64) -> PortStatistic {
        PortStatistic { port: Some(port), port_type: Some(ty.into()), num: Some(num), status: Some("normal".into()) }
    }

    fn rec(host: &str, port: i64, ty: &str, laddr: &str) -> PortHostRecord {
        PortHostRecord {
            host_id: Some(host.into()),
            port: Some(port),
            port_type: Some(ty.into()),
            laddr: Some(laddr.into()),
            ..Default::default()
        }
    }

    #[test]
    fn the_plan_reads_only_what_some_address_or_nothing_allows() {
        let stats = [
            row(22, "TCP", 10),
            row(22, "TCP6", 4),
            row(68, "UDP", 9),
            row(6379, "TCP", 3),
            row(23, "TCP", 1),
            row(9, "SCTP", 1),
        ];
        let plan = plan(&stats, &rules(&["22/tcp", "68/udp", "6379/tcp@loopback"])).expect("plan");
        let keys: Vec<Candidate> = plan.keys().copied().collect();
        assert_eq!(keys, [(9, None), (23, Some(Proto::Tcp)), (6379, Some(Proto::Tcp))]);
        let bad = [PortStatistic { port: Some(0), ..row(0, "TCP", 1) }];
        assert!(super::plan(&bad, &[]).is_err());
    }

    #[test]
    fn counts_are_checked_per_family() {
        let c = (22, Some(Proto::Tcp));
        let (t4, t6) = (row(22, "TCP", 2), row(22, "TCP6", 1));
        let records = [
            rec("a", 22, "TCP", "0.0.0.0"),
            rec("a", 22, "TCP", "127.0.0.1"),
            rec("b", 22, "TCP", "0.0.0.0"),
            rec("b", 22, "TCP", "::"),
        ];
        assert!(count_problems(c, &[&t4, &t6], &records).is_empty());
        // Without the IPv6 listener, no TCP6 row is needed; with it, one is.
        let problems = count_problems(c, &[&t4], &records[..3]);
        assert!(problems.is_empty(), "{problems:?}");
        let problems = count_problems(c, &[&t4], &records);
        assert_eq!(problems, ["TCP6/22: the statistics count 0 server(s), ListPortHost lists 1"]);
        let problems = count_problems(c, &[&row(22, "TCP", 3), &t6], &records);
        assert_eq!(problems, ["TCP/22: the statistics count 3 server(s), ListPortHost lists 2"]);
        // A row without a count is not checked.
        let unknown = PortStatistic { num: None, ..row(22, "TCP", 0) };
        assert!(count_problems(c, &[&unknown, &t6], &records).is_empty());
    }

    fn violation(host: &str, name: &str, port: i64) -> PortHost {
        PortHost {
            host_name: Some(name.into()),
            path: Some("/usr/sbin/xinetd".into()),
            pid: Some(7),
            ..PortHost::from(rec(host, port, "TCP", "0.0.0.0"))
        }
    }

    #[test]
    fn the_error_groups_by_server_and_caps() {
        let mut v: Vec<PortHost> =
            (0..12).map(|i| violation(&format!("h{i:02}"), &format!("web-{i:02}"), 23)).collect();
        v.extend((0..7).map(|p| violation("h00", "web-00", 1000 + p)));
        v.sort_unstable();
        let d = drift_error(&v, 12);
        assert_eq!(d.summary, "Open ports of 12 server(s) drift from the fleet policy");
        let text = &d.detail;
        assert!(
            text.starts_with("19 open port(s) on 12 server(s) match no allowed rule:\n  web-00 (h00):\n"),
            "{text}"
        );
        assert!(text.contains("    - TCP/23 on 0.0.0.0 by /usr/sbin/xinetd (pid 7)"), "{text}");
        assert!(text.contains("    ... and 3 more on this server"), "{text}");
        assert!(text.contains("  ... and 2 more server(s) with 2 open port(s)"), "{text}");
        assert!(!text.contains("web-10"), "{text}");
    }
}
