//! One launchd job and its XML property list, written straight into a string in the exact
//! layout of the `plist` crate's XML writer (tab indentation, `<true/>`, `&apos;`…): the
//! tests serialise every fixture's jobs through the crate too and compare the bytes.

use std::borrow::Cow;
use std::sync::LazyLock;

use serde::Serialize;

use super::argv::{Program, push_arguments};
use crate::backend::kit::HEADER;
use crate::backend::shared::wrapper::{Prelude, Syntax};
use crate::escape::plist::push_text;
use crate::manifest::RestartPolicy;
use crate::model::{INSTANCE_PLACEHOLDER, Logs, Service, substitute};
use crate::render::native::push_u64;

/// One launchd job, keys in the order they are written.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Job<'a> {
    pub(super) label: &'a str,
    pub(super) program_arguments: Program<'a>,
    run_at_load: bool,
    keep_alive: Option<KeepAlive>,
    throttle_interval: Option<u64>,
    exit_time_out: u64,
    user_name: Option<&'a str>,
    group_name: Option<&'a str>,
    /// 23 (0o027) when sandboxed: launchd takes the umask as a decimal integer.
    umask: Option<u32>,
    working_directory: Option<&'a str>,
    #[serde(serialize_with = "as_map")]
    environment_variables: Option<Vec<(&'a str, Cow<'a, str>)>>,
    standard_out_path: Option<&'a str>,
    standard_error_path: Option<&'a str>,
    soft_resource_limits: Option<ResourceLimits>,
    hard_resource_limits: Option<ResourceLimits>,
}

/// `KeepAlive`: `true`, or a dictionary of conditions.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(untagged)]
enum KeepAlive {
    Always(bool),
    Conditions {
        #[serde(rename = "SuccessfulExit")]
        successful_exit: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ResourceLimits {
    number_of_files: Option<u64>,
    number_of_processes: Option<u64>,
}

/// The environment as a dictionary (what the crate writes for a map).
#[expect(
    clippy::ref_option,
    reason = "serde's serialize_with passes the field by reference"
)]
fn as_map<S: serde::Serializer>(
    env: &Option<Vec<(&str, Cow<'_, str>)>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    struct Map<'m, 'a>(&'m [(&'a str, Cow<'a, str>)]);
    impl Serialize for Map<'_, '_> {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_map(self.0.iter().map(|(k, v)| (k, v)))
        }
    }
    match env {
        Some(vars) => serializer.serialize_some(&Map(vars)),
        None => serializer.serialize_none(),
    }
}

/// `text` with the placeholder replaced by `instance`, borrowed when nothing changes.
fn substitute_cow<'a>(text: &'a str, instance: Option<&str>) -> Cow<'a, str> {
    match instance {
        Some(_) if text.contains(INSTANCE_PLACEHOLDER) => Cow::Owned(substitute(text, instance)),
        _ => Cow::Borrowed(text),
    }
}

/// The job of `svc` (or its instance `instance`) labelled `label`, its argv behind
/// `prelude` (without `pre_start`, added here with the instance substituted).
pub(super) fn job<'a>(
    svc: &'a Service,
    mut prelude: Prelude<'a>,
    label: &'a str,
    instance: Option<&str>,
) -> Job<'a> {
    prelude.environment_file = svc.environment_file.as_deref();
    prelude.pre_start = svc
        .pre_start
        .iter()
        .map(|argv| argv.iter().map(|a| substitute(a, instance)).collect())
        .collect();
    let argv: Vec<Cow<'a, str>> = svc
        .command
        .iter()
        .map(|a| substitute_cow(a, instance))
        .collect();
    let program_arguments = Program {
        prelude,
        name: &svc.name,
        argv,
    };
    let keep_alive = match svc.restart {
        RestartPolicy::Always => Some(KeepAlive::Always(true)),
        RestartPolicy::OnFailure => Some(KeepAlive::Conditions {
            successful_exit: false,
        }),
        RestartPolicy::Never => None,
    };
    let environment: Vec<(&str, Cow<'a, str>)> = svc
        .environment
        .iter()
        .map(|(k, v)| (k, substitute_cow(v, instance)))
        .collect();
    let (stdout, stderr) = match &*svc.logs {
        Logs::Journal => (None, None),
        Logs::Files { stdout, stderr } => (
            Some(stdout.as_str()),
            Some(stderr.as_deref().unwrap_or(stdout)),
        ),
    };
    let limits =
        (svc.limits.nofile.is_some() || svc.limits.nproc.is_some()).then_some(ResourceLimits {
            number_of_files: svc.limits.nofile,
            number_of_processes: svc.limits.nproc,
        });
    Job {
        label,
        program_arguments,
        run_at_load: true,
        throttle_interval: keep_alive
            .as_ref()
            .map(|_| svc.restart_delay.secs_ceil().max(1)),
        keep_alive,
        exit_time_out: svc.stop_timeout.secs_ceil().max(1),
        user_name: svc.user.as_deref(),
        group_name: svc.group.as_deref(),
        umask: (svc.sandbox.level != crate::model::SandboxLevel::Off).then_some(0o027),
        working_directory: svc.working_dir.as_deref(),
        environment_variables: (!environment.is_empty()).then_some(environment),
        standard_out_path: stdout,
        standard_error_path: stderr,
        soft_resource_limits: limits,
        hard_resource_limits: limits,
    }
}

/// The first lines of every plist: the XML declaration, the DOCTYPE and the comment naming
/// the origin (`--` is not allowed in a comment).
fn prologue() -> &'static str {
    static PROLOGUE: LazyLock<String> = LazyLock::new(|| {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n<!-- {} -->\n<plist version=\"1.0\">\n<dict>",
            HEADER.replace("--", "- -")
        )
    });
    &PROLOGUE
}

/// Appends the elements of a dictionary at one indentation.
struct Dict<'o> {
    out: &'o mut String,
    indent: &'static str,
}

impl Dict<'_> {
    /// A key of launchd's (nothing to escape).
    fn key(&mut self, key: &str) {
        debug_assert!(key.bytes().all(|b| b.is_ascii_alphanumeric()), "{key}");
        self.out.push('\n');
        self.out.push_str(self.indent);
        self.out.push_str("<key>");
        self.out.push_str(key);
        self.out.push_str("</key>\n");
        self.out.push_str(self.indent);
    }

    /// A key that comes from the manifest (an environment variable's name).
    fn text_key(&mut self, key: &str) {
        self.out.push('\n');
        self.out.push_str(self.indent);
        self.out.push_str("<key>");
        push_text(self.out, key);
        self.out.push_str("</key>\n");
        self.out.push_str(self.indent);
    }

    fn string(&mut self, key: &str, value: &str) {
        self.key(key);
        push_string(self.out, value);
    }

    fn integer(&mut self, key: &str, value: u64) {
        self.key(key);
        self.out.push_str("<integer>");
        push_u64(self.out, value);
        self.out.push_str("</integer>");
    }

    fn boolean(&mut self, key: &str, value: bool) {
        self.key(key);
        self.out
            .push_str(if value { "<true/>" } else { "<false/>" });
    }
}

/// The `<dict>` of resource limits `l` (at one tab).
fn limits_dict(l: ResourceLimits) -> String {
    let mut out = String::with_capacity(96);
    let entries = [
        ("NumberOfFiles", l.number_of_files),
        ("NumberOfProcesses", l.number_of_processes),
    ];
    if entries.iter().all(|(_, v)| v.is_none()) {
        out.push_str("<dict/>");
        return out;
    }
    out.push_str("<dict>");
    let mut inner = Dict {
        out: &mut out,
        indent: "\t\t",
    };
    for (k, v) in entries {
        if let Some(v) = v {
            inner.integer(k, v);
        }
    }
    out.push_str("\n\t</dict>");
    out
}

/// Append `<string>…</string>`.
fn push_string(out: &mut String, value: &str) {
    out.push_str("<string>");
    push_text(out, value);
    out.push_str("</string>");
}

impl Job<'_> {
    /// The XML property list, the wrapper script escaped through `syntax`.
    #[cfg(test)]
    pub(super) fn to_xml(&self, syntax: &dyn Syntax) -> String {
        let mut out = String::new();
        self.push_xml(&mut out, syntax);
        out
    }

    /// Append the XML property list to `out`, the wrapper script escaped through `syntax`.
    pub(super) fn push_xml(&self, out: &mut String, syntax: &dyn Syntax) {
        out.push_str(prologue());
        let mut d = Dict {
            out: &mut *out,
            indent: "\t",
        };
        d.string("Label", self.label);
        d.key("ProgramArguments");
        d.out.push_str("<array>");
        push_arguments(d.out, &self.program_arguments, syntax);
        d.out.push_str("\n\t</array>");
        d.boolean("RunAtLoad", self.run_at_load);
        match self.keep_alive {
            None => {}
            Some(KeepAlive::Always(b)) => d.boolean("KeepAlive", b),
            Some(KeepAlive::Conditions { successful_exit }) => {
                d.key("KeepAlive");
                d.out.push_str("<dict>");
                Dict {
                    out: &mut *d.out,
                    indent: "\t\t",
                }
                .boolean("SuccessfulExit", successful_exit);
                d.out.push_str("\n\t</dict>");
            }
        }
        if let Some(t) = self.throttle_interval {
            d.integer("ThrottleInterval", t);
        }
        d.integer("ExitTimeOut", self.exit_time_out);
        for (key, value) in [("UserName", self.user_name), ("GroupName", self.group_name)] {
            if let Some(v) = value {
                d.string(key, v);
            }
        }
        if let Some(u) = self.umask {
            d.integer("Umask", u.into());
        }
        if let Some(w) = self.working_directory {
            d.string("WorkingDirectory", w);
        }
        if let Some(env) = &self.environment_variables {
            d.key("EnvironmentVariables");
            d.out.push_str("<dict>");
            let mut inner = Dict {
                out: &mut *d.out,
                indent: "\t\t",
            };
            for (k, v) in env {
                inner.text_key(k);
                push_string(inner.out, v);
            }
            d.out.push_str("\n\t</dict>");
        }
        for (key, value) in [
            ("StandardOutPath", self.standard_out_path),
            ("StandardErrorPath", self.standard_error_path),
        ] {
            if let Some(v) = value {
                d.string(key, v);
            }
        }
        // soft and hard limits are mostly the same dictionary: written once
        let mut written: Option<(ResourceLimits, String)> = None;
        for (key, limits) in [
            ("SoftResourceLimits", self.soft_resource_limits),
            ("HardResourceLimits", self.hard_resource_limits),
        ] {
            let Some(l) = limits else { continue };
            if written.as_ref().is_none_or(|(w, _)| *w != l) {
                written = Some((l, limits_dict(l)));
            }
            d.key(key);
            d.out.push_str(written.as_ref().map_or("", |(_, s)| s));
        }
        out.push_str("\n</dict>\n</plist>\n");
    }
}

#[cfg(test)]
mod tests;
