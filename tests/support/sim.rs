//! The HSS simulator for synchronous tests: it runs on its own small runtime, so that a test can
//! block on the Terraform CLI while the simulator keeps answering.

use hss_sim::{SimConfig, SimHandle, Simulator};

pub const PROJECT: &str = "0123456789abcdef0123456789abcdef";
pub const TOKEN: &str = "test-token-d2f1c0";
pub const ACCESS_KEY: &str = "TESTAKEXAMPLE0001";
pub const SECRET_KEY: &str = "test-secret-key-7c1e5b";

pub struct Sim {
    pub handle: SimHandle,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for Sim {
    fn drop(&mut self) {
        // Without waiting: a runtime may not block while being dropped inside an async test.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Sim {
    /// A simulator that accepts our test token and AK/SK, with `cfg`'s data and faults.
    pub fn start(cfg: SimConfig) -> Sim {
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
        let handle = runtime.block_on(Simulator::start(cfg)).expect("simulator starts");
        Sim { handle, runtime: Some(runtime) }
    }

    /// Starts inside an async test: the simulator still gets its own runtime, so that blocking
    /// calls in the test cannot stall it.
    pub async fn start_async(cfg: SimConfig) -> Sim {
        tokio::task::spawn_blocking(move || Sim::start(cfg)).await.expect("simulator thread")
    }

    /// The default test configuration with `hosts` generated.
    pub fn config(hosts: &[(&str, usize)]) -> SimConfig {
        SimConfig {
            project_id: PROJECT.into(),
            token: Some(TOKEN.into()),
            access_key: Some(ACCESS_KEY.into()),
            secret_key: Some(SECRET_KEY.into()),
            generate: hosts.iter().map(|(h, n)| ((*h).to_owned(), *n)).collect(),
            seed: 7,
            ..Default::default()
        }
    }

    pub fn url(&self) -> String {
        self.handle.url()
    }
}
