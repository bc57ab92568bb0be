//! Synthetic OpenIM-like stacks for the benchmarks (issue 14): one generator per shape, each
//! a manifest text, plus the same services as a Procfile for the peers (honcho, foreman).
//! Deterministic: the same shape and size give the same bytes.

use std::fmt::Write as _;

/// The stack shapes the benchmark measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `n` services with a command and nothing else.
    Plain,
    /// `n` services with defaults, externals, dependencies (an external, the previous service,
    /// one further back), health checks, environment; every fifth has 2 instances.
    Rich,
    /// Service `i` requires service `i - 1`, every one with a health check (a short
    /// command, so that 100,000 services fit the manifest size limit).
    Chain,
    /// One service requires all the others (`n - 1` edges into one unit file).
    FanIn,
    /// Every service requires one hub service.
    FanOut,
    /// Layers of 100 services; each requires 4 services of the layer before.
    WideDag,
    /// `n / 250` services (at least 1) with 250 instances each (the limit is 256).
    Instances,
    /// `n` services, each requiring a name nobody defines (the "did you mean" error path).
    Unknown,
}

impl Shape {
    /// Every shape, in report order.
    pub const ALL: &[Shape] = &[
        Shape::Plain,
        Shape::Rich,
        Shape::Chain,
        Shape::FanIn,
        Shape::FanOut,
        Shape::WideDag,
        Shape::Instances,
        Shape::Unknown,
    ];

    /// The name on the command line and in reports.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Shape::Plain => "plain",
            Shape::Rich => "rich",
            Shape::Chain => "chain",
            Shape::FanIn => "fan-in",
            Shape::FanOut => "fan-out",
            Shape::WideDag => "wide-dag",
            Shape::Instances => "instances",
            Shape::Unknown => "unknown",
        }
    }

    /// The shape named `name`.
    #[must_use]
    pub fn parse(name: &str) -> Option<Shape> {
        Shape::ALL.iter().copied().find(|s| s.name() == name)
    }

    /// Whether the manifest is meant to be refused.
    #[must_use]
    pub fn invalid(self) -> bool {
        self == Shape::Unknown
    }
}

const HEADER: &str = "name = \"synth\"\ndescription = \"Synthetic OpenIM-like stack\"\n";

fn command(m: &mut String, i: usize, instanced: bool) {
    let inst = if instanced { "{instance}" } else { "0" };
    let _ = writeln!(
        m,
        "command = [\"/opt/openim/bin/openim-svc-{i}\", \"-i\", \"{inst}\", \"-c\", \"/etc/openim/config/\"]"
    );
}

fn plain(n: usize) -> String {
    let mut m = String::from(HEADER);
    for i in 0..n {
        let _ = writeln!(m, "\n[services.svc-{i}]");
        command(&mut m, i, false);
    }
    m
}

fn rich(n: usize) -> String {
    let mut m = String::from(HEADER);
    m.push_str(concat!(
        "\n[defaults]\nuser = \"openim\"\ngroup = \"openim\"\nworking_dir = \"/data/openim\"\n",
        "restart = \"always\"\nrestart_delay = \"5s\"\nstop_timeout = \"20s\"\n",
        "success_exit_codes = [255]\nlimits = { nofile = 200000 }\nrequires = [\"etcd\"]\n",
    ));
    for (name, port) in [
        ("etcd", 12379),
        ("mongodb", 37017),
        ("redis", 16379),
        ("kafka", 19094),
    ] {
        let _ = write!(
            m,
            "\n[external.{name}]\ncheck = {{ tcp = \"127.0.0.1:{port}\" }}\n"
        );
    }
    let externals = ["mongodb", "redis", "kafka"];
    for i in 0..n {
        let instanced = i % 5 == 4;
        let _ = writeln!(m, "\n[services.svc-{i}]");
        let _ = writeln!(m, "description = \"OpenIM service {i} (50% of $LOAD)\"");
        command(&mut m, i, instanced);
        if instanced {
            m.push_str("instances = 2\n");
        }
        let _ = writeln!(
            m,
            "environment = {{ IMENV_LOG_ISSTDOUT = \"true\", SVC_ID = \"{i}\", MOTD = \"it's \\\"{i}\\\" $HOME\" }}"
        );
        let mut requires = vec![format!("\"{}\"", externals[i % externals.len()])];
        if i > 0 {
            requires.push(format!("\"svc-{}\"", i - 1));
        }
        let _ = writeln!(m, "requires = [{}]", requires.join(", "));
        if i > 1 {
            let _ = writeln!(m, "wants = [\"svc-{}\"]", i / 2);
        }
        let _ = writeln!(
            m,
            "health = {{ tcp = \"127.0.0.1:{}\", interval = \"10s\", timeout = \"3s\", retries = 3 }}",
            10_000 + i % 50_000
        );
    }
    m
}

fn chain(n: usize) -> String {
    // short lines: 100,000 services stay under the 16 MiB manifest limit
    let mut m = String::from(HEADER);
    for i in 0..n {
        let _ = writeln!(
            m,
            "\n[services.svc-{i}]\ncommand = [\"/opt/openim/bin/svc\"]"
        );
        if i > 0 {
            let _ = writeln!(m, "requires = [\"svc-{}\"]", i - 1);
        }
        let _ = writeln!(
            m,
            "health = {{ tcp = \"127.0.0.1:{}\" }}",
            10_000 + i % 50_000
        );
    }
    m
}

fn fan_in(n: usize) -> String {
    let mut m = plain(n.saturating_sub(1));
    m.push_str("\n[services.sink]\ncommand = [\"/opt/openim/bin/sink\"]\nrequires = [");
    for i in 0..n.saturating_sub(1) {
        if i > 0 {
            m.push_str(", ");
        }
        let _ = write!(m, "\"svc-{i}\"");
    }
    m.push_str("]\n");
    m
}

fn fan_out(n: usize) -> String {
    let mut m = String::from(HEADER);
    m.push_str(
        "\n[services.hub]\ncommand = [\"/opt/openim/bin/hub\"]\nhealth = { tcp = \"127.0.0.1:9999\" }\n",
    );
    for i in 0..n.saturating_sub(1) {
        let _ = writeln!(m, "\n[services.svc-{i}]");
        command(&mut m, i, false);
        m.push_str("requires = [\"hub\"]\n");
    }
    m
}

fn wide_dag(n: usize) -> String {
    const WIDTH: usize = 100;
    let mut m = String::from(HEADER);
    for i in 0..n {
        let _ = writeln!(m, "\n[services.svc-{i}]");
        command(&mut m, i, false);
        if i >= WIDTH {
            let layer = i / WIDTH - 1;
            let deps: Vec<String> = (0..4)
                .map(|k| format!("\"svc-{}\"", layer * WIDTH + (i * 7 + k * 31) % WIDTH))
                .collect();
            let _ = writeln!(m, "requires = [{}]", deps.join(", "));
        }
    }
    m
}

fn instances(n: usize) -> String {
    let mut m = String::from(HEADER);
    for i in 0..(n / 250).max(1) {
        let _ = writeln!(m, "\n[services.svc-{i}]");
        command(&mut m, i, true);
        let _ = writeln!(m, "instances = {}", n.min(250));
    }
    m
}

fn unknown(n: usize) -> String {
    let mut m = String::from(HEADER);
    for i in 0..n {
        let _ = writeln!(m, "\n[services.svc-{i}]");
        command(&mut m, i, false);
        let _ = writeln!(m, "requires = [\"dep-{i}\"]");
    }
    m
}

/// The manifest of `shape` with `n` services (or processes, for [`Shape::Instances`]).
#[must_use]
pub fn manifest(shape: Shape, n: usize) -> String {
    match shape {
        Shape::Plain => plain(n),
        Shape::Rich => rich(n),
        Shape::Chain => chain(n),
        Shape::FanIn => fan_in(n),
        Shape::FanOut => fan_out(n),
        Shape::WideDag => wide_dag(n),
        Shape::Instances => instances(n),
        Shape::Unknown => unknown(n),
    }
}

/// `n` Procfile entries running the same commands as [`Shape::Plain`]: what the peers
/// export (they have no dependencies, health checks or instances to compare).
#[must_use]
pub fn procfile(n: usize) -> String {
    let mut p = String::new();
    for i in 0..n {
        let _ = writeln!(
            p,
            "svc-{i}: /opt/openim/bin/openim-svc-{i} -i 0 -c /etc/openim/config/"
        );
    }
    p
}
