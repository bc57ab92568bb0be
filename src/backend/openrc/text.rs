//! `templates/openrc/*.tera` without tera: the scripts as string appends (see
//! [`crate::render::native`]); the tests prove the bytes equal tera's.

use super::meta::MetaScript;
use super::script::ServiceScript;
use crate::backend::kit::HEADER;
use crate::render::Native;

/// The `_env_file` helper of `service.tera`, as tera emits it.
const ENV_FILE_FN: &str = "\n\n# KEY=value lines of an environment file, each handed to supervise-daemon as --env; the\n# file is never run through the shell. Blank lines and lines starting with # or ; are\n# skipped; one pair of quotes around a value is removed.\n_env_file() {\n\tlocal line key val n=0\n\t[ -r \"$1\" ] || { eerror \"${RC_SVCNAME}: cannot read the environment file $1\"; return 1; }\n\twhile read -r line || [ -n \"$line\" ]; do\n\t\tcase $line in ''|'#'*|';'*) continue ;; esac\n\t\tkey=${line%%=*}\n\t\tcase $key in\n\t\t\t\"$line\"|''|[!A-Za-z_]*|*[!A-Za-z0-9_]*)\n\t\t\t\tewarn \"${RC_SVCNAME}: $1: ignoring a line that is not KEY=value\"; continue ;;\n\t\tesac\n\t\tval=${line#*=}\n\t\tcase $val in\n\t\t\t\\\"*\\\") val=${val#\\\"}; val=${val%\\\"} ;;\n\t\t\t\\'*\\') val=${val#\\'}; val=${val%\\'} ;;\n\t\tesac\n\t\tn=$((n+1))\n\t\teval \"_env_file_$n=\\\"\\$key=\\$val\\\"\"\n\t\tsupervise_daemon_args=\"$supervise_daemon_args --env \\\"\\$_env_file_$n\\\"\"\n\tdone < \"$1\"\n}";

/// `meta.tera` from the comment above `stop()` to its first member line.
const META_STOP: &str = "\n\n# OpenRC does not stop what a service wants: stop the members here, in reverse start order,\n# the services of one layer in parallel. --nodeps: without it each member would first wait\n# (about a minute) for this stopping service.\nstop() {\n\tlocal rc=0";

/// `meta.tera` after the member lines of `stop()`.
const META_TAIL: &str = "\n\treturn $rc\n}\n\n_stop_members() {\n\tlocal svc pid pids=\"\" rc=0\n\tfor svc; do\n\t\tservice_started \"$svc\" || continue\n\t\t\"${RC_SERVICE%/*}/$svc\" --nodeps stop &\n\t\tpids=\"$pids $!\"\n\tdone\n\tfor pid in $pids; do\n\t\twait \"$pid\" || rc=1\n\tdone\n\treturn $rc\n}\n";

fn push_all(out: &mut String, parts: &[&str]) {
    for p in parts {
        out.push_str(p);
    }
}

/// `\n\t{line}{suffix}` per line (a `{%- for %}` inside a function body).
fn body_lines<S: AsRef<str>>(out: &mut String, lines: &[S], suffix: &str) {
    for l in lines {
        push_all(out, &["\n\t", l.as_ref(), suffix]);
    }
}

impl Native for MetaScript<'_> {
    fn size_hint(&self) -> usize {
        MetaScript::size_hint(self)
    }

    /// `templates/openrc/meta.tera`, without tera.
    fn write_native(&self, out: &mut String) {
        push_all(
            out,
            &[
                "#!/sbin/openrc-run\n# ",
                HEADER,
                "\n\ndescription=",
                self.description(),
                "\n\n# Starting this meta-service starts its members",
                if self.has_groups() { " and groups" } else { "" },
                "; they keep running on their own.\ndepend() {",
            ],
        );
        self.push_depend(out);
        push_all(out, &["\n}\n\nstart() {\n\treturn 0\n}", META_STOP]);
        self.push_stop(out);
        out.push_str(META_TAIL);
    }
}

impl Native for ServiceScript<'_> {
    fn size_hint(&self) -> usize {
        let lines = |l: &[String]| l.iter().map(|l| l.len() + 16).sum::<usize>();
        1200 + lines(&self.command)
            + lines(&self.settings)
            + lines(&self.cgroup)
            + lines(&self.depend)
            + lines(&self.log_files)
            + lines(&self.pre_start)
            + self.gates.iter().map(|g| g.len() + 8).sum::<usize>()
            + self.ready.as_ref().map_or(0, |r| r.len() + 128)
            + self.health.as_ref().map_or(0, |h| h.probe.len() + 600)
            + if self.env_file.is_some() {
                ENV_FILE_FN.len()
            } else {
                0
            }
    }

    /// `templates/openrc/service.tera`, without tera.
    fn write_native(&self, out: &mut String) {
        push_all(out, &["#!/sbin/openrc-run\n# ", self.header]);
        let name = self.name;
        let instances = self.instances.as_deref().filter(|i| !i.is_empty());
        if let Some(inst) = instances {
            push_all(
                out,
                &[
                    "\n\n# One script, several services: init.d/",
                    name,
                    ".<instance> links here for each instance\n# (",
                    inst,
                    "); OpenRC runs it as RC_SVCNAME=",
                    name,
                    ".<instance>.\ninstance=\"${RC_SVCNAME#",
                    name,
                    ".}\"",
                ],
            );
        }
        push_all(
            out,
            &[
                "\n\ndescription=",
                &self.description,
                "\n\n# supervise-daemon respawns the process when it exits. OpenRC evals these variables in its\n# start function: the values are quoted twice, words with blanks or globs via a helper.\nsupervisor=supervise-daemon",
            ],
        );
        if self.never {
            out.push_str(
                "\n# restart = \"never\": the guard runs the command on the first spawn only",
            );
        }
        for l in self
            .command
            .iter()
            .chain(&self.settings)
            .chain(&self.cgroup)
        {
            push_all(out, &["\n", l]);
        }
        out.push_str("\n\ndepend() {");
        body_lines(out, &self.depend, "");
        if self.depend.is_empty() {
            out.push_str("\n\t:");
        }
        out.push_str("\n}");
        let env_file = self.env_file.as_deref().filter(|e| !e.is_empty());
        if env_file.is_some() {
            out.push_str(ENV_FILE_FN);
        }
        start_pre(self, out, instances, env_file);
        readiness(self, out);
        out.push('\n');
    }
}

/// `start_pre()`: instance guard, limits, environment file, log files, gates, `pre_start`.
fn start_pre(
    script: &ServiceScript,
    out: &mut String,
    instances: Option<&str>,
    env_file: Option<&str>,
) {
    let name = script.name;
    out.push_str("\n\nstart_pre() {");
    if let Some(inst) = instances {
        push_all(
            out,
            &[
                "\n\tif [ \"$RC_SVCNAME\" = ",
                name,
                " ]; then\n\t\teerror \"",
                name,
                " runs as instances: start ",
                name,
                ".<instance> (",
                inst,
                ")\"\n\t\treturn 1\n\tfi",
            ],
        );
    }
    body_lines(out, &script.limits, " || return 1");
    if let Some(f) = env_file {
        push_all(out, &["\n\t_env_file ", f, " || return 1"]);
    }
    body_lines(out, &script.log_files, " || return 1");
    body_lines(out, &script.gates, "");
    body_lines(out, &script.pre_start, " || return 1");
    out.push_str("\n}");
}

/// `start_post()` (readiness) and `healthcheck()`/`unhealthy()` (liveness).
fn readiness(script: &ServiceScript, out: &mut String) {
    if let Some(ready) = script.ready.as_deref().filter(|r| !r.is_empty()) {
        push_all(
            out,
            &[
                "\n\n# readiness: dependents start once the health check passes\nstart_post() {\n\t( ",
                ready,
                " ) && return 0\n\tdefault_stop\n\treturn 1\n}",
            ],
        );
    }
    if let Some(h) = &script.health {
        let retries = h.retries.to_string();
        push_all(
            out,
            &[
                "\n\n# run by supervise-daemon every healthcheck_timer seconds; unhealthy after ",
                &retries,
                " failure(s) in a row\nhealthcheck() {\n\tlocal failed\n\tif ",
                &h.probe,
                "; then\n\t\tservice_set_value health_failures 0\n\t\treturn 0\n\tfi\n\tfailed=$(( $(service_get_value health_failures) + 1 ))\n\tservice_set_value health_failures \"$failed\"\n\t[ \"$failed\" -lt ",
                &retries,
                " ]\n}\n\n# supervise-daemon restarts the process after this\nunhealthy() {\n\tservice_set_value health_failures 0\n\tewarn \"${RC_SVCNAME}: health check failed ",
                &retries,
                " time(s) in a row: restarting\"\n}",
            ],
        );
    }
}
