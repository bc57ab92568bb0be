//! `templates/supervisord/*.tera` without tera: sections as string appends (see
//! [`crate::render::native`]); the tests prove the bytes equal tera's.

use super::ConfFile;
use super::program::ProgramSection;
use crate::render::Native;
use crate::render::native::{line, line_if, lines, number_if, push_joined, push_u64};

impl Native for ProgramSection<'_> {
    /// `templates/supervisord/program.tera`, without tera.
    fn write_native(&self, out: &mut String) {
        out.push_str("[program:");
        out.push_str(&self.name);
        out.push(']');
        lines(out, "; ", &self.comments);
        line(out, "command=", &self.command);
        if let Some(n) = self.numprocs.filter(|&n| n != 0) {
            out.push_str("\nnumprocs=");
            push_u64(out, u64::try_from(n).unwrap_or(u64::MAX));
            line(out, "process_name=", self.process_name.unwrap_or_default());
        }
        line_if(out, "directory=", self.directory.as_deref());
        line_if(out, "user=", self.user.as_deref());
        line_if(out, "umask=", self.umask);
        line_if(out, "environment=", self.environment.as_deref());
        number(out, "priority=", self.priority.into());
        out.push_str("\nautostart=true");
        line(out, "autorestart=", self.autorestart);
        number(out, "startsecs=", self.startsecs.into());
        number(out, "startretries=", self.startretries.into());
        line(out, "exitcodes=", &self.exitcodes);
        line(out, "stopsignal=", self.stopsignal);
        number(out, "stopwaitsecs=", self.stopwaitsecs);
        out.push_str("\nstopasgroup=true\nkillasgroup=true");
        if let Some(logs) = &self.logs {
            let backups = u64::from(logs.backups);
            line(out, "stdout_logfile=", &logs.stdout);
            line(out, "stdout_logfile_maxbytes=", logs.maxbytes);
            number(out, "stdout_logfile_backups=", backups);
            match logs.stderr.as_deref().filter(|e| !e.is_empty()) {
                Some(stderr) => {
                    line(out, "stderr_logfile=", stderr);
                    line(out, "stderr_logfile_maxbytes=", logs.maxbytes);
                    number(out, "stderr_logfile_backups=", backups);
                }
                None => out.push_str("\nredirect_stderr=true"),
            }
        }
        out.push('\n');
    }
}

/// [`line`] for a number.
fn number(out: &mut String, key: &str, value: u64) {
    out.push('\n');
    out.push_str(key);
    push_u64(out, value);
}

impl Native for ConfFile<'_> {
    /// `templates/supervisord/conf.tera`, without tera.
    fn write_native(&self, out: &mut String) {
        self.write_head(out);
        for p in &self.programs {
            out.push_str("\n\n");
            out.push_str(p);
        }
        out.push('\n');
    }
}

impl ConfFile<'_> {
    /// What `conf.tera` writes before the programs (the daemon's sections and the groups):
    /// then each program follows after `\n\n`, and the file ends in `\n`.
    pub(super) fn write_head(&self, out: &mut String) {
        out.push_str("# ");
        out.push_str(self.header);
        if let Some(d) = &self.daemon {
            line(out, "\n[unix_http_server]\nfile=", &d.socket);
            out.push_str("\nchmod=0700\n");
            line(out, "[supervisord]\nlogfile=", &d.logfile);
            line(out, "pidfile=", &d.pidfile);
            line(out, "childlogdir=", &d.childlogdir);
            number_if(out, "minfds=", d.minfds);
            number_if(out, "minprocs=", d.minprocs);
            out.push_str("\n\n[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory=supervisor.rpcinterface:make_main_rpcinterface\n");
            line(out, "[supervisorctl]\nserverurl=unix://", &d.socket);
        }
        for g in &self.groups {
            out.push('\n');
            if g.programs.is_empty() {
                line(out, "; group ", &g.name);
                lines(out, "; ", &g.comments);
            } else {
                out.push_str("\n[group:");
                out.push_str(&g.name);
                out.push(']');
                lines(out, "; ", &g.comments);
                out.push_str("\nprograms=");
                push_joined(out, &g.programs, ",");
                number(out, "priority=", g.priority.into());
            }
        }
    }
}
