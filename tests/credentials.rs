//! Credentials and the project ID, the way Huawei Cloud users configure them, through the real
//! provider binary over gRPC against the simulator (which serves IAM and the ECS metadata
//! service too): the project ID looked up once through IAM and shared by concurrent reads;
//! the KooCLI profile file; `assume_role`; ECS agency credentials; temporary credentials
//! renewed in the middle of a read that outlives them; every failure with its diagnostic; and
//! no temporary secret in any log, diagnostic or state.
//!
//! Every provider here gets its environment from the test alone (HOME is a temporary
//! directory) and reaches nothing but the loopback simulator.

mod support;

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use hss_provider::value::Value;
use hss_sim::{IamConfig, IamStats, SimConfig};
use support::auth::{self, AGENCY, DOMAIN, Home, REGION};
use support::grpc::{Provider, errors, n, s, text};
use support::plugin::pb;
use support::reliability::echo::{Echo, EchoServer};
use support::sim::{ACCESS_KEY, PROJECT, SECRET_KEY, Sim, TOKEN};

/// Bounds every test: a hang fails instead of blocking the suite.
const LIMIT: Duration = Duration::from_secs(120);

async fn bounded<T>(what: &str, f: impl Future<Output = T>) -> T {
    tokio::time::timeout(LIMIT, f).await.unwrap_or_else(|_| panic!("{what} took longer than {LIMIT:?}"))
}

/// A provider started with `env` and configured with `attrs` (the full block type, so that
/// `assume_role` can be set); panics on configuration errors.
async fn provider(env: &[(&str, &str)], attrs: &[(&str, Value)]) -> Provider {
    let mut p = Provider::start(env).await;
    p.provider_type = auth::full_provider_type(&mut p).await;
    let diags = p.configure(attrs).await;
    assert!(errors(&diags).is_empty(), "configure: {}", text(&diags));
    p
}

/// A provider whose configuration is expected to fail; returns the diagnostics' text.
async fn configure_fails(env: &[(&str, &str)], attrs: &[(&str, Value)]) -> String {
    let mut p = Provider::start(env).await;
    p.provider_type = auth::full_provider_type(&mut p).await;
    let diags = p.configure(attrs).await;
    assert!(!errors(&diags).is_empty(), "configure should fail");
    text(&diags)
}

/// Reads `host` and returns its port count.
async fn read_count(p: &Provider, host: &str) -> Result<usize, String> {
    match p.read(&[("host_id", s(host))]).await {
        Ok(state) => Ok(state.get("ports").and_then(Value::as_elements).map_or(0, <[Value]>::len)),
        Err(diags) => Err(text(&diags)),
    }
}

async fn read_fails(p: &Provider, host: &str) -> String {
    read_count(p, host).await.expect_err("the read should fail")
}

type Read = Result<Value, Vec<pb::Diagnostic>>;

/// A read running on its own task.
fn spawn_read(p: &Provider, attrs: &[(&str, Value)]) -> tokio::task::JoinHandle<Read> {
    tokio::spawn(p.read_future(attrs))
}

/// Waits for every read (bounded).
async fn all(what: &str, reads: impl IntoIterator<Item = tokio::task::JoinHandle<Read>>) -> Vec<Read> {
    let results = bounded(what, join_all(reads)).await;
    results.into_iter().map(|r| r.expect("read task")).collect()
}

fn iam(sim: &Sim) -> IamStats {
    sim.handle.iam_stats()
}

fn start(cfg: SimConfig) -> impl Future<Output = Sim> {
    Sim::start_async(cfg)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn project_id_is_looked_up_once_for_200_concurrent_reads() {
    let hosts: Vec<String> = (0..200).map(|i| format!("host-{i:03}")).collect();
    let spec: Vec<(&str, usize)> = hosts.iter().map(|h| (h.as_str(), 3)).collect();
    let sim = start(auth::sim_config(&spec)).await;
    let home = Home::empty();
    let env = auth::env(&sim, &home);
    let env = auth::with(&env, &[("HW_ACCESS_KEY", ACCESS_KEY), ("HW_SECRET_KEY", SECRET_KEY)]);
    let p = provider(&env, &[]).await;
    assert_eq!(iam(&sim).project_lookups, 0, "configuring sends nothing");
    let reads = hosts.iter().map(|h| spawn_read(&p, &[("host_id", s(h))]));
    let results = all("200 reads", reads).await;
    for (host, result) in hosts.iter().zip(results) {
        let state = result.unwrap_or_else(|d| panic!("{host}: {}", text(&d)));
        assert_eq!(state.get("total_num"), Some(&n(3)), "{host}");
    }
    assert_eq!(iam(&sim).project_lookups, 1, "one lookup shared by 200 reads");
    assert_eq!(sim.handle.stats().status_counts.get(&200), Some(&200));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn project_lookup_failures_name_the_region_and_what_to_check() {
    let home = Home::empty();
    // No project of that name: a wrong region, or an account without it. Twenty concurrent
    // reads still make one lookup: the failure is shared too.
    let sim = start(auth::sim_config(&[("h", 1)])).await;
    let env = auth::env(&sim, &home);
    let env = auth::with(&env, &[("HW_AUTH_TOKEN", TOKEN), ("HW_REGION_NAME", "eu-west-0")]);
    let p = provider(&env, &[]).await;
    let results = all("20 reads", (0..20).map(|_| spawn_read(&p, &[("host_id", s("h"))]))).await;
    let first = text(&results[0].clone().expect_err("no project"));
    assert!(first.contains("region \"eu-west-0\"") && first.contains("no project named \"eu-west-0\""), "{first}");
    assert!(first.contains("HW_REGION_NAME") && first.contains("project_id"), "{first}");
    assert!(results.iter().all(Result::is_err));
    assert_eq!(iam(&sim).project_lookups, 1);

    // A sub-project by project_name, and several projects of one name.
    let two = SimConfig {
        iam: IamConfig {
            projects: vec![(REGION.into(), PROJECT.into()), (REGION.into(), "another0project0id".into())],
            ..Default::default()
        },
        ..auth::sim_config(&[("h", 1)])
    };
    let sim = start(two).await;
    let env = auth::env(&sim, &home);
    let env = auth::with(&env, &[("HW_AUTH_TOKEN", TOKEN)]);
    let text = read_fails(&provider(&env, &[]).await, "h").await;
    assert!(text.contains("2 projects named \"cn-north-4\"") && text.contains("another0project0id"), "{text}");
    assert!(text.contains("Set project_id"), "{text}");

    // 401: IAM rejects the credentials; the secret key is not quoted.
    let sim = start(auth::sim_config(&[("h", 1)])).await;
    let env = auth::env(&sim, &home);
    let env = auth::with(&env, &[("HW_ACCESS_KEY", ACCESS_KEY), ("HW_SECRET_KEY", "wrong-secret-key-0a1b2c")]);
    let text = read_fails(&provider(&env, &[]).await, "h").await;
    assert!(text.contains("region \"cn-north-4\"") && text.contains("rejected the credentials"), "{text}");
    assert!(text.contains("HTTP 401 APIGW.0301") && text.contains("clock"), "{text}");
    assert!(text.contains("the credentials from the environment (HW_ACCESS_KEY, HW_SECRET_KEY)"), "{text}");
    assert!(!text.contains("wrong-secret-key"), "{text}");

    // 403: the credentials may not list projects.
    let denied = SimConfig {
        iam: IamConfig { deny_project_lookup: true, ..auth::sim_config(&[]).iam },
        ..auth::sim_config(&[("h", 1)])
    };
    let sim = start(denied).await;
    let env = auth::env(&sim, &home);
    let env = auth::with(&env, &[("HW_AUTH_TOKEN", TOKEN)]);
    let text = read_fails(&provider(&env, &[]).await, "h").await;
    assert!(text.contains("region \"cn-north-4\"") && text.contains("refused to list projects"), "{text}");
    assert!(text.contains("HTTP 403") && text.contains("set project_id"), "{text}");

    // Unreachable IAM: the address and what to check.
    let env = auth::env(&sim, &home);
    let env = auth::with(
        &env,
        &[("HW_AUTH_TOKEN", TOKEN), ("HW_AUTH_URL", "http://127.0.0.1:9/v3"), ("HW_MAX_RETRIES", "0")],
    );
    let text = read_fails(&provider(&env, &[]).await, "h").await;
    assert!(text.contains("cannot be reached") && text.contains("127.0.0.1:9"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_and_configure_need_no_credentials_and_send_nothing() {
    let mut cfg = auth::sim_config(&[("h", 1)]);
    cfg.iam.ecs_agency = true;
    let sim = start(cfg).await;
    let home = Home::empty();
    let env = auth::env(&sim, &home);
    let env = auth::with(&env, &[("HW_USE_ECS_AGENCY", "true")]);
    let mut p = Provider::start(&env).await;
    p.provider_type = auth::full_provider_type(&mut p).await;
    let config = support::grpc::config(&p.provider_type, &[("assume_role", auth::role(AGENCY, DOMAIN))]);
    let response = p
        .client
        .validate_provider_config(pb::validate_provider_config::Request { config: Some(config) })
        .await
        .expect("ValidateProviderConfig")
        .into_inner();
    assert!(response.diagnostics.is_empty(), "{}", text(&response.diagnostics));
    let diags = p.configure(&[("assume_role", auth::role(AGENCY, DOMAIN))]).await;
    assert!(errors(&diags).is_empty(), "{}", text(&diags));
    assert_eq!(iam(&sim), IamStats::default(), "nothing is sent before a read");
    assert_eq!(sim.handle.stats().requests, 0);
    // The first read obtains everything.
    assert_eq!(read_count(&p, "h").await, Ok(1));
    let stats = iam(&sim);
    assert_eq!((stats.metadata_key_requests, stats.assume_role_issued, stats.project_lookups), (1, 1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metadata_service_is_never_contacted_unless_asked() {
    let sim = start(auth::sim_config(&[("h", 1)])).await;
    let home = Home::empty();
    let env = auth::env(&sim, &home);
    // No credentials at all: the error names every way, the ECS agency included.
    let text = configure_fails(&auth::with(&env, &[]), &[]).await;
    for way in
        ["HW_AUTH_TOKEN", "HW_ACCESS_KEY", "shared_config_file", "HW_PROFILE", "use_ecs_agency", "HW_USE_ECS_AGENCY"]
    {
        assert!(text.contains(way), "{way}: {text}");
    }
    // Credentials and use_ecs_agency: the credentials come first, and the warning says so.
    let env2 = auth::with(&env, &[("HW_AUTH_TOKEN", TOKEN), ("HW_USE_ECS_AGENCY", "1")]);
    let mut p = Provider::start(&env2).await;
    let diags = p.configure(&[]).await;
    assert!(errors(&diags).is_empty() && support::grpc::text(&diags).contains("ECS agency not used"));
    assert_eq!(read_count(&p, "h").await, Ok(1));
    let stats = iam(&sim);
    assert_eq!((stats.metadata_token_requests, stats.metadata_key_requests), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn koocli_profiles_by_current_by_profile_and_sso() {
    let sim = start(auth::sim_config(&[("h", 2)])).await;
    // Two AK/SK profiles: `current` is the good one; "stale" has a wrong secret key.
    let home = Home::with_file(&auth::koocli(
        "main",
        &[
            auth::aksk_profile("stale", ACCESS_KEY, "stale-secret-key-9f8e7d"),
            auth::aksk_profile("main", ACCESS_KEY, SECRET_KEY),
        ],
    ));
    let env = auth::env(&sim, &home);
    let env: Vec<(&str, &str)> = auth::with(&env, &[]).into_iter().filter(|(k, _)| *k != "HW_REGION_NAME").collect();
    let p = provider(&env, &[]).await;
    assert_eq!(read_count(&p, "h").await, Ok(2), "current profile, its region, project looked up");
    // Chosen by `profile` (the block) and by HW_PROFILE: the stale profile's key is refused.
    let p = provider(&env, &[("profile", s("stale"))]).await;
    let text = read_fails(&p, "h").await;
    assert!(text.contains("profile \"stale\" of ") && text.contains("rejected the credentials"), "{text}");
    assert!(!text.contains("stale-secret-key"), "{text}");
    let mut with_env = env.clone();
    with_env.push(("HW_PROFILE", "stale"));
    assert!(read_count(&provider(&with_env, &[]).await, "h").await.is_err());
    // The block's profile wins over HW_PROFILE.
    assert_eq!(read_count(&provider(&with_env, &[("profile", s("main"))]).await, "h").await, Ok(2));

    // SSO: the profile's STS token, temporary credentials the simulated IAM issued.
    let (access, secret, token) = sim.handle.issue_temporary(Duration::from_secs(3600));
    let sso = Home::with_file(&auth::koocli("sso", &[auth::sso_profile("sso", &access, &secret, &token)]));
    let env = auth::env(&sim, &sso);
    let p = provider(&auth::with(&env, &[]), &[]).await;
    let accepted = iam(&sim).temporary_accepted;
    assert_eq!(read_count(&p, "h").await, Ok(2));
    assert_eq!(iam(&sim).temporary_accepted, accepted + 2, "lookup and read signed with the STS token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn koocli_file_problems_are_named_without_a_key() {
    let sim = start(auth::sim_config(&[("h", 1)])).await;
    let cases: Vec<(String, &str)> = vec![
        ("{\"current\": \"main\", \"profiles\": [ sk-not-json-secret ]".into(), "is not valid JSON"),
        (
            auth::koocli(
                "main",
                &[
                    serde_json::json!({"name":"main","mode":"AKSK","accessKeyId":"QUtFTkM=","secretAccessKey":"c2stZW5jcnlwdGVk","crypter":"aes-256-gcm","nonce":"bm9uY2U="}),
                ],
            ),
            "--cli-auth-encrypt=false",
        ),
        (auth::koocli("main", &[auth::aksk_profile("main", "", "sk-empty-ak-secret")]), "empty accessKeyId"),
        (auth::koocli("main", &[auth::aksk_profile("main", ACCESS_KEY, "sk with spaces secret")]), "malformed"),
        (auth::koocli("other", &[auth::aksk_profile("main", ACCESS_KEY, SECRET_KEY)]), "no profile \"other\""),
    ];
    for (contents, want) in cases {
        let home = Home::with_file(&contents);
        let env = auth::env(&sim, &home);
        let text = configure_fails(&auth::with(&env, &[]), &[]).await;
        assert!(text.contains(want), "{want}: {text}");
        assert!(text.contains(&home.file().display().to_string()), "names the file: {text}");
        for secret in
            ["sk-not-json-secret", "c2stZW5jcnlwdGVk", "QUtFTkM", "sk-empty-ak-secret", "sk with spaces", SECRET_KEY]
        {
            assert!(!text.contains(secret), "{text}");
        }
    }
    // An explicit file that is missing is an error; the default one missing is not.
    let home = Home::empty();
    let env = auth::env(&sim, &home);
    let text = configure_fails(&auth::with(&env, &[("HW_SHARED_CONFIG_FILE", "/nonexistent/hcloud.json")]), &[]).await;
    assert!(text.contains("/nonexistent/hcloud.json") && text.contains("does not exist"), "{text}");
    let p = provider(&auth::with(&env, &[("HW_AUTH_TOKEN", TOKEN)]), &[]).await;
    assert_eq!(read_count(&p, "h").await, Ok(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assume_role_from_aksk_from_a_token_and_from_the_environment() {
    let sim = start(auth::sim_config(&[("h", 4)])).await;
    let home = Home::empty();
    let env = auth::env(&sim, &home);
    let aksk = auth::with(&env, &[("HW_ACCESS_KEY", ACCESS_KEY), ("HW_SECRET_KEY", SECRET_KEY)]);
    let p = provider(&aksk, &[("assume_role", auth::role(AGENCY, DOMAIN))]).await;
    assert_eq!(read_count(&p, "h").await, Ok(4));
    let stats = iam(&sim);
    assert_eq!(stats.assume_role_issued, 1);
    // The project lookup and the HSS read both used the temporary credentials.
    assert_eq!(stats.temporary_accepted, 2, "{stats:?}");

    let token = auth::with(&env, &[("HW_AUTH_TOKEN", TOKEN)]);
    let p = provider(&token, &[("assume_role", auth::role(AGENCY, DOMAIN))]).await;
    assert_eq!(read_count(&p, "h").await, Ok(4));
    assert_eq!(iam(&sim).assume_role_issued, 2);

    // HW_ASSUME_ROLE_* without a block.
    let mut by_env = token.clone();
    by_env.extend([
        ("HW_ASSUME_ROLE_AGENCY_NAME", AGENCY),
        ("HW_ASSUME_ROLE_DOMAIN_NAME", DOMAIN),
        ("HW_ASSUME_ROLE_DURATION", "900"),
    ]);
    let p = provider(&by_env, &[]).await;
    assert_eq!(read_count(&p, "h").await, Ok(4));
    assert_eq!(iam(&sim).assume_role_issued, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assume_role_failures_name_the_agency_and_what_to_check() {
    let sim = start(auth::sim_config(&[("h", 1)])).await;
    let home = Home::empty();
    let env = auth::env(&sim, &home);
    let token = auth::with(&env, &[("HW_AUTH_TOKEN", TOKEN), ("HW_PROJECT_ID", PROJECT)]);
    let text = read_fails(&provider(&token, &[("assume_role", auth::role("no-such-agency", DOMAIN))]).await, "h").await;
    assert!(text.contains("cannot assume agency \"no-such-agency\" of domain \"acme-ops\""), "{text}");
    assert!(text.contains("HTTP 403") && text.contains("HW_ASSUME_ROLE_AGENCY_NAME"), "{text}");
    let bad = auth::with(&env, &[("HW_AUTH_TOKEN", "wrong-token-1f2e3d4c"), ("HW_PROJECT_ID", PROJECT)]);
    let text = read_fails(&provider(&bad, &[("assume_role", auth::role(AGENCY, DOMAIN))]).await, "h").await;
    assert!(text.contains("rejected the base credentials") && !text.contains("wrong-token-1f2e3d4c"), "{text}");
    // A duration out of range, and half a role, are configuration errors.
    let mut short = auth::role(AGENCY, DOMAIN);
    if let Value::Object(m) = &mut short {
        m.insert("duration".into(), n(600));
    }
    let mut p = Provider::start(&token).await;
    p.provider_type = auth::full_provider_type(&mut p).await;
    let diags = p.configure(&[("assume_role", short)]).await;
    assert!(text_of(&diags).contains("900 to 43200"), "{}", text_of(&diags));
    let mut half = token.clone();
    half.push(("HW_ASSUME_ROLE_AGENCY_NAME", AGENCY));
    let text = configure_fails(&half, &[]).await;
    assert!(text.contains("Missing assume_role domain_name"), "{text}");
}

fn text_of(diags: &[pb::Diagnostic]) -> String {
    text(diags)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ecs_agency_credentials_with_and_without_a_session_token() {
    let ecs = |tokens: bool| SimConfig {
        iam: IamConfig { ecs_agency: true, metadata_tokens: Some(tokens), ..auth::sim_config(&[]).iam },
        ..auth::sim_config(&[("h", 3)])
    };
    for tokens in [true, false] {
        let sim = start(ecs(tokens)).await;
        let home = Home::empty();
        let env = auth::env(&sim, &home);
        let p = provider(&auth::with(&env, &[("HW_USE_ECS_AGENCY", "true")]), &[]).await;
        assert_eq!(read_count(&p, "h").await, Ok(3), "session tokens: {tokens}");
        let stats = iam(&sim);
        assert_eq!((stats.metadata_token_requests, stats.metadata_key_requests, stats.metadata_issued), (1, 1, 1));
        assert_eq!(stats.temporary_accepted, 2, "lookup and read with the ECS credentials");
        // On top of them, an agency to assume.
        let p = provider(
            &auth::with(&env, &[("HW_USE_ECS_AGENCY", "true")]),
            &[("assume_role", auth::role(AGENCY, DOMAIN))],
        )
        .await;
        assert_eq!(read_count(&p, "h").await, Ok(3));
        assert_eq!(iam(&sim).assume_role_issued, 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ecs_agency_failures() {
    // The instance has no agency: 404 from the metadata service.
    let sim = start(auth::sim_config(&[("h", 1)])).await;
    let home = Home::empty();
    let env = auth::env(&sim, &home);
    let text = read_fails(&provider(&auth::with(&env, &[("HW_USE_ECS_AGENCY", "true")]), &[]).await, "h").await;
    assert!(text.contains("has no agency credentials") && text.contains("attach an agency"), "{text}");
    // No metadata service at all (a closed loopback port): says where, and what it is for.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let env2 = auth::with(&env, &[("HW_USE_ECS_AGENCY", "true"), ("HW_ECS_METADATA_ENDPOINT", &url)]);
    let text = read_fails(&provider(&env2, &[]).await, "h").await;
    assert!(
        text.contains(&url) && text.contains("cannot be reached") && text.contains("HW_ECS_METADATA_ENDPOINT"),
        "{text}"
    );
}

/// Temporary credentials live 3 s; the reads take about 5 s (over 200 pages at 50 ms, 2 at a
/// time), so they must be renewed in the middle of them, without a single 401. The three reads
/// at once share the renewals.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_shorter_lived_than_a_read_are_renewed_mid_read() {
    for source in ["assume_role", "ecs"] {
        let mut cfg = auth::sim_config(&[("slow-a", 700), ("slow-b", 700), ("slow-c", 600)]);
        cfg.iam.credential_lifetime = Some(Duration::from_secs(3));
        cfg.iam.ecs_agency = true;
        cfg.faults.latency = Duration::from_millis(50);
        let sim = start(cfg).await;
        let home = Home::empty();
        let env = auth::env(&sim, &home);
        let mut env = auth::with(&env, &[("HW_MAX_CONCURRENT_REQUESTS", "2"), ("HW_PROJECT_ID", PROJECT)]);
        let mut attrs = Vec::new();
        if source == "ecs" {
            env.push(("HW_USE_ECS_AGENCY", "true"));
        } else {
            env.extend([("HW_ACCESS_KEY", ACCESS_KEY), ("HW_SECRET_KEY", SECRET_KEY)]);
            attrs.push(("assume_role", auth::role(AGENCY, DOMAIN)));
        }
        let p = provider(&env, &attrs).await;
        let started = Instant::now();
        let reads = ["slow-a", "slow-b", "slow-c"].map(|h| spawn_read(&p, &[("host_id", s(h)), ("page_size", n(10))]));
        let results = all("slow reads", reads).await;
        let elapsed = started.elapsed();
        for r in &results {
            assert!(r.is_ok(), "{source}: {}", r.as_ref().err().map(|d| text(d)).unwrap_or_default());
        }
        let stats = iam(&sim);
        let issued = if source == "ecs" { stats.metadata_issued } else { stats.assume_role_issued };
        let hss = sim.handle.stats();
        assert!(hss.requests >= 200, "{source}: 200 pages or more ({})", hss.requests);
        assert_eq!(hss.status_counts.get(&401), None, "{source}: no request was signed with expired credentials");
        assert!(elapsed > Duration::from_secs(4), "{source}: the read outlives the credentials ({elapsed:?})");
        // One issue at the start, then one renewal every 2 s (a third of the lifetime ahead).
        let most = 2 + elapsed.as_secs() / 2;
        eprintln!("{source}: {} pages in {elapsed:?}, {issued} credentials issued", hss.requests);
        assert!((2..=most).contains(&issued), "{source}: {issued} issues in {elapsed:?} (at most {most})");
        assert_eq!(stats.temporary_accepted, hss.requests, "{source}: every page signed with temporary credentials");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn temporary_secrets_never_reach_logs_diagnostics_or_state() {
    let mut cfg = auth::sim_config(&[("h", 5)]);
    cfg.iam.ecs_agency = true;
    let sim = start(cfg).await;
    let home = Home::empty();
    let env = auth::env(&sim, &home);
    // An HSS endpoint that echoes the request headers (the security token among them) into
    // its error, as a misconfigured gateway may.
    let echo_msg = EchoServer::start(Echo::ErrorMsg);
    let echo_html = EchoServer::start(Echo::Html);
    let mut outputs = Vec::new();
    for (extra, attrs) in [
        (vec![("HW_USE_ECS_AGENCY", "true")], vec![("assume_role", auth::role(AGENCY, DOMAIN))]),
        (
            vec![("HW_ACCESS_KEY", ACCESS_KEY), ("HW_SECRET_KEY", SECRET_KEY)],
            vec![("assume_role", auth::role(AGENCY, DOMAIN))],
        ),
        (vec![("HW_USE_ECS_AGENCY", "true")], vec![]),
    ] {
        for endpoint in [sim.url(), echo_msg.url.clone(), echo_html.url.clone()] {
            let mut extra = extra.clone();
            extra.extend([("TF_LOG_PROVIDER", "TRACE"), ("HW_PROJECT_ID", PROJECT), ("HW_MAX_RETRIES", "0")]);
            extra.push(("HW_HSS_ENDPOINT", &endpoint));
            let p = provider(&auth::with(&env, &extra), &attrs).await;
            let result = p.read(&[("host_id", s("h"))]).await;
            assert_eq!(result.is_ok(), endpoint == sim.url(), "{endpoint}");
            outputs.push(format!("{result:?}"));
            outputs.push(p.stderr());
        }
    }
    let secrets = sim.handle.issued_secrets();
    assert!(secrets.len() >= 15, "{} secrets issued", secrets.len());
    for (i, out) in outputs.iter().enumerate() {
        auth::assert_no_secret(&format!("output {i}"), out, &secrets);
        assert!(!out.contains(SECRET_KEY), "output {i}");
    }
    assert!(outputs[1].contains("temporary credentials obtained"), "the log shows renewals without their values");
    assert!(outputs[2].contains("***"), "the echoed security token was redacted: {}", outputs[2]);
}
