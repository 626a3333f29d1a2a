//! Cancellation: StopProvider ends a read that waits on a slow simulator (a request in flight,
//! or a `Retry-After` back-off) within 1 s; and SIGINT to a real `terraform plan` waiting on such
//! a read makes Terraform exit within 2 s, with no provider process left running. The signal
//! goes to Terraform's process group, as Ctrl-C in a terminal sends it (the provider ignores it
//! and relies on StopProvider, as go-plugin plugins do).

mod support;

use std::time::{Duration, Instant};

use hss_sim::{Faults, REFERENCE_HOST_ID, SimConfig, SimHandle, Simulator};
use support::grpc::{Provider, errors, n, s, text};
use support::reliability::procs::{descendants_running, interrupt_group, is_running, provider_exe, spawn_terraform};
use support::sim::{self, PROJECT, Sim, TOKEN};
use support::terraform::{self, Workspace};
use support::wait::{eventually_async, within, within_async};

async fn simulator(faults: Faults) -> SimHandle {
    let cfg = SimConfig { project_id: PROJECT.into(), token: Some(TOKEN.into()), faults, ..Default::default() };
    Simulator::start(cfg).await.expect("simulator starts")
}

/// Starts a read of the reference host, waits until `waiting` says the provider is stuck on the
/// simulator, sends StopProvider and returns how long the read took to end after it.
async fn stop_during(sim: &SimHandle, waiting: impl Fn(&SimHandle) -> bool) -> Duration {
    let mut provider = Provider::start(&[]).await;
    let diags = provider
        .configure(&[
            ("endpoint", s(&sim.url())),
            ("project_id", s(PROJECT)),
            ("token", s(TOKEN)),
            ("request_timeout", n(120)),
        ])
        .await;
    assert!(errors(&diags).is_empty(), "{}", text(&diags));
    let read = tokio::spawn(provider.read_future(&[("host_id", s(REFERENCE_HOST_ID))]));
    eventually_async(Duration::from_secs(10), "the read reaches the simulator", || waiting(sim)).await;
    // A negative check: nothing but StopProvider may end the read, so it must not end on its own
    // within this window. The window is a fixed time, but a slow machine can only make the check
    // less strict (the read has had less chance to end wrongly), never make it fail spuriously.
    let ended = within_async(Duration::from_millis(100), || read.is_finished()).await;
    assert!(!ended, "the read must still be waiting");

    let stopped = Instant::now();
    assert_eq!(provider.stop().await, "", "StopProvider reports no error");
    let result = tokio::time::timeout(Duration::from_secs(10), read).await.expect("the read ends").expect("joins");
    let elapsed = stopped.elapsed();
    let diags = result.expect_err("a stopped read fails");
    assert!(text(&diags).contains("cancelled"), "{}", text(&diags));

    // Every later read is refused at once as well: Terraform is shutting the run down.
    let again = Instant::now();
    let later = provider.read(&[("host_id", s(REFERENCE_HOST_ID))]).await;
    assert!(later.is_err(), "a read after StopProvider must fail");
    assert!(again.elapsed() < Duration::from_secs(1), "{:?}", again.elapsed());
    elapsed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_provider_ends_a_request_in_flight_within_1s() {
    let sim = simulator(Faults { latency: Duration::from_secs(60), ..Default::default() }).await;
    let elapsed = stop_during(&sim, |sim| sim.stats().in_flight >= 1).await;
    println!("StopProvider ended a read waiting on a 60 s response in {} ms", elapsed.as_millis());
    assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_provider_ends_a_retry_after_wait_within_1s() {
    let sim = simulator(Faults { rate_429: 1.0, retry_after_secs: Some(3600), ..Default::default() }).await;
    let elapsed = stop_during(&sim, |sim| sim.stats().status_counts.get(&429).is_some_and(|n| *n >= 1)).await;
    println!("StopProvider ended a read waiting out Retry-After in {} ms", elapsed.as_millis());
    assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}");
    assert_eq!(sim.stats().requests, 1, "no request after the stop");
}

const CONFIG: &str = r#"
terraform {
  required_providers {
    hss = { source = "local/hss" }
  }
}
provider "hss" {}

data "hss_host_ports" "slow" {
  host_id = "dd91cd32-a238-4c0e-bc01-3b11653714ac"
}

output "n" { value = length(data.hss_host_ports.slow.ports) }
"#;

#[test]
fn sigint_makes_terraform_plan_exit_within_2s_leaving_no_provider() {
    let sim = Sim::start(SimConfig {
        faults: Faults { latency: Duration::from_secs(60), ..Default::default() },
        ..Sim::config(&[])
    });
    let url = sim.url();
    let env = [("HW_HSS_ENDPOINT", url.as_str()), ("HW_PROJECT_ID", sim::PROJECT), ("HW_AUTH_TOKEN", sim::TOKEN)];
    for tf in terraform::versions() {
        let ws = Workspace::new(tf, CONFIG);
        let before = sim.handle.stats().requests;
        let mut child = spawn_terraform(&ws, &env, &["plan", "-no-color"]);
        let pid = child.id();
        let reached = within(Duration::from_secs(60), || {
            sim.handle.stats().requests > before || child.try_wait().ok().flatten().is_some()
        });
        let output = |ws: &Workspace| {
            let read = |f| std::fs::read_to_string(ws.dir.path().join(f)).unwrap_or_default();
            format!("{}{}", read("stdout.txt"), read("stderr.txt"))
        };
        assert!(
            reached && sim.handle.stats().requests > before,
            "{}: no read reached HSS:\n{}",
            tf.version,
            output(&ws)
        );
        let providers = descendants_running(pid, &provider_exe());
        assert!(!providers.is_empty(), "{}: no provider process under terraform {pid}", tf.version);

        let interrupted = Instant::now();
        interrupt_group(pid);
        let status = support::proc::wait(&mut child, Duration::from_secs(10));
        let elapsed = interrupted.elapsed();
        let Some(status) = status else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{}: terraform still running 10 s after SIGINT:\n{}", tf.version, output(&ws));
        };
        // Terraform stops its providers before it exits; allow the kernel a moment to reap.
        let gone = within(Duration::from_millis(500), || providers.iter().all(|p| !is_running(*p)));
        println!(
            "terraform {}: exited {} ms after SIGINT ({status}); provider processes {providers:?} gone: {gone}",
            tf.version,
            elapsed.as_millis()
        );
        assert!(elapsed <= Duration::from_secs(2), "{}: took {elapsed:?}:\n{}", tf.version, output(&ws));
        assert!(!status.success(), "{}: an interrupted plan must fail", tf.version);
        assert!(gone, "{}: provider processes {providers:?} still running", tf.version);
        assert!(output(&ws).contains("Interrupt received"), "{}:\n{}", tf.version, output(&ws));
    }
}
