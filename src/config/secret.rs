//! Resolves a secret given as `X`, `X_file` or `X_env` — exactly one of the three.

use std::ops::Range;
use std::path::Path;

use super::diag::Diag;
use crate::fields::{SecretFields, Text};
use crate::secret::Secret;

/// A secret as resolved.
#[derive(Debug)]
pub struct Resolved {
    /// The value.
    pub secret: Secret<String>,
    /// The environment variable it came from (`X_env`), to be removed from the process
    /// environment once read.
    pub env_var: Option<String>,
}

/// Why a secret could not be resolved.
#[derive(Debug)]
pub enum SecretError {
    /// It comes from a variable this process does not have — named by `X_env`, or used in an
    /// `X_file` path (`${CREDENTIALS_DIRECTORY}`) — as when `ddnsd check` runs in a shell
    /// rather than in the service's environment.
    NotHere {
        /// The variable.
        var: String,
        /// The problem, placed.
        diag: Diag,
    },
    /// Anything else: missing, given twice, empty, unreadable.
    Invalid(Diag),
}

impl SecretError {
    /// The problem, placed.
    pub fn into_diag(self) -> Diag {
        match self {
            SecretError::NotHere { diag, .. } | SecretError::Invalid(diag) => diag,
        }
    }
}

/// Resolves the secret, or explains why it cannot. `table` is the span used when no form is
/// given at all; `env` looks variables up.
pub fn resolve(
    f: &SecretFields<'_>,
    table: Range<usize>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Resolved, SecretError> {
    let plain = |r: Result<Secret<String>, Diag>| {
        r.map(|secret| Resolved {
            secret,
            env_var: None,
        })
        .map_err(SecretError::Invalid)
    };
    if let (None, Some(v), None) = (f.inline, f.file, f.env) {
        if let Some(var) = unset_var(v.get_ref(), env) {
            let diag = Diag::new(
                v.span(),
                format!(
                    "environment variable {var:?} used in {}_file is not set",
                    f.name
                ),
            )
            .hint("systemd sets $CREDENTIALS_DIRECTORY for a service with LoadCredential=; run ddnsd there");
            return Err(SecretError::NotHere { var, diag });
        }
    }
    if let (None, None, Some(v)) = (f.inline, f.file, f.env) {
        let var = v.get_ref();
        return match env(var) {
            Some(val) => nonempty(val.trim().to_owned(), v.span(), f.name)
                .map(|secret| Resolved {
                    secret,
                    env_var: Some(var.clone()),
                })
                .map_err(SecretError::Invalid),
            None => Err(SecretError::NotHere {
                var: var.clone(),
                diag: Diag::new(
                    v.span(),
                    format!(
                        "environment variable {var:?} (named by {}_env) is not set",
                        f.name
                    ),
                )
                .hint(format!(
                    "export {var}=… in the service's environment, or use {}_file",
                    f.name
                )),
            }),
        };
    }
    plain(resolve_form(f, table, env))
}

/// The first `${VAR}` of `text` that `env` does not have.
pub fn unset_var(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let end = after.find('}')?;
        let var = &after[..end];
        if env(var).is_none() {
            return Some(var.to_owned());
        }
        rest = &after[end + 1..];
    }
    None
}

fn resolve_form(
    f: &SecretFields<'_>,
    table: Range<usize>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Secret<String>, Diag> {
    let forms = [
        (f.name.to_owned(), f.inline),
        (format!("{}_file", f.name), f.file),
        (format!("{}_env", f.name), f.env),
    ];
    let given: Vec<(&String, &Text)> = forms
        .iter()
        .filter_map(|(n, v)| v.as_ref().map(|v| (n, v)))
        .collect();
    match given.as_slice() {
        [] => Err(
            Diag::new(table, format!("{} is missing", f.name)).hint(format!(
            "give exactly one of {0}, {0}_file (a path) or {0}_env (an environment variable name)",
            f.name
        )),
        ),
        [_] => {
            if let Some(v) = f.inline {
                return nonempty(v.get_ref().trim().to_owned(), v.span(), f.name);
            }
            if let Some(v) = f.file {
                return from_file(v, env, f.name);
            }
            match f.env {
                Some(v) => {
                    let var = v.get_ref();
                    match env(var) {
                        Some(val) => nonempty(val.trim().to_owned(), v.span(), f.name),
                        None => Err(Diag::new(
                            v.span(),
                            format!(
                                "environment variable {var:?} (named by {}_env) is not set",
                                f.name
                            ),
                        )
                        .hint(format!(
                            "export {var}=… in the service's environment, or use {}_file",
                            f.name
                        ))),
                    }
                }
                None => Err(Diag::new(table, format!("{} is missing", f.name))),
            }
        }
        [_, (second, v), ..] => {
            let names: Vec<&str> = given.iter().map(|(n, _)| n.as_str()).collect();
            Err(Diag::new(
                v.span(),
                format!(
                    "{} is given {} ways ({})",
                    f.name,
                    given.len(),
                    names.join(", ")
                ),
            )
            .hint(format!("keep exactly one; remove {second}")))
        }
    }
}

fn nonempty(v: String, span: Range<usize>, name: &str) -> Result<Secret<String>, Diag> {
    if v.is_empty() {
        Err(Diag::new(span, format!("{name} is empty")))
    } else {
        Ok(Secret::new(v))
    }
}

/// Expands `${VAR}` in a path (e.g. `${CREDENTIALS_DIRECTORY}/tsig` under systemd).
pub fn expand_vars(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err(format!("unclosed \"${{\" in {text:?}"));
        };
        let var = &after[..end];
        match env(var) {
            Some(v) => out.push_str(&v),
            None => {
                return Err(format!(
                    "environment variable {var:?} used in {text:?} is not set"
                ))
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn from_file(
    v: &Text,
    env: &dyn Fn(&str) -> Option<String>,
    name: &str,
) -> Result<Secret<String>, Diag> {
    let path = expand_vars(v.get_ref(), env).map_err(|m| Diag::new(v.span(), m))?;
    let meta = std::fs::metadata(&path).map_err(|e| {
        Diag::new(
            v.span(),
            format!("cannot read secret file {path:?} ({name}_file): {e}"),
        )
        .hint("check the path, and that the user ddnsd runs as can read it")
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o004 != 0 {
            return Err(Diag::new(
                v.span(),
                format!("secret file {path:?} ({name}_file) is readable by every user"),
            )
            .hint(format!(
                "chmod 600 {path} (or 640 with a group ddnsd runs as)"
            )));
        }
    }
    let unreadable = |e: &dyn std::fmt::Display| {
        Diag::new(
            v.span(),
            format!("cannot read secret file {path:?} ({name}_file): {e}"),
        )
        .hint("check the path, and that the user ddnsd runs as can read it")
    };
    let bytes = crate::limits::read_file(Path::new(&path), crate::limits::MAX_SECRET)
        .map_err(|e| unreadable(&e))?
        .map_err(|too| {
            Diag::new(
                v.span(),
                format!("secret file {path:?} ({name}_file) is {too}"),
            )
            .hint("a secret file holds only the secret: check the path")
        })?;
    let text =
        String::from_utf8(bytes).map_err(|_| unreadable(&"stream did not contain valid UTF-8"))?;
    nonempty(text.trim().to_owned(), v.span(), name)
}
