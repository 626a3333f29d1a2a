//! Provider functions (protocol 6.5+: Terraform ≥ 1.8, OpenTofu ≥ 1.7): the port-policy
//! matcher, callable from HCL as `provider::hss::unexpected_ports(...)` and
//! `provider::hss::port_allowed(...)`.
//!
//! Functions need no provider configuration (Terraform may call them on an unconfigured
//! provider), so they take plain values and the same [`crate::policy`] matcher the drift data
//! sources use. `protocol` decodes the arguments and encodes the result; this module knows no
//! protocol types.

use crate::data_sources::policy_args::{GRAMMAR, parse_rules};
use crate::policy::{Listener, Rule};
use crate::value::{Type, Value};

/// One parameter of a function.
pub(crate) struct Parameter {
    pub(crate) name: &'static str,
    pub(crate) ty: Type,
    pub(crate) description: String,
}

/// A function error: the text, and the zero-based index of the argument at fault.
#[derive(Debug, PartialEq)]
pub(crate) struct CallError {
    pub(crate) text: String,
    pub(crate) argument: Option<usize>,
}

impl CallError {
    fn at(argument: usize, text: impl Into<String>) -> Self {
        CallError { text: text.into(), argument: Some(argument) }
    }
}

/// An argument as decoded: its value and, for `dynamic` parameters, its concrete type.
pub(crate) struct Argument {
    pub(crate) value: Value,
    pub(crate) ty: Type,
}

type Call = fn(&[Argument]) -> Result<(Value, Type), CallError>;

pub(crate) struct Function {
    pub(crate) name: &'static str,
    pub(crate) summary: &'static str,
    pub(crate) description: String,
    pub(crate) parameters: Vec<Parameter>,
    /// The declared return type; `dynamic` results carry their concrete type from `call`.
    pub(crate) returns: Type,
    pub(crate) call: Call,
}

/// Every function, by name.
pub(crate) fn all() -> Vec<Function> {
    let allowed = || Parameter {
        name: "allowed",
        ty: Type::list(Type::String),
        description: format!("The rules of what may be open. {GRAMMAR}"),
    };
    vec![
        Function {
            name: "unexpected_ports",
            summary: "The port records that match no allowed rule",
            description: "Returns the elements of `ports` that match none of the `allowed` rules, unchanged and in \
                          the same order. `ports` is typically `data.hss_host_ports.x.ports`; any list of \
                          objects with at least `port`, `type` and `laddr` works."
                .into(),
            parameters: vec![
                Parameter {
                    name: "ports",
                    ty: Type::Dynamic,
                    description: "A list of port records: objects with at least `port`, `type` and `laddr`.".into(),
                },
                allowed(),
            ],
            returns: Type::Dynamic,
            call: unexpected_ports,
        },
        Function {
            name: "port_allowed",
            summary: "Whether one port record matches an allowed rule",
            description: "Returns `true` when the record `port` (an object with at least `port`, `type` and \
                          `laddr`) matches at least one of the `allowed` rules."
                .into(),
            parameters: vec![
                Parameter {
                    name: "port",
                    ty: Type::Dynamic,
                    description: "One port record: an object with at least `port`, `type` and `laddr`.".into(),
                },
                allowed(),
            ],
            returns: Type::Bool,
            call: port_allowed,
        },
    ]
}

/// The rules of argument `index`, or an error naming the bad rule.
fn rules(args: &[Argument], index: usize) -> Result<Vec<Rule>, CallError> {
    let texts: Vec<String> = match args.get(index).map(|a| &a.value) {
        Some(Value::List(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| CallError::at(index, format!("allowed[{i}] is not a string")))
            })
            .collect::<Result<_, _>>()?,
        _ => return Err(CallError::at(index, "allowed must be a list of rule strings")),
    };
    parse_rules(&texts).map_err(|(_, text)| CallError::at(index, text))
}

/// The matcher's view of one record, or why the record cannot be read.
fn listener<'a>(record: &'a Value, what: &str, argument: usize) -> Result<Listener<'a>, CallError> {
    let Some(fields) = record.as_entries() else {
        return Err(CallError::at(argument, format!("{what} must be an object with port, type and laddr")));
    };
    for name in ["port", "type", "laddr"] {
        if !fields.contains_key(name) {
            return Err(CallError::at(argument, format!("{what} has no attribute {name:?}")));
        }
    }
    let port = match &fields["port"] {
        Value::Null => None,
        Value::Number(n) => n.as_i64(),
        _ => return Err(CallError::at(argument, format!("{what}.port must be a number"))),
    };
    let text = |name: &str| -> Result<Option<&'a str>, CallError> {
        match &fields[name] {
            Value::Null => Ok(None),
            Value::String(s) => Ok(Some(s.as_str())),
            _ => Err(CallError::at(argument, format!("{what}.{name} must be a string"))),
        }
    };
    Ok(Listener { port, protocol: text("type")?, laddr: text("laddr")? })
}

fn allowed_by(rules: &[Rule], listener: &Listener<'_>) -> bool {
    rules.iter().any(|r| r.matches(listener))
}

fn unexpected_ports(args: &[Argument]) -> Result<(Value, Type), CallError> {
    let rules = rules(args, 1)?;
    let Some(ports) = args.first() else { return Err(CallError::at(0, "ports is required")) };
    let (items, element_types): (&[Value], Option<&[Type]>) = match (&ports.value, &ports.ty) {
        (Value::List(items) | Value::Set(items), _) => (items, None),
        (Value::Tuple(items), Type::Tuple(types)) => (items, Some(types)),
        _ => return Err(CallError::at(0, "ports must be a list of port records")),
    };
    let mut kept = Vec::new();
    let mut kept_types = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if !allowed_by(&rules, &listener(item, &format!("ports[{i}]"), 0)?) {
            kept.push(item.clone());
            if let Some(t) = element_types.and_then(|ts| ts.get(i)) {
                kept_types.push(t.clone());
            }
        }
    }
    // A list keeps its type; a tuple (an HCL literal `[{...}, {...}]`) keeps the types of the
    // elements it keeps.
    Ok(match &ports.ty {
        Type::Tuple(_) => (Value::Tuple(kept), Type::Tuple(kept_types)),
        Type::List(e) | Type::Set(e) => (Value::List(kept), Type::List(e.clone())),
        other => (Value::List(kept), other.clone()),
    })
}

fn port_allowed(args: &[Argument]) -> Result<(Value, Type), CallError> {
    let rules = rules(args, 1)?;
    let Some(port) = args.first() else { return Err(CallError::at(0, "port is required")) };
    let listener = listener(&port.value, "port", 0)?;
    Ok((Value::Bool(allowed_by(&rules, &listener)), Type::Bool))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Number;

    fn record(port: i64, ty: &str, laddr: &str) -> Value {
        Value::object([
            ("port", Value::Number(Number::from_i64(port))),
            ("type", Value::String(ty.into())),
            ("laddr", Value::String(laddr.into())),
            ("path", Value::String("/usr/sbin/x".into())),
        ])
    }

    fn rules_arg(rules: &[&str]) -> Argument {
        Argument {
            value: Value::List(rules.iter().map(|r| Value::String((*r).into())).collect()),
            ty: Type::list(Type::String),
        }
    }

    fn call(name: &str, args: &[Argument]) -> Result<(Value, Type), CallError> {
        let f = all().into_iter().find(|f| f.name == name).expect("function");
        (f.call)(args)
    }

    #[test]
    fn unexpected_ports_keeps_order_and_elements() {
        let ports = vec![record(22, "TCP", "0.0.0.0"), record(323, "UDP", "127.0.0.1"), record(8080, "TCP", "0.0.0.0")];
        let ty = Value::List(ports.clone()).infer_type().expect("type");
        let (value, out_ty) = call(
            "unexpected_ports",
            &[Argument { value: Value::List(ports.clone()), ty: ty.clone() }, rules_arg(&["22/tcp", "*/udp@loopback"])],
        )
        .expect("ok");
        assert_eq!(value, Value::List(vec![ports[2].clone()]));
        assert_eq!(out_ty, ty);
    }

    #[test]
    fn tuples_keep_their_element_types() {
        let ports = vec![record(22, "TCP", "0.0.0.0"), record(8080, "TCP", "0.0.0.0")];
        let ty = Value::Tuple(ports.clone()).infer_type().expect("type");
        let (value, out_ty) =
            call("unexpected_ports", &[Argument { value: Value::Tuple(ports.clone()), ty }, rules_arg(&["22"])])
                .expect("ok");
        assert_eq!(value, Value::Tuple(vec![ports[1].clone()]));
        assert!(matches!(out_ty, Type::Tuple(ref t) if t.len() == 1));
    }

    #[test]
    fn port_allowed_answers_for_one_record() {
        let one = |laddr| Argument { value: record(22, "TCP", laddr), ty: Type::Dynamic };
        assert_eq!(
            call("port_allowed", &[one("127.0.0.1"), rules_arg(&["22/tcp@127.0.0.1"])]).expect("ok").0,
            Value::Bool(true)
        );
        assert_eq!(
            call("port_allowed", &[one("0.0.0.0"), rules_arg(&["22/tcp@127.0.0.1"])]).expect("ok").0,
            Value::Bool(false)
        );
    }

    #[test]
    fn bad_rules_and_records_name_the_argument() {
        let one = Argument { value: record(22, "TCP", "0.0.0.0"), ty: Type::Dynamic };
        let err = call("port_allowed", &[one, rules_arg(&["22", "9000-80"])]).expect_err("bad rule");
        assert_eq!(err.argument, Some(1));
        assert!(err.text.starts_with("allowed[1]: rule \"9000-80\": "), "{}", err.text);
        let no_laddr =
            Argument { value: Value::object([("port", Value::Null), ("type", Value::Null)]), ty: Type::Dynamic };
        let err = call("port_allowed", &[no_laddr, rules_arg(&["22"])]).expect_err("bad record");
        assert_eq!(err, CallError::at(0, "port has no attribute \"laddr\""));
    }
}
