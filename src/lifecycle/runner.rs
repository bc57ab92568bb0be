//! The one way lifecycle code runs a command: an argv in, exit code + stdout + stderr out,
//! with a timeout. [`Setup`] holds what tests and options swap without touching the logic: a
//! prefix for every command (`nsenter -t PID -m --`) and extra arguments per tool (`systemctl
//! --user`, `supervisorctl -c FILE`). [`ProcessRunner`] runs for real; [`RecordingRunner`]
//! only records the final argv (for `--dry-run` and for snapshotting a command plan).

use std::process::{Command, Stdio};
use std::sync::{Mutex, mpsc};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};

/// The default time a command may take before it is killed.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(90);

/// How commands are turned into the argv that actually runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Setup {
    /// Words put before every command, e.g. `["nsenter", "-t", "42", "-m", "--"]`.
    pub prefix: Vec<String>,
    /// Extra arguments inserted right after a tool's name, keyed by that name:
    /// `("systemctl", ["--user"])` turns `systemctl start x` into `systemctl --user start x`.
    pub tool_args: Vec<(String, Vec<String>)>,
    /// The time limit for one command; `None` means [`DEFAULT_TIMEOUT`].
    pub timeout: Option<Duration>,
}

impl Setup {
    /// Add `args` after every invocation of `tool` (matched on the argv's first word, or its
    /// file name when the command names a path).
    #[must_use]
    pub fn with_tool_args(mut self, tool: &str, args: &[&str]) -> Self {
        let args = args.iter().map(|a| (*a).to_owned()).collect();
        self.tool_args.push((tool.to_owned(), args));
        self
    }

    /// Put `prefix` before every command.
    #[must_use]
    pub fn with_prefix(mut self, prefix: &[&str]) -> Self {
        self.prefix = prefix.iter().map(|a| (*a).to_owned()).collect();
        self
    }

    /// The argv that runs for `argv`: prefix, tool, the tool's extra arguments, the rest.
    #[must_use]
    pub fn expand(&self, argv: &[String]) -> Vec<String> {
        let mut out = self.prefix.clone();
        let Some((tool, rest)) = argv.split_first() else {
            return out;
        };
        out.push(tool.clone());
        let name = tool.rsplit('/').next().unwrap_or(tool);
        for (t, extra) in &self.tool_args {
            if t == name {
                out.extend(extra.iter().cloned());
            }
        }
        out.extend(rest.iter().cloned());
        out
    }

    fn timeout(&self) -> Duration {
        self.timeout.unwrap_or(DEFAULT_TIMEOUT)
    }
}

/// What a finished command gave back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Output {
    /// The exit code; `None` when it was ended by a signal or the timeout.
    pub code: Option<i32>,
    /// Standard output (lossily decoded).
    pub stdout: String,
    /// Standard error (lossily decoded).
    pub stderr: String,
    /// Whether it was killed because it ran past the timeout.
    pub timed_out: bool,
}

impl Output {
    /// An output with exit code `code` and the given standard output.
    #[must_use]
    pub fn exited(code: i32, stdout: &str) -> Self {
        Self {
            code: Some(code),
            stdout: stdout.to_owned(),
            ..Self::default()
        }
    }

    /// Whether it exited with code 0.
    #[must_use]
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
}

/// Something that runs commands. Everything lifecycle runs goes through one of these.
pub trait Runner: Send + Sync {
    /// Run `argv` (before [`Setup::expand`]) and wait for it, at most the timeout.
    ///
    /// # Errors
    /// The program could not be started (not found, not executable).
    fn run(&self, argv: &[String]) -> Result<Output>;

    /// The setup that turns an argv into what runs.
    fn setup(&self) -> &Setup;

    /// Whether commands only get recorded (a dry run): callers then skip waiting for
    /// effects.
    fn is_dry_run(&self) -> bool {
        false
    }
}

/// Runs commands as child processes, in their own process group, with stdin closed.
#[derive(Debug, Clone, Default)]
pub struct ProcessRunner {
    setup: Setup,
}

impl ProcessRunner {
    /// A runner with this setup.
    #[must_use]
    pub fn new(setup: Setup) -> Self {
        Self { setup }
    }
}

/// Read a pipe to its end on a thread of its own; the bytes arrive on the channel.
fn drain(pipe: Option<impl std::io::Read + Send + 'static>) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut buf);
        }
        let _ = tx.send(buf);
    });
    rx
}

/// What a drained pipe gave, waiting at most until `deadline` (at least a second): a
/// daemon the command started may keep the pipe open long after the command exited.
fn collect(rx: &mpsc::Receiver<Vec<u8>>, deadline: Instant) -> String {
    let wait = deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_secs(1));
    String::from_utf8_lossy(&rx.recv_timeout(wait).unwrap_or_default()).into_owned()
}

impl Runner for ProcessRunner {
    fn run(&self, argv: &[String]) -> Result<Output> {
        let full = self.setup.expand(argv);
        let (program, rest) = full
            .split_first()
            .ok_or_else(|| anyhow::anyhow!("an empty command"))?;
        let mut child = {
            use std::os::unix::process::CommandExt as _;
            Command::new(program)
                .args(rest)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .process_group(0)
                .spawn()
                .with_context(|| format!("running `{}`", full.join(" ")))?
        };
        let out = drain(child.stdout.take());
        let err = drain(child.stderr.take());
        let deadline = Instant::now() + self.setup.timeout();
        let mut timed_out = false;
        let status = loop {
            if let Some(status) = child.try_wait().context("waiting for a command")? {
                break status;
            }
            if Instant::now() >= deadline {
                timed_out = true;
                // the whole group: a tool's own children must not keep the pipes open
                let pid = rustix::process::Pid::from_child(&child);
                let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
                let _ = child.kill();
                break child.wait().context("waiting for a killed command")?;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        Ok(Output {
            code: if timed_out { None } else { status.code() },
            stdout: collect(&out, deadline),
            stderr: collect(&err, deadline),
            timed_out,
        })
    }

    fn setup(&self) -> &Setup {
        &self.setup
    }
}

/// Records every argv (after [`Setup::expand`]) and runs nothing. Replies are scripted: the
/// first rule whose words start the argv (before expansion) gives the output; otherwise the
/// command "succeeds" with empty output.
#[derive(Debug, Default)]
pub struct RecordingRunner {
    setup: Setup,
    log: Mutex<Vec<Vec<String>>>,
    replies: Vec<(Vec<String>, Output)>,
    live: bool,
}

impl RecordingRunner {
    /// A recorder with this setup.
    #[must_use]
    pub fn new(setup: Setup) -> Self {
        Self {
            setup,
            ..Self::default()
        }
    }

    /// Not a dry run: the caller writes its files as for real and only the commands are
    /// recorded (tests of a whole install on a scratch tree).
    #[must_use]
    pub fn live(mut self) -> Self {
        self.live = true;
        self
    }

    /// Reply `output` to every command that starts with `words`.
    #[must_use]
    pub fn reply(mut self, words: &[&str], output: Output) -> Self {
        let words = words.iter().map(|w| (*w).to_owned()).collect();
        self.replies.push((words, output));
        self
    }

    /// The commands recorded so far, in order, as they would have run.
    #[must_use]
    pub fn recorded(&self) -> Vec<Vec<String>> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// The recorded commands as shell-like lines, one per command (for snapshots and
    /// `--dry-run`).
    #[must_use]
    pub fn transcript(&self) -> String {
        self.recorded()
            .iter()
            .map(|argv| {
                let words: Vec<String> = argv.iter().map(|w| quote(w)).collect();
                words.join(" ") + "\n"
            })
            .collect()
    }
}

/// A word quoted for display when it needs it (POSIX single quotes).
fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:@%+,".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

impl Runner for RecordingRunner {
    fn run(&self, argv: &[String]) -> Result<Output> {
        if let Ok(mut log) = self.log.lock() {
            log.push(self.setup.expand(argv));
        }
        let reply = self
            .replies
            .iter()
            .find(|(words, _)| argv.starts_with(words))
            .map_or_else(|| Output::exited(0, ""), |(_, o)| o.clone());
        Ok(reply)
    }

    fn setup(&self) -> &Setup {
        &self.setup
    }

    fn is_dry_run(&self) -> bool {
        !self.live
    }
}

/// An argv from string slices.
#[must_use]
pub fn argv(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| (*w).to_owned()).collect()
}

#[cfg(test)]
mod tests;
