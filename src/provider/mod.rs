//! The provider instance: its configuration state, the one HSS client every read shares, and the
//! stop signal that cancels reads in flight.
//!
//! Terraform configures a provider process once and then reads many data sources through it,
//! often concurrently (`for_each` over hundreds of hosts). Sharing one client is what makes
//! the concurrency and rate limits provider-wide, and what makes the project ID lookup and the
//! renewal of temporary credentials happen once for all of them.
//!
//! The provider reads its environment only through the injected [`Env`]: `HW_*`, and `HOME`
//! for the default KooCLI profile file.

pub(crate) mod config;
pub(crate) mod profile;

use std::sync::RwLock;

use tokio_util::sync::CancellationToken;

use crate::diagnostics::Diagnostic;
use crate::hss::Client;
use crate::value::Value;

/// What a data source read gets from the provider.
#[derive(Clone)]
pub(crate) struct ReadContext {
    pub(crate) client: Client,
    /// The provider's `enterprise_project_id`, the default for data sources.
    pub(crate) enterprise_project_id: Option<String>,
    /// Fires when Terraform calls `StopProvider` (the user interrupted the run).
    pub(crate) cancel: CancellationToken,
}

enum State {
    Unconfigured,
    /// Configured with values unknown at plan time; reads explain which.
    Unknown(Vec<&'static str>),
    Ready(ReadContext),
}

/// Where the provider reads its `HW_*` variables: the process environment in production, a
/// fixed map in tests, so that a developer's own credentials never leak into a test's verdict.
pub(crate) type Env = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

pub(crate) struct HssProvider {
    state: RwLock<State>,
    stop: CancellationToken,
    env: Env,
}

impl HssProvider {
    /// A provider that reads its environment through `env`.
    pub(crate) fn new(env: Env) -> Self {
        HssProvider { state: RwLock::new(State::Unconfigured), stop: CancellationToken::new(), env }
    }

    /// Validate-time checks: only what the configuration itself can get wrong.
    pub(crate) fn validate(&self, config: &Value) -> Vec<Diagnostic> {
        config::resolve(config, &self.env).diagnostics
    }

    /// Builds the shared client, or says what is missing.
    pub(crate) fn configure(&self, config: &Value, terraform_version: Option<String>) -> Vec<Diagnostic> {
        let resolution = config::resolve(config, &self.env);
        let unknown = resolution.unknown();
        let (state, diags) = if !unknown.is_empty() {
            (State::Unknown(unknown), resolution.diagnostics.clone())
        } else {
            match resolution.client_config(terraform_version) {
                Err(diags) => (State::Unconfigured, diags),
                Ok((client_config, mut warnings)) => match Client::with_env(client_config, &*self.env) {
                    Ok(client) => {
                        tracing::debug!(endpoint = client.base_url(), "provider configured");
                        if client.config().insecure {
                            warnings.push(
                                Diagnostic::warning(
                                    "TLS verification is off",
                                    "insecure = true (or HW_INSECURE): the HSS endpoint's certificate is not \
                                     checked. Use this only against a test endpoint.",
                                )
                                .at(crate::value::AttributePath::root().attr("insecure")),
                            );
                        }
                        if let Some(text) = client.short_secret_warning() {
                            warnings.push(Diagnostic::warning("A credential is too short to be hidden", text));
                        }
                        let ctx = ReadContext {
                            client,
                            enterprise_project_id: resolution.enterprise_project_id(),
                            cancel: self.stop.clone(),
                        };
                        (State::Ready(ctx), warnings)
                    }
                    Err(err) => {
                        (State::Unconfigured, vec![Diagnostic::error("Cannot create the HSS client", err.to_string())])
                    }
                },
            }
        };
        if let Ok(mut guard) = self.state.write() {
            *guard = state;
        }
        diags
    }

    /// The context for a read, or the diagnostic that explains why no read is possible yet.
    pub(crate) fn read_context(&self) -> Result<ReadContext, Diagnostic> {
        let guard = self
            .state
            .read()
            .map_err(|_| Diagnostic::error("Provider state is unavailable", "An earlier call panicked."))?;
        match &*guard {
            State::Ready(ctx) => Ok(ctx.clone()),
            State::Unknown(names) => Err(Diagnostic::error(
                "Provider configuration is not known yet",
                format!(
                    "The provider arguments {} depend on values that are only known after apply, so HSS cannot be \
                     queried during this plan. Apply the resources they depend on first (for example with -target).",
                    names.join(", ")
                ),
            )),
            State::Unconfigured => Err(Diagnostic::error(
                "Provider not configured",
                "Terraform did not configure the hss provider before reading a data source.",
            )),
        }
    }

    /// Cancels every read in flight and every later one: Terraform is shutting the run down.
    pub(crate) fn stop(&self) {
        self.stop.cancel();
    }
}
