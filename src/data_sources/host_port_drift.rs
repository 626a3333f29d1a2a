//! `hss_host_port_drift`: the open ports of one server checked against a port policy, with an
//! answer a plan can act on: what is unexpected, what is missing, and optionally an error that
//! stops the plan.
//!
//! It takes every argument of `hss_host_ports` (the same [`PortArgs`], so the same names and
//! checks) and reads the same way, with the same completeness guarantee: a drift check that saw
//! a partial list would call a host clean when it is not.

use super::DataSource;
use super::host_ports::{self, Port, PortArgs};
use super::policy_args::{self, GRAMMAR, PolicyArgs};
use crate::diagnostics::Diagnostic;
use crate::model::terraform_model;
use crate::provider::ReadContext;

pub(crate) struct HostPortDrift;

terraform_model! {
    /// What the check finds.
    pub(crate) struct DriftState {
        computed id: String,
            "Identifies the check: the host query (as in `hss_host_ports`) and a fingerprint of the rules.";
        computed unexpected: Vec<Port>,
            "The port records that match no `allowed` rule, in the order and shape of `hss_host_ports.ports`.";
        computed missing: Vec<String>, "The `required` rules that no record matches, as written.";
        computed in_policy: bool, "`true` when nothing is unexpected and nothing is missing.";
        computed summary: String,
            "One line for humans, such as `2 unexpected (TCP/8080 on 0.0.0.0 by /opt/app/bin/server), 0 missing`.";
    }
}

impl DataSource for HostPortDrift {
    type Args = (PortArgs, PolicyArgs);
    type State = DriftState;

    fn type_name(&self) -> &'static str {
        "hss_host_port_drift"
    }

    fn description(&self) -> String {
        format!(
            "Checks the open ports of one server against a port policy: every port record must match an \
             `allowed` rule, and every `required` rule must match a record. It reads all pages like \
             `hss_host_ports` (same arguments, same completeness guarantee). With `fail_on_drift`, drift \
             fails the read with an error that lists it, on every Terraform version. {GRAMMAR}"
        )
    }

    async fn read(&self, ctx: &ReadContext, args: &Self::Args) -> Result<DriftState, Vec<Diagnostic>> {
        let (ports, policy) = args;
        let (query, list) = host_ports::read_ports(ctx, ports).await?;
        let records = super::sorted::<_, host_ports::Port>(list.ports);
        let required = policy.required.as_deref().unwrap_or_default();
        let unexpected: Vec<Port> = policy_args::unexpected(&records, &policy.allowed).into_iter().cloned().collect();
        let missing = policy_args::missing(&records, required);
        let described: Vec<String> = unexpected.iter().map(policy_args::describe).collect();
        let summary = format!(
            "{} unexpected{}, {} missing{}",
            unexpected.len(),
            parenthesised(&described),
            missing.len(),
            parenthesised(&missing),
        );
        if policy.fail_on_drift == Some(true) && !(unexpected.is_empty() && missing.is_empty()) {
            return Err(vec![drift_error(&query.host_id, &described, &missing)]);
        }
        let mut rules = policy_args::texts(&policy.allowed);
        rules.push("|");
        rules.extend(policy_args::texts(required));
        Ok(DriftState {
            id: format!("{}#policy-{}", host_ports::query_id(&query), policy_args::fingerprint(&rules)),
            in_policy: unexpected.is_empty() && missing.is_empty(),
            unexpected,
            missing,
            summary,
        })
    }
}

fn parenthesised(items: &[String]) -> String {
    if items.is_empty() {
        String::new()
    } else {
        format!(" ({})", policy_args::capped(items, policy_args::SUMMARY_ITEMS))
    }
}

/// The error of a failed check: every unexpected port and missing rule, one per line, capped.
fn drift_error(host_id: &str, unexpected: &[String], missing: &[String]) -> Diagnostic {
    let mut detail = Vec::new();
    if !unexpected.is_empty() {
        detail.push(format!(
            "{} open port(s) match no allowed rule:\n{}",
            unexpected.len(),
            policy_args::capped_lines(unexpected, policy_args::DETAIL_ITEMS)
        ));
    }
    if !missing.is_empty() {
        detail.push(format!(
            "{} required rule(s) match no open port:\n{}",
            missing.len(),
            policy_args::capped_lines(missing, policy_args::DETAIL_ITEMS)
        ));
    }
    detail.push("Close what should not be open, or add a rule to `allowed` if it is expected.".into());
    Diagnostic::error(format!("Open ports of host {host_id} drift from the policy"), detail.join("\n\n"))
}
