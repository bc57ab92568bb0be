//! User templates (`--templates DIR`) that would crash the process are refused, or stopped
//! while rendering, with exit code 2 and a message naming the template.

use crate::common::{Cli, Run};

/// Dump the default templates, replace `name` with `text`, render for systemd.
fn render_with(name: &str, text: &str) -> Run {
    let dir = tempfile::tempdir().expect("tempdir");
    Cli::new().args(["templates", "dump"]).arg(dir.path()).ok();
    std::fs::write(dir.path().join(name), text).expect("write");
    Cli::new()
        .args(["generate", "--backend", "systemd", "--templates"])
        .arg(dir.path())
        .run()
}

fn refused(name: &str, text: &str, why: &str) {
    let r = render_with(name, text);
    assert_eq!(r.code, 2, "{text:.80}: {}", r.stderr);
    assert!(r.stderr.contains(name), "{text:.80}: {}", r.stderr);
    assert!(
        r.stderr.contains(why),
        "{text:.80}: want {why}: {}",
        r.stderr
    );
    assert!(r.stdout.is_empty());
}

#[test]
fn recursion_is_refused_before_rendering() {
    let target = "systemd/target.tera";
    refused(
        target,
        "{% include \"systemd/target.tera\" %}",
        "includes itself",
    );
    // through another template
    let dir = tempfile::tempdir().expect("tempdir");
    Cli::new().args(["templates", "dump"]).arg(dir.path()).ok();
    std::fs::write(
        dir.path().join("systemd/service.tera"),
        "{% include \"systemd/target.tera\" %}",
    )
    .expect("write");
    std::fs::write(
        dir.path().join(target),
        "{% include \"systemd/service.tera\" %}",
    )
    .expect("write");
    let r = Cli::new()
        .args(["generate", "--backend", "systemd", "--templates"])
        .arg(dir.path())
        .run();
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "includes itself: systemd/service.tera → systemd/target.tera → systemd/service.tera"
        ),
        "{}",
        r.stderr
    );
    refused(
        target,
        "{% macro m(n) %}{{ self::m(n=n) }}{% endmacro %}{{ self::m(n=1) }}",
        "macro `m` calls itself",
    );
    refused(
        target,
        "{% macro a() %}{{ self::b() }}{% endmacro %}{% macro b() %}{{ self::a() }}{% endmacro %}{{ self::a() }}",
        "calls itself",
    );
}

#[test]
fn deep_nesting_and_huge_expressions_are_refused() {
    let target = "systemd/target.tera";
    refused(
        target,
        &"{% if true %}".repeat(40),
        "nest more than 32 deep",
    );
    let sum = format!("{{{{ {} }}}}", vec!["1"; 30_000].join("+"));
    refused(target, &sum, "at most 1024 are allowed");
    refused(target, &"x".repeat(70 * 1024), "larger than 64 KiB");
}

#[test]
fn unbounded_output_stops_with_an_error() {
    let target = "systemd/target.tera";
    refused(
        target,
        "{% for i in range(end=100000000) %}x{% endfor %}",
        "at most 10000 are allowed",
    );
    refused(
        target,
        "{% for i in range(end=10000) %}{% for j in range(end=10000) %}xxxxxxxxxx{% endfor %}{% endfor %}",
        "loop iterations and macro calls",
    );
    refused(
        target,
        "{% macro m() %}{% for i in range(end=10000) %}{% for j in range(end=10000) %}x{% endfor %}{% endfor %}{% endmacro %}{{ self::m() }}",
        "loop iterations and macro calls",
    );
    refused(
        target,
        "{% set s = header %}{% set s = s ~ s %}{{ s }}",
        "which a `set` writes",
    );
    refused(
        target,
        "{{ header | addslashes | addslashes }}",
        "`addslashes` filter is refused",
    );
    refused(
        target,
        "{{ header | replace(from=\"\", to=\"xx\") }}",
        "`replace` in an override",
    );
}

#[test]
fn a_misspelled_override_is_an_error_with_did_you_mean() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("systemd")).expect("mkdir");
    std::fs::write(dir.path().join("systemd/servce.tera"), "x").expect("write");
    let r = Cli::new()
        .args(["generate", "--backend", "systemd", "--templates"])
        .arg(dir.path())
        .run();
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "systemd/servce.tera replaces no template; did you mean `systemd/service.tera`?"
        ),
        "{}",
        r.stderr
    );
}

#[test]
fn overrides_that_are_fine_render_unchanged() {
    // the instrumented copy of an unchanged template renders byte for byte the same
    let plain = Cli::new().args(["generate", "--backend", "systemd"]).ok();
    let dir = tempfile::tempdir().expect("tempdir");
    Cli::new().args(["templates", "dump"]).arg(dir.path()).ok();
    let with = Cli::new()
        .args(["generate", "--backend", "systemd", "--templates"])
        .arg(dir.path())
        .ok();
    assert_eq!(plain.stdout, with.stdout);
    // a broken but harmless template is an error naming it
    let r = render_with("systemd/target.tera", "{{ no_such_value }}");
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("rendering template systemd/target.tera"),
        "{}",
        r.stderr
    );
}
