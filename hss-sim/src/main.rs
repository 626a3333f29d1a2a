//! `hss-sim`: command-line front end of the local HSS open-ports simulator (the `hss_sim` library).

use std::process::ExitCode;

use hss_sim::cli::{self, Parsed, USAGE};

fn main() -> ExitCode {
    let opts = match cli::parse_args(std::env::args().skip(1)) {
        Ok(Parsed::Run(opts)) => *opts,
        Ok(Parsed::Help) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("hss-sim: {msg}");
            eprintln!("Try 'hss-sim --help'.");
            return ExitCode::from(2);
        }
    };
    if opts.verbose {
        let _ = tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_max_level(tracing::Level::INFO)
            .with_target(false)
            .with_ansi(false)
            .try_init();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("hss-sim: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(cli::run(opts))
}
