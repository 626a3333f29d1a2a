//! The KooCLI shared configuration file (`~/.hcloud/config.json`), read the way KooCLI and the
//! `huaweicloud` provider read it:
//!
//! `{"current":"default","profiles":[{"name":"default","mode":"AKSK","accessKeyId":"...",
//! "secretAccessKey":"...","securityToken":"...","region":"cn-north-4","projectId":"...",
//! "agencyName":"...","agencyDomainName":"...","agencyDomainId":"...",
//! "ssoAuth":{"stsToken":{"accessKeyId":"...","secretAccessKey":"...","securityToken":"..."}}}]}`
//!
//! The profile used is `profile` if given, else `current`. Mode `AKSK` uses the top-level keys,
//! `SSO` the `ssoAuth.stsToken` ones. KooCLI encrypts keys unless told not to; such a profile
//! (marked by `crypter`/`nonce`) cannot be used here, and the error says how to write one that
//! can.
//!
//! The file's and the profile's problems are reported with the file and the profile named and
//! never with a key in them: JSON errors are reported by position only (serde may quote the
//! input in its messages), and a bad key by which field it is.

use std::path::{Path, PathBuf};

use crate::hss::{Credentials, Secret};

/// The file KooCLI writes, relative to the home directory.
pub(crate) const DEFAULT_FILE: &str = ".hcloud/config.json";

/// One profile of the file, with what it can give.
#[derive(Debug)]
pub(crate) struct Profile {
    /// The file, as shown in messages.
    pub file: String,
    pub name: String,
    pub region: Option<String>,
    pub project_id: Option<String>,
    /// `agencyName`, with `agencyDomainName` or `agencyDomainId`: assume this agency.
    pub agency: Option<Agency>,
    /// The credentials, or why they cannot be used (only reported when they would be).
    pub credentials: Result<Credentials, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Agency {
    pub name: String,
    pub domain_name: Option<String>,
    pub domain_id: Option<String>,
}

impl Profile {
    /// `profile "dev" of /home/u/.hcloud/config.json`.
    pub fn describe(&self) -> String {
        format!("profile {:?} of {}", self.name, self.file)
    }
}

/// The default file for a home directory.
pub(crate) fn default_path(home: &str) -> PathBuf {
    Path::new(home).join(DEFAULT_FILE)
}

/// Reads the profile `profile` (else the file's `current`) of `path`. `Ok(None)` when the file
/// does not exist and was not asked for (`explicit` is false). Errors are whole sentences.
pub(crate) fn load(path: &Path, explicit: bool, profile: Option<&str>) -> Result<Option<Profile>, String> {
    let file = path.display().to_string();
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => return Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(format!(
                "The shared configuration file {file} does not exist. Create it with KooCLI (`hcloud configure \
                 init`), or correct shared_config_file (HW_SHARED_CONFIG_FILE)."
            ));
        }
        Err(e) => return Err(format!("The shared configuration file {file} cannot be read: {e}.")),
    };
    let json: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
        let what = match e.classify() {
            serde_json::error::Category::Eof => "it ends too early",
            _ => "syntax error",
        };
        format!(
            "The shared configuration file {file} is not valid JSON ({what} at line {}, column {}). KooCLI writes \
             it as {{\"current\":\"default\",\"profiles\":[...]}}; fix it, or point shared_config_file \
             (HW_SHARED_CONFIG_FILE) at another file.",
            e.line(),
            e.column()
        )
    })?;
    let shape = |what: &str| {
        format!(
            "The shared configuration file {file} is JSON, but not a KooCLI configuration: {what}. Expected \
             {{\"current\":\"default\",\"profiles\":[{{\"name\":\"default\",\"mode\":\"AKSK\",...}}]}}."
        )
    };
    let Some(profiles) = json.get("profiles").and_then(|p| p.as_array()) else {
        return Err(shape("it has no \"profiles\" list"));
    };
    let current = json.get("current").and_then(|c| c.as_str()).map(str::trim).filter(|c| !c.is_empty());
    let Some(name) = profile.or(current) else {
        return Err(format!(
            "The shared configuration file {file} names no current profile: set profile (HW_PROFILE) to one of \
             its profiles ({}).",
            names(profiles)
        ));
    };
    let Some(entry) = profiles.iter().find(|p| p.get("name").and_then(|n| n.as_str()) == Some(name)) else {
        let chosen = if profile.is_some() { "profile (HW_PROFILE)" } else { "its \"current\"" };
        return Err(format!(
            "The shared configuration file {file} has no profile {name:?} (chosen by {chosen}); its profiles are: \
             {}.",
            names(profiles)
        ));
    };
    if !entry.is_object() {
        return Err(shape(&format!("profile {name:?} is not an object")));
    }
    let text = |v: &serde_json::Value, key: &str| {
        v.get(key).and_then(|x| x.as_str()).map(str::trim).filter(|x| !x.is_empty()).map(str::to_owned)
    };
    let agency = text(entry, "agencyName").map(|agency| Agency {
        name: agency,
        domain_name: text(entry, "agencyDomainName"),
        domain_id: text(entry, "agencyDomainId"),
    });
    let at = format!("profile {name:?} of {file}");
    let encrypted = ["crypter", "nonce"].iter().any(|k| present(entry, k) || present(&json, k));
    let credentials = if encrypted {
        Err(format!(
            "The {at} holds encrypted keys, which only KooCLI can read. Write them unencrypted with \
             `hcloud configure set --cli-profile={name} --cli-mode=AKSK --cli-access-key=... \
             --cli-secret-key=... --cli-auth-encrypt=false`, or give the keys through access_key and \
             secret_key (HW_ACCESS_KEY, HW_SECRET_KEY)."
        ))
    } else {
        credentials(entry, name, &at)
    };
    Ok(Some(Profile {
        file,
        name: name.to_owned(),
        region: text(entry, "region"),
        project_id: text(entry, "projectId"),
        agency,
        credentials,
    }))
}

fn names(profiles: &[serde_json::Value]) -> String {
    let names: Vec<String> =
        profiles.iter().filter_map(|p| p.get("name").and_then(|n| n.as_str())).map(|n| format!("{n:?}")).collect();
    if names.is_empty() { "none".to_owned() } else { names.join(", ") }
}

/// A field that is there and not empty.
fn present(v: &serde_json::Value, key: &str) -> bool {
    match v.get(key) {
        None | Some(serde_json::Value::Null) => false,
        Some(serde_json::Value::String(s)) => !s.trim().is_empty(),
        Some(_) => true,
    }
}

fn credentials(entry: &serde_json::Value, name: &str, at: &str) -> Result<Credentials, String> {
    let mode = entry.get("mode").and_then(|m| m.as_str()).map(str::trim).unwrap_or("AKSK");
    let (keys, prefix) = match mode {
        "AKSK" | "" => (entry, ""),
        "SSO" => match entry.get("ssoAuth").and_then(|s| s.get("stsToken")).filter(|t| t.is_object()) {
            Some(sts) => (sts, "ssoAuth.stsToken."),
            None => {
                return Err(format!(
                    "The {at} has mode SSO but no ssoAuth.stsToken: log in again with `hcloud configure sso \
                     --cli-profile={name}`."
                ));
            }
        },
        "ecsAgency" => {
            return Err(format!(
                "The {at} has mode ecsAgency, which this provider takes from use_ecs_agency = true \
                 (HW_USE_ECS_AGENCY) rather than from the profile."
            ));
        }
        other => {
            return Err(format!("The {at} has mode {other:?}; the modes supported here are AKSK and SSO."));
        }
    };
    let access = key(keys, "accessKeyId", prefix, at, true)?.unwrap_or_default();
    let secret = key(keys, "secretAccessKey", prefix, at, true)?.unwrap_or_default();
    let token = key(keys, "securityToken", prefix, at, mode == "SSO")?;
    if access.contains(',') || access.contains('=') {
        return Err(format!("The {at} has an {prefix}accessKeyId that is not an access key (it contains ',' or '=')."));
    }
    Ok(Credentials::AkSk {
        access_key: access,
        secret_key: Secret::new(secret),
        security_token: token.map(Secret::new),
    })
}

/// The key `field` of `keys`: an error when it is required and missing or empty, or when it is
/// not a string of printable ASCII without spaces (as every Huawei Cloud key is).
fn key(
    keys: &serde_json::Value,
    field: &str,
    prefix: &str,
    at: &str,
    required: bool,
) -> Result<Option<String>, String> {
    match keys.get(field) {
        None | Some(serde_json::Value::Null) if !required => Ok(None),
        None | Some(serde_json::Value::Null) => Err(format!(
            "The {at} has no {prefix}{field}. Set it with `hcloud configure set`, or give credentials another way."
        )),
        Some(serde_json::Value::String(s)) if s.trim().is_empty() && !required => Ok(None),
        Some(serde_json::Value::String(s)) if s.trim().is_empty() => Err(format!(
            "The {at} has an empty {prefix}{field}. Set it with `hcloud configure set`, or give credentials \
             another way."
        )),
        Some(serde_json::Value::String(s)) => {
            let v = s.trim();
            if v.bytes().all(|b| b.is_ascii_graphic()) {
                Ok(Some(v.to_owned()))
            } else {
                Err(format!(
                    "The {at} has a {prefix}{field} that is malformed: it contains spaces, control or non-ASCII \
                     characters, which keys never have. Copy it again without them."
                ))
            }
        }
        Some(_) => Err(format!("The {at} has a {prefix}{field} that is not a string.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(contents: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.json");
        std::fs::write(&path, contents).expect("write");
        (dir, path)
    }

    const TWO: &str = r#"{"current":"dev","profiles":[
        {"name":"dev","mode":"AKSK","accessKeyId":"AKDEV","secretAccessKey":"sk-dev-secret","region":"cn-north-4","projectId":"p-dev"},
        {"name":"sso","mode":"SSO","region":"ap-southeast-1","ssoAuth":{"stsToken":{"accessKeyId":"AKSTS","secretAccessKey":"sk-sts-secret","securityToken":"tok-sts-secret"}},
         "agencyName":"ops","agencyDomainName":"acme"}]}"#;

    #[test]
    fn current_and_chosen_profiles() {
        let (_d, path) = write(TWO);
        let p = load(&path, false, None).unwrap().unwrap();
        assert_eq!(
            (p.name.as_str(), p.region.as_deref(), p.project_id.as_deref()),
            ("dev", Some("cn-north-4"), Some("p-dev"))
        );
        assert!(
            matches!(&p.credentials, Ok(Credentials::AkSk { access_key, security_token: None, .. }) if access_key == "AKDEV")
        );
        let p = load(&path, false, Some("sso")).unwrap().unwrap();
        let Ok(Credentials::AkSk { access_key, secret_key, security_token: Some(t) }) = &p.credentials else {
            panic!("{:?}", p.credentials)
        };
        assert_eq!(
            (access_key.as_str(), secret_key.expose(), t.expose()),
            ("AKSTS", "sk-sts-secret", "tok-sts-secret")
        );
        assert_eq!(p.agency, Some(Agency { name: "ops".into(), domain_name: Some("acme".into()), domain_id: None }));
        let e = load(&path, false, Some("nope")).unwrap_err();
        assert!(e.contains("no profile \"nope\"") && e.contains("\"dev\", \"sso\""), "{e}");
    }

    #[test]
    fn a_missing_file_is_fine_unless_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("none.json");
        assert!(load(&path, false, None).unwrap().is_none());
        assert!(load(&path, true, None).unwrap_err().contains("does not exist"));
    }

    #[test]
    fn bad_files_and_keys_are_named_never_echoed() {
        let (_d, path) = write("{\"current\": \"dev\", \"profiles\": [ sk-leaky-secret ]}");
        let e = load(&path, false, None).unwrap_err();
        assert!(e.contains("not valid JSON") && e.contains(&path.display().to_string()), "{e}");
        assert!(!e.contains("leaky"), "{e}");
        let (_d, path) = write("[]");
        assert!(load(&path, false, None).unwrap_err().contains("no \"profiles\" list"));
        for (profile, want) in [
            (r#"{"name":"p","mode":"AKSK","accessKeyId":"","secretAccessKey":"sk-leaky-secret"}"#, "empty accessKeyId"),
            (
                r#"{"name":"p","mode":"AKSK","accessKeyId":"AK","secretAccessKey":"sk leaky secret"}"#,
                "secretAccessKey that is malformed",
            ),
            (r#"{"name":"p","mode":"AKSK","accessKeyId":"AK"}"#, "no secretAccessKey"),
            (
                r#"{"name":"p","mode":"SSO","accessKeyId":"AK","secretAccessKey":"sk-leaky-secret"}"#,
                "no ssoAuth.stsToken",
            ),
            (
                r#"{"name":"p","mode":"SSO","ssoAuth":{"stsToken":{"accessKeyId":"AK","secretAccessKey":"sk-leaky-secret"}}}"#,
                "no ssoAuth.stsToken.securityToken",
            ),
            (
                r#"{"name":"p","mode":"AKSK","accessKeyId":"AK","secretAccessKey":"c2stbGVha3k=","crypter":"aes","nonce":"n"}"#,
                "encrypted",
            ),
            (r#"{"name":"p","mode":"OIDC"}"#, "AKSK and SSO"),
        ] {
            let (_d, path) = write(&format!(r#"{{"current":"p","profiles":[{profile}]}}"#));
            let p = load(&path, false, None).unwrap().unwrap();
            let e = p.credentials.unwrap_err();
            assert!(e.contains(want), "{want}: {e}");
            assert!(e.contains("profile \"p\"") && e.contains(&path.display().to_string()), "{e}");
            assert!(!e.contains("leaky") && !e.contains("c2stbGVha3k"), "{e}");
        }
        let e = load(&write(r#"{"current":"p","profiles":[{"name":"p"}]}"#).1, false, None).unwrap().unwrap();
        assert!(e.credentials.is_err());
    }
}
