//! Every argv word, path and environment value survives OpenRC's own `eval` in
//! `supervise_start` (the real one from /lib/rc/sh/supervise-daemon.sh), under every shell
//! found here (sh, busybox ash, bash), with hostile strings and random ones.

use std::path::{Path, PathBuf};
use std::process::Command;

use openim_init::escape::openrc::{Piece, eval_assign};
use proptest::prelude::*;

use crate::common::{generate_into, in_ci, optional_tool};

/// OpenRC's start function for supervise-daemon services.
const REAL_LIB: &str = "/lib/rc/sh/supervise-daemon.sh";

/// `supervise_start`'s eval, copied verbatim from OpenRC 0.45.2, for machines without OpenRC.
const COPY_0_45: &str = r#"supervise_start() {
	eval supervise-daemon "${RC_SVCNAME}" --start \
		${retry:+--retry} $retry \
		${directory:+--chdir} $directory  \
		${chroot:+--chroot} $chroot \
		${output_log+--stdout} ${output_log} \
		${error_log+--stderr} $error_log \
		${pidfile:+--pidfile} $pidfile \
		${respawn_delay:+--respawn-delay} $respawn_delay \
		${respawn_max:+--respawn-max} $respawn_max \
		${respawn_period:+--respawn-period} $respawn_period \
		${healthcheck_delay:+--healthcheck-delay} $healthcheck_delay \
		${healthcheck_timer:+--healthcheck-timer} $healthcheck_timer \
		${capabilities+--capabilities} "$capabilities" \
		${secbits:+--secbits} "$secbits" \
		${no_new_privs:+--no_new_privs} \
		${command_user+--user} $command_user \
		${umask+--umask} $umask \
		${supervise_daemon_args:-${start_stop_daemon_args}} \
		$command \
		-- $command_args $command_args_foreground
}"#;

/// Strings that break naive quoting in one layer or the other.
const HOSTILE: &[&str] = &[
    "",
    " ",
    "  two  spaces  ",
    " lead",
    "trail ",
    "\ttab\t",
    "a\tb",
    "it's",
    "\"dq\"",
    "$HOME",
    "${PATH}",
    "$(touch /tmp/openim-init-pwned)",
    "`id`",
    "back\\slash",
    "\\",
    "\\'",
    "100%",
    "%n",
    "-leading",
    "--x=1",
    "ünïcödé ✓",
    ";",
    "a;b",
    "#",
    "#comment",
    "*",
    "*/5 * * * *",
    "?",
    "[ab]",
    "*.rs",
    "~",
    "~root",
    "{a,b}",
    "{}",
    "!",
    "!!",
    "'",
    "''",
    "&",
    "|",
    "<>",
    "a=b",
    "=x",
    "\\$x",
    "-",
];

/// The shells to prove the quoting with: POSIX sh, busybox ash and bash (required in CI).
fn shells() -> Vec<Vec<&'static str>> {
    let mut out = vec![vec!["sh"]];
    if optional_tool("busybox", "busybox ash, Alpine's /bin/sh").is_some() {
        out.push(vec!["busybox", "sh"]);
    }
    if optional_tool("bash", "Gentoo's /bin/sh").is_some() {
        out.push(vec!["bash", "--posix"]);
    }
    out
}

/// A directory with files that an unwanted glob (`*`, `?`, `[ab]`, `*.rs`) would match.
fn glob_bait() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for f in ["a", "b", "x.rs"] {
        std::fs::write(dir.path().join(f), "").expect("bait file");
    }
    dir
}

/// What `supervise_start` passed to supervise-daemon.
#[derive(Debug)]
struct Started {
    options: Vec<(String, String)>,
    command: String,
    args: Vec<String>,
}

impl Started {
    fn option(&self, name: &str) -> Vec<&str> {
        self.options
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// Source `script` the way openrc-run does and run OpenRC's `supervise_start` with a fake
/// `supervise-daemon` that prints its argv.
fn supervise_start(shell: &[&str], script: &Path, svcname: &str) -> Started {
    let fake = tempfile::tempdir().expect("tempdir");
    let bin = fake.path().join("supervise-daemon");
    std::fs::write(&bin, "#!/bin/sh\nfor a; do printf '%s\\0' \"$a\"; done\n").expect("fake");
    std::fs::set_permissions(&bin, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let real = Path::new(REAL_LIB).is_file();
    if !real {
        assert!(!in_ci(), "required in CI: {REAL_LIB} (package openrc)");
        eprintln!("note: {REAL_LIB} missing: using the copy of OpenRC 0.45.2's supervise_start");
    }
    let lib = if real {
        format!(". {REAL_LIB}")
    } else {
        COPY_0_45.to_owned()
    };
    let code = format!(
        "ebegin() {{ :; }}; eend() {{ return \"$1\"; }}; ewarn() {{ echo \"$*\" >&2; }}\n\
         service_set_value() {{ :; }}\n{lib}\n. \"$0\" || exit 9\nsupervise_start"
    );
    let bait = glob_bait();
    let path = format!(
        "{}:{}",
        fake.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new(shell[0])
        .args(&shell[1..])
        .arg("-c")
        .arg(code)
        .arg(script)
        .env("PATH", path)
        .env("RC_SVCNAME", svcname)
        .env("RC_SVCDIR", "/run/openrc")
        .current_dir(bait.path())
        .output()
        .expect("shell runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.is_empty(),
        "{shell:?}: {stderr}"
    );
    let words: Vec<String> = String::from_utf8(out.stdout)
        .expect("utf-8")
        .split_terminator('\0')
        .map(str::to_owned)
        .collect();
    assert_eq!(words[..2], [svcname, "--start"], "{words:?}");
    let dashdash = words
        .iter()
        .position(|w| w == "--")
        .expect("a -- separator");
    let mut options = Vec::new();
    let mut i = 2;
    while i + 1 < dashdash {
        // the sandbox's one option without a value
        if words[i] == "--no-new-privs" {
            options.push((words[i].clone(), String::new()));
            i += 1;
            continue;
        }
        options.push((words[i].clone(), words[i + 1].clone()));
        i += 2;
    }
    assert_eq!(i + 1, dashdash, "one command before --: {words:?}");
    Started {
        options,
        command: words[dashdash - 1].clone(),
        args: words[dashdash + 1..].to_vec(),
    }
}

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

fn toml_list(items: &[String]) -> String {
    let inner: Vec<String> = items.iter().map(|s| toml_str(s)).collect();
    format!("[{}]", inner.join(", "))
}

/// A manifest whose service `svc` carries every hostile string in argv, env and paths.
fn hostile_manifest(dir: &Path, extra: &str, argv_tail: &[String]) -> PathBuf {
    let mut argv = vec!["/opt/my app/bin/it's".to_owned()];
    argv.extend(argv_tail.iter().cloned());
    let env: Vec<String> = HOSTILE
        .iter()
        .enumerate()
        .map(|(i, v)| format!("E{i} = {}", toml_str(v)))
        .collect();
    let text = format!(
        "name = \"stack\"\n[services.svc]\ncommand = {}\nuser = \"openim\"\ngroup = \"openim\"\n\
         working_dir = \"/data/dir with  spaces/*\"\n\
         logs = {{ stdout = \"/var/log/my app/out *.log\", stderr = \"/var/log/x'y $z.err\" }}\n\
         environment = {{ {} }}\n{extra}",
        toml_list(&argv),
        env.join(", ")
    );
    let path = dir.join("hostile.toml");
    std::fs::write(&path, text).expect("manifest");
    path
}

fn hostile_tail() -> Vec<String> {
    HOSTILE.iter().map(|s| (*s).to_owned()).collect()
}

fn expected_env(instance: Option<&str>) -> Vec<String> {
    HOSTILE
        .iter()
        .enumerate()
        .map(|(i, v)| {
            format!(
                "E{i}={}",
                instance.map_or((*v).to_owned(), |k| v.replace("{instance}", k))
            )
        })
        .collect()
}

#[test]
fn hostile_argv_env_and_paths_survive_openrc_eval() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let manifest = hostile_manifest(tmp.path(), "", &hostile_tail());
    let out = generate_into("openrc", Some(&manifest), &[]);
    let script = out.path().join("init.d/svc");
    for shell in shells() {
        let s = supervise_start(&shell, &script, "svc");
        assert_eq!(s.command, "/opt/my app/bin/it's", "{shell:?}");
        assert_eq!(s.args, hostile_tail(), "{shell:?}");
        assert_eq!(s.option("--chdir"), ["/data/dir with  spaces/*"]);
        assert_eq!(s.option("--stdout"), ["/var/log/my app/out *.log"]);
        assert_eq!(s.option("--stderr"), ["/var/log/x'y $z.err"]);
        assert_eq!(s.option("--user"), ["openim:openim"]);
        assert_eq!(s.option("--env"), expected_env(None), "{shell:?}");
        assert_eq!(s.option("--respawn-max"), ["0"]);
    }
    assert!(!Path::new("/tmp/openim-init-pwned").exists());
}

#[test]
fn instance_names_are_substituted_at_run_time() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let tail: Vec<String> = [
        "-i",
        "{instance}",
        "pre{instance}post",
        "a {instance}  b",
        "*{instance}",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let manifest = hostile_manifest(tmp.path(), "instances = [\"eu-1\", \"us_2\"]\n", &tail);
    let out = generate_into("openrc", Some(&manifest), &[]);
    let link = std::fs::read_link(out.path().join("init.d/svc.us_2")).expect("instance link");
    assert_eq!(link, Path::new("svc"));
    let script = out.path().join("init.d/svc.us_2");
    for shell in shells() {
        let s = supervise_start(&shell, &script, "svc.us_2");
        assert_eq!(
            s.args,
            ["-i", "us_2", "preus_2post", "a us_2  b", "*us_2"],
            "{shell:?}"
        );
        assert_eq!(s.option("--env"), expected_env(Some("us_2")));
    }
}

#[test]
fn restart_never_runs_the_command_once_through_the_guard() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let manifest = hostile_manifest(tmp.path(), "restart = \"never\"\n", &hostile_tail());
    let out = generate_into("openrc", Some(&manifest), &[]);
    let s = supervise_start(&["sh"], &out.path().join("init.d/svc"), "svc");
    assert_eq!(s.command, "/bin/sh");
    assert_eq!(s.option("--respawn-max"), ["1"]);
    assert_eq!(s.args[2], "/run/openrc/options/svc/start_count");
    assert_eq!(s.args[3], "/opt/my app/bin/it's");
    assert_eq!(s.args[4..], hostile_tail()[..]);
    // the guard itself: runs the command when start_count is 0, exits quietly otherwise
    let count = tmp.path().join("start_count");
    for (value, expect) in [("0", "ran a  b\n"), ("1", "")] {
        std::fs::write(&count, value).expect("count");
        let o = Command::new("sh")
            .args(["-c", &s.args[1]])
            .arg(&count)
            .args(["/bin/echo", "ran", "a  b"])
            .output()
            .expect("guard runs");
        assert!(o.status.success());
        assert_eq!(String::from_utf8_lossy(&o.stdout), expect);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn random_argv_round_trips(argv in prop::collection::vec("[ -~\\t\\u{e9}\\u{2713}]{0,12}", 0..6)) {
        let words: Vec<Vec<Piece<'_>>> = argv.iter().map(|a| vec![Piece::Text(a.as_str())]).collect();
        let mut script = String::from("#!/sbin/openrc-run\ncommand=/bin/true\n");
        for line in eval_assign("command_args", &words) {
            script.push_str(&line);
            script.push('\n');
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("svc");
        std::fs::write(&path, script).expect("script");
        let s = supervise_start(&["sh"], &path, "svc");
        prop_assert_eq!(s.args, argv);
    }
}
