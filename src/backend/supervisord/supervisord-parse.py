"""Parse a supervisord configuration with supervisor's own parser; nothing is started.

usage: python supervisord-parse.py FILE
A file without a [supervisord] section (a conf.d include) is wrapped in a minimal main
configuration that includes it, as /etc/supervisor/supervisord.conf does.

Prints one JSON object:
  errors    what supervisor rejects (the message supervisord would print), unknown keys
  warnings  supervisor's own parse warnings (supervisord only logs them)
  notes     facts about this machine, not the file: a user, directory or executable
            that does not exist here (supervisor checks them while parsing)
  processes {"GROUP:PROCESS": {argv, environment, ...}}: argv is what supervisord would
            execve (Subprocess.get_execv_args)
Embedded in openim-init (`verify --backend supervisord`). Exit status 0; 3 on bad usage.
"""
import json
import os
import signal
import sys
import tempfile

import supervisor.datatypes as datatypes
import supervisor.options as options
from supervisor.process import Subprocess

PROGRAM_KEYS = {
    "command", "process_name", "numprocs", "numprocs_start", "priority", "autostart",
    "startsecs", "startretries", "autorestart", "exitcodes", "stopsignal", "stopwaitsecs",
    "stopasgroup", "killasgroup", "user", "redirect_stderr", "environment", "directory",
    "umask", "serverurl",
} | {
    "%s_%s" % (stream, key)
    for stream in ("stdout", "stderr")
    for key in ("logfile", "logfile_maxbytes", "logfile_backups", "capture_maxbytes",
                "events_enabled", "syslog")
}
GROUP_KEYS = {"programs", "priority"}

notes = []


class ConfigError(Exception):
    pass


def usage(self, msg):
    raise ConfigError(str(msg))


def lenient(check, what):
    def wrapped(value):
        try:
            return check(value)
        except ValueError as e:
            notes.append("%s: %s" % (what, e))
            return value
    return wrapped


def lenient_uid(name):
    try:
        return datatypes.name_to_uid(name)
    except ValueError as e:
        notes.append("user: %s on this machine" % e)
        return 65534


strict_execv = options.ServerOptions.check_execv_args


def lenient_execv(self, filename, argv, st):
    try:
        strict_execv(self, filename, argv, st)
    except options.ProcessException as e:
        notes.append("command: %s on this machine" % e)


options.ServerOptions.usage = usage
options.ServerOptions.check_execv_args = lenient_execv
options.name_to_uid = lenient_uid
options.existing_directory = lenient(datatypes.existing_directory, "directory")
options.existing_dirpath = lenient(datatypes.existing_dirpath, "path")
datatypes.existing_dirpath = options.existing_dirpath


def main_config(path, tmp):
    """The file to give supervisord: PATH itself, or a wrapper that includes it."""
    parser = options.UnhosedConfigParser()
    parser.read(path)
    if parser.has_section("supervisord"):
        return path, [path]
    os.mkdir(os.path.join(tmp, "conf.d"))
    included = os.path.join(tmp, "conf.d", os.path.basename(path))
    with open(path, encoding="utf-8") as src, open(included, "w", encoding="utf-8") as dst:
        dst.write(src.read())
    main = os.path.join(tmp, "supervisord.conf")
    with open(main, "w", encoding="utf-8") as f:
        f.write("[supervisord]\nlogfile=%s/supervisord.log\npidfile=%s/supervisord.pid\n"
                "childlogdir=%s\n[include]\nfiles=conf.d/*\n" % (tmp, tmp, tmp))
    return main, [included]


def unknown_keys(files):
    errors = []
    for path in files:
        parser = options.UnhosedConfigParser()
        parser.read(path)
        for section in parser.sections():
            kind = section.split(":", 1)[0]
            known = {"program": PROGRAM_KEYS, "group": GROUP_KEYS}.get(kind)
            for key in parser.options(section) if known else ():
                if key not in known:
                    errors.append("[%s]: unknown key %r (supervisor ignores it)" % (section, key))
    return errors


def restart_name(value):
    if value is datatypes.RestartUnconditionally:
        return "true"
    if value is datatypes.RestartWhenExitUnexpected:
        return "unexpected"
    return "false"


def describe(group, pc):
    _, argv = Subprocess(pc).get_execv_args()
    return {
        "group": group.name,
        "argv": argv,
        "environment": pc.environment or {},
        "directory": pc.directory,
        "priority": pc.priority,
        "group_priority": group.priority,
        "autostart": pc.autostart,
        "autorestart": restart_name(pc.autorestart),
        "startsecs": pc.startsecs,
        "startretries": pc.startretries,
        "exitcodes": pc.exitcodes,
        "stopsignal": signal.Signals(pc.stopsignal).name,
        "stopwaitsecs": pc.stopwaitsecs,
        "stopasgroup": pc.stopasgroup,
        "killasgroup": pc.killasgroup,
        "stdout_logfile": pc.stdout_logfile if isinstance(pc.stdout_logfile, str) else None,
        "stderr_logfile": pc.stderr_logfile if isinstance(pc.stderr_logfile, str) else None,
        "stdout_logfile_maxbytes": pc.stdout_logfile_maxbytes,
        "stdout_logfile_backups": pc.stdout_logfile_backups,
        "redirect_stderr": pc.redirect_stderr,
    }


def parse(path):
    out = {"errors": [], "warnings": [], "notes": [], "processes": {}}
    with tempfile.TemporaryDirectory() as tmp:
        main, files = main_config(path, tmp)
        out["errors"].extend(unknown_keys(files))
        opts = options.ServerOptions()
        try:
            opts.realize(args=["-c", main])
        except (ConfigError, ValueError) as e:
            out["errors"].append(str(e).replace(tmp + "/conf.d/", ""))
            out["notes"] = list(dict.fromkeys(notes))
            return out
        out["warnings"].extend(opts.parse_warnings)
        for group in opts.process_group_configs:
            for pc in group.process_configs:
                key = "%s:%s" % (group.name, pc.name)
                try:
                    out["processes"][key] = describe(group, pc)
                except Exception as e:  # supervisord would fail to spawn it
                    out["errors"].append("%s: %s" % (key, e))
    out["notes"] = list(dict.fromkeys(notes))
    return out


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.stderr.write(__doc__)
        sys.exit(3)
    json.dump(parse(os.path.abspath(sys.argv[1])), sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")
