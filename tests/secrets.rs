//! Secret hygiene: with TRACE logging on, the token, the secret key and the security token never
//! appear in the provider's stderr, in any diagnostic, in the state, or (with the real Terraform
//! CLI) in Terraform's output, its TF_LOG_PATH log or the state file; on success, on a wrong
//! secret key, on a refused token, on a security token that cannot be sent, and when a server
//! or proxy echoes the request headers back in its error.

mod support;

use hss_provider::value::Value;
use hss_sim::REFERENCE_HOST_ID;
use support::grpc::{Provider, errors, n, s, text};
use support::plugin::pb;
use support::reliability::echo::{Echo, EchoServer};
use support::sim::{self, ACCESS_KEY, PROJECT, SECRET_KEY, Sim, TOKEN};
use support::terraform::{self, Workspace};

/// Sent as `X-Security-Token` with AK/SK (the simulator checks it is signed, not its value).
const SECURITY_TOKEN: &str = "sts-security-token-4f0d9e2a7c";
/// A token the simulator refuses: still the user's secret.
const WRONG_TOKEN: &str = "wrong-token-value-91c2d3e4";
/// A secret key that signs wrongly: still the user's secret.
const WRONG_SECRET_KEY: &str = "wrong-secret-key-5a6b7c8d";
/// A security token with a byte no header may carry.
const UNSENDABLE_SECURITY_TOKEN: &str = "unsendable-sts-token-\u{7f}-0ff1ce";

const SECRETS: [&str; 6] =
    [TOKEN, SECRET_KEY, SECURITY_TOKEN, WRONG_TOKEN, WRONG_SECRET_KEY, UNSENDABLE_SECURITY_TOKEN];

/// The secrets found in `text`, each also looked for without its last character and, for the
/// unsendable one, by its printable start (a truncated or escaped copy is still a leak).
fn leaked(text: &str) -> Vec<&'static str> {
    SECRETS
        .iter()
        .filter(|secret| {
            let head: String = secret.chars().take_while(|c| !c.is_control()).collect();
            let trimmed = &secret[..secret.len() - 1];
            text.contains(*secret) || text.contains(trimmed) || text.contains(&head)
        })
        .copied()
        .collect()
}

/// Provider block attributes.
type Attrs = Vec<(&'static str, Value)>;

fn token(endpoint: &str, token: &str) -> Attrs {
    vec![("endpoint", s(endpoint)), ("project_id", s(PROJECT)), ("token", s(token))]
}

fn aksk(endpoint: &str, secret_key: &str, security_token: &str) -> Attrs {
    vec![
        ("endpoint", s(endpoint)),
        ("project_id", s(PROJECT)),
        ("access_key", s(ACCESS_KEY)),
        ("secret_key", s(secret_key)),
        ("security_token", s(security_token)),
    ]
}

/// One provider process at TRACE: configure, read the reference host; returns everything the
/// provider said (diagnostics, state, stderr) and whether the read succeeded.
async fn scenario(config: &[(&'static str, Value)]) -> (bool, String) {
    let mut provider = Provider::start(&[("TF_LOG", "TRACE"), ("TF_LOG_PROVIDER", "TRACE")]).await;
    let mut said = String::new();
    let diags = provider.configure(config).await;
    said.push_str(&text(&diags));
    let validated = provider
        .client
        .validate_provider_config(pb::validate_provider_config::Request {
            config: Some(pb::DynamicValue {
                msgpack: hss_provider::value::encode_msgpack(
                    &support::grpc::object(&provider.provider_type, config),
                    &provider.provider_type,
                )
                .expect("encode"),
                json: Vec::new(),
            }),
        })
        .await
        .expect("ValidateProviderConfig")
        .into_inner();
    said.push_str(&text(&validated.diagnostics));
    let ok = if errors(&diags).is_empty() {
        match provider.read(&[("host_id", s(REFERENCE_HOST_ID))]).await {
            Ok(state) => {
                said.push_str(&format!("{state:?}"));
                true
            }
            Err(diags) => {
                said.push_str(&text(&diags));
                false
            }
        }
    } else {
        false
    };
    // Shut the provider down and read its stderr to end of file: every line it ever logged,
    // the shutdown's included.
    let (status, stderr) = provider.shutdown(std::time::Duration::from_secs(10)).await;
    assert!(status.success(), "the provider exits cleanly on Shutdown ({status}):\n{stderr}");
    assert!(stderr.contains("\"@level\":\"trace\""), "TRACE logging is on:\n{stderr}");
    said.push_str(&stderr);
    (ok, said)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_never_shows_a_secret_over_grpc() {
    let sim = hss_sim::Simulator::start(sim::Sim::config(&[])).await.expect("simulator");
    let url = sim.url();
    let echo_msg = EchoServer::start(Echo::ErrorMsg);
    let echo_html = EchoServer::start(Echo::Html);
    let echo_malformed = EchoServer::start(Echo::Malformed);
    let with = |mut c: Attrs, extra: &[(&'static str, i64)]| {
        c.extend(extra.iter().map(|(k, v)| (*k, n(*v))));
        c
    };
    let cases: Vec<(&str, Attrs, bool)> = vec![
        ("token, read succeeds", token(&url, TOKEN), true),
        ("AK/SK with security token, read succeeds", aksk(&url, SECRET_KEY, SECURITY_TOKEN), true),
        ("AK/SK with a wrong secret key: 401", aksk(&url, WRONG_SECRET_KEY, SECURITY_TOKEN), false),
        ("a refused token: 401", token(&url, WRONG_TOKEN), false),
        ("a security token no header can carry", aksk(&url, SECRET_KEY, UNSENDABLE_SECURITY_TOKEN), false),
        (
            "token and AK/SK together",
            {
                let mut c = token(&url, TOKEN);
                c.extend(aksk(&url, SECRET_KEY, SECURITY_TOKEN).into_iter().skip(2));
                c
            },
            false,
        ),
        ("400 echoing the headers in error_msg", token(&echo_msg.url, TOKEN), false),
        ("400 echoing the security token", aksk(&echo_msg.url, SECRET_KEY, SECURITY_TOKEN), false),
        ("502 page echoing the headers", with(token(&echo_html.url, TOKEN), &[("max_retries", 1)]), false),
        ("truncated 200 echoing the headers", with(token(&echo_malformed.url, TOKEN), &[("max_retries", 0)]), false),
    ];
    let mut leaks = Vec::new();
    for (name, config, should_succeed) in &cases {
        let (ok, said) = scenario(config).await;
        assert_eq!(ok, *should_succeed, "{name}:\n{said}");
        let found = leaked(&said);
        println!("{name}: {} bytes of diagnostics, state and TRACE log, secrets found: {found:?}", said.len());
        if !found.is_empty() {
            leaks.push(format!("{name}: {found:?}"));
        }
    }
    // The echo servers really received the secrets, and sent them back.
    for server in [&echo_msg, &echo_html, &echo_malformed] {
        let heads = server.requests().join("\n");
        assert!(heads.contains(TOKEN), "the echo server saw the token: {heads}");
    }
    assert!(echo_msg.requests().join("\n").contains(SECURITY_TOKEN));
    assert!(leaks.is_empty(), "secrets leaked:\n{}", leaks.join("\n"));
}

/// An HSS error whose `error_code` echoes the request headers: the provider shows `error_code`
/// as it came, so it must be scrubbed there too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_echoed_in_error_code_is_not_shown() {
    let echo = EchoServer::start(Echo::ErrorCode);
    let (ok, said) = scenario(&token(&echo.url, TOKEN)).await;
    assert!(!ok);
    assert!(echo.requests().join("\n").contains(TOKEN), "the echo server saw the token");
    assert_eq!(leaked(&said), Vec::<&str>::new(), "{said}");
}

/// A loopback server that answers every request with a valid page and echoes the request's
/// `X-Auth-Token` in `X-Request-Id`, as a gateway that derives request ids from headers might:
/// the provider logs the request id at DEBUG, so the token would reach the log.
fn request_id_echo_server() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::Write as _;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let heads = seen.clone();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(5)));
            let Some(buf) = support::loopback::read_request_head_blocking(&mut stream) else { continue };
            let head = String::from_utf8_lossy(&buf).into_owned();
            let token = head
                .lines()
                .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("x-auth-token")))
                .map(|(_, v)| v.trim().to_owned())
                .unwrap_or_default();
            heads.lock().expect("heads").push(head);
            let body = r#"{"total_num":1,"data_list":[{"port":68,"type":"UDP"}]}"#;
            let resp = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Request-Id: rid-{token}\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(resp.as_bytes());
        }
    });
    (url, seen)
}

/// A token echoed in `X-Request-Id` reaches neither the DEBUG/TRACE log nor anything else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_echoed_in_a_response_header_is_not_logged() {
    let (url, heads) = request_id_echo_server();
    let (ok, said) = scenario(&token(&url, TOKEN)).await;
    assert!(ok, "{said}");
    assert!(heads.lock().unwrap().join("\n").contains(TOKEN), "the server saw the token");
    assert!(said.contains("rid-***"), "the request id is logged, scrubbed:\n{said}");
    assert_eq!(leaked(&said), Vec::<&str>::new(), "{said}");
}

const PROVIDER: &str = r#"
terraform {
  required_providers {
    hss = { source = "local/hss" }
  }
}
"#;

const READ: &str = r#"
data "hss_host_ports" "ref" {
  host_id = "dd91cd32-a238-4c0e-bc01-3b11653714ac"
}
output "ports" { value = data.hss_host_ports.ref.ports }
"#;

/// Runs `args` in a TRACE-logging workspace; returns whether it succeeded and every output,
/// the TF_LOG_PATH log and the state file.
fn terraform_scenario(ws: Workspace, args: &[&[&str]]) -> (bool, String) {
    let log = ws.dir.path().join("terraform.log");
    let ws = ws.env("TF_LOG", "TRACE").env("TF_LOG_PATH", log.to_str().expect("utf-8 path"));
    let mut all = String::new();
    let mut ok = true;
    for a in args {
        let out = ws.run(a);
        ok &= out.status.success();
        all.push_str(&out.text());
        if !out.status.success() {
            break;
        }
    }
    let log = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(log.contains("provider.terraform-provider-hss"), "the provider's log reached TF_LOG_PATH");
    all.push_str(&log);
    all.push_str(&std::fs::read_to_string(ws.dir.path().join("terraform.tfstate")).unwrap_or_default());
    (ok, all)
}

#[test]
fn terraform_output_logs_and_state_hold_no_secret() {
    let sim = Sim::start(Sim::config(&[]));
    let echo = EchoServer::start(Echo::Html);
    let apply: &[&[&str]] = &[&["apply", "-auto-approve", "-no-color"], &["output", "-json"], &["show", "-json"]];
    let plan: &[&[&str]] = &[&["plan", "-no-color"]];
    let mut leaks = Vec::new();
    for tf in terraform::versions() {
        let env_ws = |env: &[(&str, &str)], provider_block: &str| {
            let mut ws = Workspace::new(tf, &format!("{PROVIDER}\n{provider_block}\n{READ}"));
            for (k, v) in env {
                ws = ws.env(k, v);
            }
            ws
        };
        let url = sim.url();
        let base = [("HW_HSS_ENDPOINT", url.as_str()), ("HW_PROJECT_ID", PROJECT)];
        let aksk = |sk| [("HW_ACCESS_KEY", ACCESS_KEY), ("HW_SECRET_KEY", sk), ("HW_SECURITY_TOKEN", SECURITY_TOKEN)];
        let in_config = format!("provider \"hss\" {{\n  token = \"{TOKEN}\"\n}}");
        let scenarios: Vec<(&str, Workspace, &[&[&str]], bool)> = vec![
            (
                "token from HW_AUTH_TOKEN",
                env_ws(&[base[0], base[1], ("HW_AUTH_TOKEN", TOKEN)], "provider \"hss\" {}"),
                apply,
                true,
            ),
            (
                "AK/SK and security token from the environment",
                env_ws(&[&base[..], &aksk(SECRET_KEY)[..]].concat(), "provider \"hss\" {}"),
                apply,
                true,
            ),
            ("token in the provider block", env_ws(&base, &in_config), apply, true),
            (
                "a wrong secret key",
                env_ws(&[&base[..], &aksk(WRONG_SECRET_KEY)[..]].concat(), "provider \"hss\" {}"),
                plan,
                false,
            ),
            (
                "a 502 page echoing the headers",
                env_ws(
                    &[
                        ("HW_HSS_ENDPOINT", echo.url.as_str()),
                        ("HW_PROJECT_ID", PROJECT),
                        ("HW_AUTH_TOKEN", TOKEN),
                        ("HW_MAX_RETRIES", "0"),
                    ],
                    "provider \"hss\" {}",
                ),
                plan,
                false,
            ),
        ];
        for (name, ws, args, should_succeed) in scenarios {
            let (ok, all) = terraform_scenario(ws, args);
            assert_eq!(ok, should_succeed, "{} {name}:\n{}", tf.version, all.chars().take(4000).collect::<String>());
            let found = leaked(&all);
            println!(
                "terraform {} {name}: {} bytes of output, log and state, secrets found: {found:?}",
                tf.version,
                all.len()
            );
            if !found.is_empty() {
                leaks.push(format!("terraform {} {name}: {found:?}", tf.version));
            }
        }
    }
    assert!(echo.requests().join("\n").contains(TOKEN), "the echo server saw the token");
    assert!(leaks.is_empty(), "secrets leaked:\n{}", leaks.join("\n"));
}

#[tokio::test]
async fn a_secret_too_short_to_hide_is_warned_about_when_configuring() {
    let warning = |diags: &[pb::Diagnostic]| {
        diags
            .iter()
            .filter(|d| d.severity == pb::diagnostic::Severity::Warning as i32)
            .map(|d| format!("{}: {}", d.summary, d.detail))
            .collect::<Vec<_>>()
    };
    let mut provider = Provider::start(&[]).await;
    let diags = provider.configure(&token("http://127.0.0.1:9", "xyz")).await;
    assert!(errors(&diags).is_empty(), "{}", text(&diags));
    let warned = warning(&diags);
    assert_eq!(warned.len(), 1, "{warned:?}");
    assert!(
        warned[0].starts_with("A credential is too short to be hidden: 1 of the configured credentials"),
        "{warned:?}"
    );
    assert!(!warned[0].contains("xyz"), "the warning names no value: {warned:?}");
    // A real-length secret gets no such warning.
    let mut provider = Provider::start(&[]).await;
    let diags = provider.configure(&token("http://127.0.0.1:9", TOKEN)).await;
    assert!(warning(&diags).is_empty(), "{}", text(&diags));
}
