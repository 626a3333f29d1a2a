//! The `terraform-provider-hss` binary: parses its few flags and hands over to the plugin server.

use std::process::ExitCode;

use hss_provider::protocol::ProviderService;

const USAGE: &str = "\
terraform-provider-hss: Terraform provider for Huawei Cloud Host Security Service (HSS)

Terraform starts this binary itself. By hand:
  terraform-provider-hss --debug     serve in debug mode and print TF_REATTACH_PROVIDERS
  terraform-provider-hss --version   print the version
";

fn main() -> ExitCode {
    let arg = std::env::args().nth(1);
    match arg.as_deref() {
        Some("--version" | "-v") => {
            println!("terraform-provider-hss {}", hss_provider::VERSION);
            return ExitCode::SUCCESS;
        }
        Some("--help" | "-h") => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some("--debug") | None => {}
        Some(other) => {
            eprint!("unknown argument {other:?}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    }
    hss_provider::init_logging();
    // One thread: the work is I/O-bound, and a single-threaded runtime starts fastest.
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("terraform-provider-hss: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let provider = ProviderService::new();
    runtime.block_on(async {
        if arg.is_some() {
            hss_provider::plugin::debug::serve(provider).await
        } else {
            hss_provider::plugin::serve(provider).await
        }
    })
}
