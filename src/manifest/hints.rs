//! Hints for values of the wrong type or shape, by the key they are written under.

use super::locate::{FieldPath, Seg};

/// The hint for a wrong value at `path`: by its key, or for the elements of a list or table
/// (`environment.KEY`, `command[0]`) by the parent's key.
pub(super) fn hint_for(path: &FieldPath) -> Option<&'static str> {
    let segs = path.0.as_slice();
    if let [Seg::Key(table), Seg::Key(_)] = segs
        && table != "defaults"
    {
        // `[services.NAME]` itself: NAME is the user's, not a schema key
        return match table.as_str() {
            "services" => Some(r#"a table: [services.NAME] with command = ["/opt/..."]"#),
            "external" => Some(r#"a table: [external.NAME] with check = { tcp = "host:port" }"#),
            "groups" => Some(r#"a table: [groups.NAME] with services = ["a", "b"]"#),
            _ => None,
        };
    }
    let parent = || match segs.len().checked_sub(2).and_then(|i| segs.get(i)) {
        Some(Seg::Key(p)) => element_hint(p),
        _ => None,
    };
    match segs.last()? {
        Seg::Key(k) => type_hint(k).or_else(parent),
        Seg::Index(_) => parent(),
    }
}

fn element_hint(parent: &str) -> Option<&'static str> {
    Some(match parent {
        "environment" => r#"environment values are strings: { PORT = "10002" }"#,
        "command" | "exec" => {
            r#"every argument is a string: ["/opt/openim/bin/x", "--port", "80"]"#
        }
        "pre_start" => {
            r#"a list of argv arrays: pre_start = [["/bin/mkdir", "-p", "/data/openim"]]"#
        }
        "requires" | "wants" | "after" | "before" | "services" => {
            r#"names are strings: requires = ["kafka"]"#
        }
        "instances" => r#"instance names are strings: instances = ["eu", "us"]"#,
        "success_exit_codes" => "exit codes are integers from 0 to 255",
        _ => return None,
    })
}

fn type_hint(key: &str) -> Option<&'static str> {
    Some(match key {
        "command" | "exec" => {
            r#"an argv array: command = ["/opt/openim/bin/openim-api", "-c", "/etc/openim/config/"]"#
        }
        "pre_start" => {
            r#"a list of argv arrays: pre_start = [["/bin/mkdir", "-p", "/data/openim"]]"#
        }
        "restart_delay" | "stop_timeout" | "interval" | "timeout" | "wait_timeout" => {
            r#"a duration in quotes: "500ms", "5s", "2min", "1h30min" (units ms, s, min, h, d; at most "30d")"#
        }
        "instances" => r#"a count (instances = 4) or names (instances = ["a", "b"])"#,
        "environment" => r#"a table of strings: environment = { KEY = "value" }"#,
        "requires" | "wants" | "after" | "before" => {
            r#"a list of names: requires = ["kafka", "openim-rpc-user"]"#
        }
        "services" => r#"a list of service names: services = ["openim-api", "openim-push"]"#,
        "success_exit_codes" => "a list of integers: success_exit_codes = [255]",
        "stop_signal" => {
            "a signal name: SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGKILL, SIGUSR1, SIGUSR2 or SIGWINCH"
        }
        "restart" => r#"one of "always", "on-failure", "never""#,
        "memory_max" => r#"a size: memory_max = "512M" (K, M, G, T) or a number of bytes"#,
        "nofile" | "nproc" | "cpu_quota" | "retries" | "burst" => "a positive integer",
        "user" | "group" | "working_dir" | "environment_file" | "description" | "name"
        | "stdout" | "stderr" | "tcp" | "http" => "a string in double quotes",
        "health" | "check" => r#"a table: { tcp = "127.0.0.1:10002", interval = "10s" }"#,
        "limits" => "a table: limits = { nofile = 200000 }",
        "logs" => r#"a table: logs = { stdout = "/var/log/openim/api.log" }"#,
        "start_limit" => r#"a table: start_limit = { burst = 5, interval = "1min" }"#,
        _ => return None,
    })
}
