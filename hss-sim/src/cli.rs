//! Command-line interface of the `hss-sim` binary: hand-written flag parsing and the
//! run-until-signal loop (the binary itself only wires these together).

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use super::config::Replace;
use super::{Drift, SimConfig, Simulator, Skew};

/// `--help` text.
pub const USAGE: &str = "\
hss-sim: local simulator of Huawei Cloud HSS `GET /v5/{project_id}/asset/ports`

USAGE:
    hss-sim [FLAGS]

Prints its base URL (one line) on stdout once listening; runs until SIGINT/SIGTERM.

FLAGS:
    --listen ADDR          address to bind (default 127.0.0.1:0)
    --url-file PATH        write the base URL to PATH once listening
    --project-id ID        project ID to serve (default 0123456789abcdef0123456789abcdef)
    --token T              require X-Auth-Token: T
    --access-key AK        accept SDK-HMAC-SHA256 signatures with this access key
    --secret-key SK        ... and this secret key
    --generate HOST=N      generate N deterministic ports for HOST (repeatable)
    --fixture FILE         JSON fixture: {\"host_id\": [{port record}, ...], ...}
    --seed N               seed for data, order and faults (default 0)
    --latency-ms N         added latency per request
    --rate-429 F           rate (0..1) of 429 responses
    --retry-after S        Retry-After seconds sent with 429s
    --rate-5xx F           rate of 500/502/503/504 responses
    --rate-malformed F     rate of truncated JSON bodies
    --rate-drop F          rate of connections closed without a response
    --rate-repeat-page F   rate of pages returning another offset's records
    --rate-short-page F    rate of pages returning fewer records
    --drift none|once|always
                           data drift while a host is read
    --fleet N              generate N servers for the fleet APIs (hosts, port hosts, statistics)
    --fleet-ports N        ports each generated server opens (default 12)
    --fleet-pairs N        distinct (port, protocol) listeners they draw from (default 60)
    --fleet-rare N         of which N open on only a few servers each (default 0)
    --fleet-rare-hosts N   servers each rare listener is open on (default: 1 in 50)
    --host-fixture FILE    JSON server details: {\"host_id\": {\"host_name\": ..., ...}, ...}
    --stats-skew none|once|always
                           port statistics whose counts do not add up
    --replace N:REMOVE:INSERT
                           once, right after request N: the host it read loses the record at
                           served position REMOVE and gains a new one at position INSERT
                           (total_num unchanged; REMOVE < INSERT shifts the records between
                           them towards the start, REMOVE > INSERT towards the end)
    --verbose, -v          log one line per request to stderr
    --help, -h             show this help

IAM AND ECS METADATA (same listener: IAM is {url}/v3, the metadata service is {url}):
    --project NAME=ID      an IAM project, e.g. cn-north-4=ID (repeatable; a repeated NAME
                           makes the lookup ambiguous)
    --agency DOMAIN:NAME   an agency that assume_role may assume (repeatable)
    --credential-lifetime S
                           lifetime in seconds of every issued temporary credential
                           (default: the requested duration; a day for the metadata service)
    --ecs-agency           the metadata service has agency credentials (else 404)
    --metadata-no-token    the metadata service offers no session token (PUT is a 404)
    --iam-deny-project-lookup
                           GET /v3/projects answers 403

The reference's example host dd91cd32-a238-4c0e-bc01-3b11653714ac is always served.
Control paths (not part of the real API): GET /_sim/stats, GET /_sim/queries.
";

/// Parsed command line.
#[derive(Debug)]
pub struct CliOptions {
    /// The simulator configuration.
    pub config: SimConfig,
    /// Where to write the base URL.
    pub url_file: Option<PathBuf>,
    /// Log requests to stderr.
    pub verbose: bool,
}

/// Result of parsing.
#[derive(Debug)]
pub enum Parsed {
    /// Run with these options.
    Run(Box<CliOptions>),
    /// `--help` was given.
    Help,
}

/// A command-line error: a message for the user (never containing a secret value).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(String);

fn usage(msg: impl Into<String>) -> UsageError {
    UsageError(msg.into())
}

fn rate(flag: &str, v: &str) -> Result<f64, UsageError> {
    match v.parse::<f64>() {
        Ok(f) if (0.0..=1.0).contains(&f) => Ok(f),
        _ => Err(usage(format!("{flag}: expected a number from 0 to 1, got {v:?}"))),
    }
}

fn int<T: std::str::FromStr>(flag: &str, v: &str) -> Result<T, UsageError> {
    v.parse().map_err(|_| usage(format!("{flag}: expected a non-negative integer, got {v:?}")))
}

/// The flag's value: the inline `--flag=value` part, else the next argument.
fn value(flag: &str, inline: Option<String>, rest: &mut impl Iterator<Item = String>) -> Result<String, UsageError> {
    match inline {
        Some(v) => Ok(v),
        None => rest.next().ok_or_else(|| usage(format!("{flag} needs a value"))),
    }
}

/// Parses the arguments (without the program name). Error messages never contain the
/// values of `--token`, `--access-key` or `--secret-key`.
pub fn parse_args<I: IntoIterator<Item = String>>(args: I) -> Result<Parsed, UsageError> {
    let mut cfg = SimConfig::default();
    let mut url_file = None;
    let mut verbose = false;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let f = &mut cfg.faults;
        match flag.as_str() {
            "--help" | "-h" => return Ok(Parsed::Help),
            "--verbose" | "-v" => {
                if inline.is_some() {
                    return Err(usage(format!("{flag} takes no value")));
                }
                verbose = true;
            }
            "--listen" => {
                let v = value(&flag, inline, &mut args)?;
                cfg.listen =
                    v.parse::<SocketAddr>().map_err(|_| usage(format!("--listen: expected IP:PORT, got {v:?}")))?;
            }
            "--url-file" => url_file = Some(PathBuf::from(value(&flag, inline, &mut args)?)),
            "--project-id" => {
                let v = value(&flag, inline, &mut args)?;
                if v.is_empty() || v.chars().count() > 256 || v.contains('/') {
                    return Err(usage("--project-id: expected 1 to 256 characters, no '/'"));
                }
                cfg.project_id = v;
            }
            "--token" => cfg.token = Some(value(&flag, inline, &mut args)?),
            "--access-key" => cfg.access_key = Some(value(&flag, inline, &mut args)?),
            "--secret-key" => cfg.secret_key = Some(value(&flag, inline, &mut args)?),
            "--generate" => {
                let v = value(&flag, inline, &mut args)?;
                let (host, n) =
                    v.rsplit_once('=').ok_or_else(|| usage(format!("--generate: expected HOST=N, got {v:?}")))?;
                if host.is_empty() || host.chars().count() > 128 {
                    return Err(usage("--generate: HOST must have 1 to 128 characters"));
                }
                let n: usize = int("--generate", n)?;
                cfg.generate.push((host.to_string(), n));
            }
            "--fixture" => cfg.fixture = Some(PathBuf::from(value(&flag, inline, &mut args)?)),
            "--seed" => cfg.seed = int(&flag, &value(&flag, inline, &mut args)?)?,
            "--latency-ms" => f.latency = Duration::from_millis(int(&flag, &value(&flag, inline, &mut args)?)?),
            "--rate-429" => f.rate_429 = rate(&flag, &value(&flag, inline, &mut args)?)?,
            "--retry-after" => f.retry_after_secs = Some(int(&flag, &value(&flag, inline, &mut args)?)?),
            "--rate-5xx" => f.rate_5xx = rate(&flag, &value(&flag, inline, &mut args)?)?,
            "--rate-malformed" => f.rate_malformed = rate(&flag, &value(&flag, inline, &mut args)?)?,
            "--rate-drop" => f.rate_drop = rate(&flag, &value(&flag, inline, &mut args)?)?,
            "--rate-repeat-page" => f.rate_repeat_page = rate(&flag, &value(&flag, inline, &mut args)?)?,
            "--rate-short-page" => f.rate_short_page = rate(&flag, &value(&flag, inline, &mut args)?)?,
            "--drift" => {
                let v = value(&flag, inline, &mut args)?;
                f.drift = Drift::parse(&v)
                    .ok_or_else(|| usage(format!("--drift: expected none, once or always, got {v:?}")))?;
            }
            "--fleet" => cfg.fleet.hosts = int(&flag, &value(&flag, inline, &mut args)?)?,
            "--fleet-ports" => cfg.fleet.ports_per_host = int(&flag, &value(&flag, inline, &mut args)?)?,
            "--fleet-pairs" => cfg.fleet.pairs = int(&flag, &value(&flag, inline, &mut args)?)?,
            "--fleet-rare" => cfg.fleet.rare_pairs = int(&flag, &value(&flag, inline, &mut args)?)?,
            "--fleet-rare-hosts" => cfg.fleet.rare_hosts = int(&flag, &value(&flag, inline, &mut args)?)?,
            "--host-fixture" => cfg.host_fixture = Some(PathBuf::from(value(&flag, inline, &mut args)?)),
            "--stats-skew" => {
                let v = value(&flag, inline, &mut args)?;
                cfg.faults.stats_skew = Skew::parse(&v)
                    .ok_or_else(|| usage(format!("--stats-skew: expected none, once or always, got {v:?}")))?;
            }
            iam if IAM_FLAGS.contains(&iam) => parse_iam_flag(iam, inline, &mut args, &mut cfg.iam)?,
            "--replace" => {
                let v = value(&flag, inline, &mut args)?;
                f.replace = Some(Replace::parse(&v).ok_or_else(|| {
                    usage(format!("--replace: expected N:REMOVE:INSERT (N from 1, positions from 0), got {v:?}"))
                })?);
            }
            other if other.starts_with('-') => return Err(usage(format!("unknown flag {other:?} (see --help)"))),
            _ => return Err(usage("unexpected positional argument (hss-sim takes flags only)")),
        }
    }
    if cfg.access_key.is_some() != cfg.secret_key.is_some() {
        return Err(usage("--access-key and --secret-key must be given together"));
    }
    Ok(Parsed::Run(Box::new(CliOptions { config: cfg, url_file, verbose })))
}

/// The flags of the simulated IAM and metadata service.
const IAM_FLAGS: &[&str] = &[
    "--project",
    "--agency",
    "--credential-lifetime",
    "--ecs-agency",
    "--metadata-no-token",
    "--iam-deny-project-lookup",
];

fn parse_iam_flag(
    flag: &str,
    inline: Option<String>,
    args: &mut impl Iterator<Item = String>,
    iam: &mut crate::IamConfig,
) -> Result<(), UsageError> {
    let switch = |inline: Option<String>| match inline {
        Some(_) => Err(usage(format!("{flag} takes no value"))),
        None => Ok(true),
    };
    match flag {
        "--project" => {
            let v = value(flag, inline, args)?;
            let (name, id) = v
                .split_once('=')
                .filter(|(n, i)| !n.is_empty() && !i.is_empty() && !i.contains('/'))
                .ok_or_else(|| usage(format!("--project: expected NAME=ID, got {v:?}")))?;
            iam.projects.push((name.to_owned(), id.to_owned()));
        }
        "--agency" => {
            let v = value(flag, inline, args)?;
            let (domain, agency) = v
                .split_once(':')
                .filter(|(d, a)| !d.is_empty() && !a.is_empty())
                .ok_or_else(|| usage(format!("--agency: expected DOMAIN:NAME, got {v:?}")))?;
            iam.agencies.push((domain.to_owned(), agency.to_owned()));
        }
        "--credential-lifetime" => {
            let secs: u64 = int(flag, &value(flag, inline, args)?)?;
            if secs == 0 {
                return Err(usage("--credential-lifetime: expected at least 1 second"));
            }
            iam.credential_lifetime = Some(Duration::from_secs(secs));
        }
        "--ecs-agency" => iam.ecs_agency = switch(inline)?,
        "--metadata-no-token" => iam.metadata_tokens = Some(!switch(inline)?),
        "--iam-deny-project-lookup" => iam.deny_project_lookup = switch(inline)?,
        other => return Err(usage(format!("unknown flag {other:?} (see --help)"))),
    }
    Ok(())
}

/// Writes `contents` to `path` atomically (temporary file + rename).
fn write_atomically(path: &Path, contents: &str) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp.{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, contents)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Starts the simulator, announces its URL (url file, then stdout) and serves until
/// SIGINT/SIGTERM. Exit code 0 on a clean shutdown, 1 when the simulator cannot start.
pub async fn run(opts: CliOptions) -> ExitCode {
    let handle = match Simulator::start(opts.config).await {
        Ok(h) => h,
        Err(e) => {
            eprintln!("hss-sim: {e}");
            return ExitCode::from(1);
        }
    };
    let url = handle.url();
    if let Some(path) = &opts.url_file
        && let Err(e) = write_atomically(path, &format!("{url}\n"))
    {
        eprintln!("hss-sim: writing {}: {e}", path.display());
        return ExitCode::from(1);
    }
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{url}");
        let _ = out.flush();
    }
    shutdown_signal().await;
    if opts.verbose {
        eprintln!("hss-sim: shutting down");
    }
    drop(handle);
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Parsed, UsageError> {
        parse_args(args.iter().map(|s| s.to_string()))
    }

    fn run_opts(args: &[&str]) -> CliOptions {
        match parse(args) {
            Ok(Parsed::Run(o)) => *o,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn defaults() {
        let o = run_opts(&[]);
        assert_eq!(o.config.listen.to_string(), "127.0.0.1:0");
        assert!(o.url_file.is_none() && !o.verbose);
    }

    #[test]
    fn all_flags() {
        let o = run_opts(&[
            "--listen",
            "127.0.0.1:8080",
            "--url-file=/tmp/u",
            "--project-id",
            "p1",
            "--token",
            "t",
            "--access-key",
            "ak",
            "--secret-key",
            "sk",
            "--generate",
            "h=5",
            "--generate=a=b=7",
            "--fixture",
            "f.json",
            "--seed",
            "9",
            "--latency-ms",
            "15",
            "--rate-429",
            "0.5",
            "--retry-after",
            "3",
            "--rate-5xx",
            "0.1",
            "--rate-malformed",
            "1",
            "--rate-drop",
            "0",
            "--rate-repeat-page",
            "0.2",
            "--rate-short-page",
            "0.3",
            "--drift",
            "once",
            "--replace",
            "3:10:250",
            "-v",
        ]);
        let c = &o.config;
        assert_eq!(c.listen.port(), 8080);
        assert_eq!(o.url_file.as_deref(), Some(Path::new("/tmp/u")));
        assert_eq!(c.project_id, "p1");
        assert_eq!(
            (c.token.as_deref(), c.access_key.as_deref(), c.secret_key.as_deref()),
            (Some("t"), Some("ak"), Some("sk"))
        );
        assert_eq!(c.generate, vec![("h".to_string(), 5), ("a=b".to_string(), 7)]);
        assert_eq!(c.fixture.as_deref(), Some(Path::new("f.json")));
        assert_eq!(c.seed, 9);
        let f = &c.faults;
        assert_eq!(f.latency, Duration::from_millis(15));
        assert_eq!((f.rate_429, f.retry_after_secs, f.rate_5xx), (0.5, Some(3), 0.1));
        assert_eq!((f.rate_malformed, f.rate_drop), (1.0, 0.0));
        assert_eq!((f.rate_repeat_page, f.rate_short_page), (0.2, 0.3));
        assert_eq!(f.drift, Drift::Once);
        assert_eq!(f.replace, Some(Replace { after_request: 3, remove_at: 10, insert_at: 250 }));
        assert!(o.verbose);
    }

    #[test]
    fn fleet_flags() {
        let o = run_opts(&[
            "--fleet=1000",
            "--fleet-ports",
            "50",
            "--fleet-pairs",
            "300",
            "--fleet-rare",
            "5",
            "--fleet-rare-hosts",
            "20",
            "--host-fixture",
            "h.json",
            "--stats-skew",
            "once",
        ]);
        let f = &o.config.fleet;
        assert_eq!((f.hosts, f.ports_per_host, f.pairs, f.rare_pairs, f.rare_hosts), (1000, 50, 300, 5, 20));
        assert_eq!(o.config.host_fixture.as_deref(), Some(Path::new("h.json")));
        assert_eq!(o.config.faults.stats_skew, Skew::Once);
        assert!(parse(&["--stats-skew", "sometimes"]).is_err());
        assert!(parse(&["--fleet", "-1"]).is_err());
    }

    #[test]
    fn iam_flags() {
        let o = run_opts(&[
            "--project",
            "cn-north-4=p1",
            "--project=cn-north-4_sub1=p2",
            "--agency",
            "acme:ops",
            "--credential-lifetime",
            "3",
            "--ecs-agency",
            "--metadata-no-token",
            "--iam-deny-project-lookup",
        ]);
        let iam = &o.config.iam;
        assert_eq!(iam.projects, [("cn-north-4".into(), "p1".into()), ("cn-north-4_sub1".into(), "p2".into())]);
        assert_eq!(iam.agencies, [("acme".to_string(), "ops".to_string())]);
        assert_eq!(iam.credential_lifetime, Some(Duration::from_secs(3)));
        assert!(iam.ecs_agency && iam.deny_project_lookup);
        assert_eq!(iam.metadata_tokens, Some(false));
        for bad in [
            &["--project", "x"][..],
            &["--project", "=id"],
            &["--agency", "acme"],
            &["--credential-lifetime", "0"],
            &["--ecs-agency=1"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn help() {
        assert!(matches!(parse(&["--seed", "1", "--help"]), Ok(Parsed::Help)));
        assert!(matches!(parse(&["-h"]), Ok(Parsed::Help)));
        assert!(USAGE.contains("--url-file"));
    }

    #[test]
    fn errors() {
        for args in [
            &["--bogus"][..],
            &["positional"],
            &["--listen"],
            &["--listen", "nope"],
            &["--generate", "h"],
            &["--generate", "h=x"],
            &["--generate", "=3"],
            &["--seed", "-1"],
            &["--rate-429", "1.5"],
            &["--rate-drop", "nan"],
            &["--drift", "sometimes"],
            &["--replace", "0:1:2"],
            &["--replace", "1:2"],
            &["--access-key", "AK"],
            &["--project-id", ""],
            &["--verbose=1"],
        ] {
            assert!(parse(args).is_err(), "{args:?}");
        }
    }

    #[test]
    fn errors_do_not_echo_secrets() {
        let e = parse(&["--secret-key", "S3CR3T"]).unwrap_err().to_string();
        assert!(!e.contains("S3CR3T"), "{e}");
        let e = parse(&["--token", "T0K3N", "--access-key", "AK"]).unwrap_err().to_string();
        assert!(!e.contains("T0K3N"), "{e}");
        // A stray argument (e.g. a secret with a space in it) is not echoed either.
        let e = parse(&["--token", "T0K", "3N"]).unwrap_err().to_string();
        assert!(!e.contains("3N"), "{e}");
    }
}
