//! The native plist writer against the `plist` crate, byte for byte.

use super::super::argv::{Escaped, Xml};
use super::*;
use crate::backend::shared::waits::WaitScripts;
use crate::backend::shared::wrapper::Ready;

/// The plist as the `plist` crate writes it (with the comment after the DOCTYPE).
fn through_the_crate(job: &Job<'_>) -> String {
    let mut buf = Vec::new();
    plist::to_writer_xml(&mut buf, job).expect("serialisable");
    let xml = String::from_utf8(buf).expect("UTF-8");
    let comment = format!("<!-- {} -->", HEADER.replace("--", "- -"));
    let mut out = String::new();
    for (i, line) in xml.lines().enumerate() {
        out.push_str(line);
        out.push('\n');
        if i == 1 {
            out.push_str(&comment);
            out.push('\n');
        }
    }
    out
}

#[test]
fn the_native_plist_is_the_crates_byte_for_byte() {
    let texts = [
        include_str!("../../../../tests/fixtures/full.toml"),
        include_str!("../../../../tests/fixtures/minimal.toml"),
        include_str!("../../../../tests/fixtures/supervisord-hostile.toml"),
        r#"
name = "x"
[services.a]
command = ["/bin/a", "", "it's <&> \"q\"", "tab\tend", "é 🦀"]
environment = { E = "", F = "a'b" }
restart = "never"
limits = { nproc = 10 }
[services.b]
command = ["/bin/b"]
restart = "on-failure"
limits = { nofile = 5, nproc = 6 }
logs = { stdout = "/var/log/b.out", stderr = "/var/log/b.err" }
instances = ["x", "y"]
"#,
    ];
    let mut models = vec![crate::model::Model::builtin()];
    for t in texts {
        models.push(crate::model::Model::from_toml("t.toml", t).expect("valid"));
    }
    // line breaks the model refuses, through the writer anyway
    let mut raw = models[models.len() - 1].clone();
    let svc = &mut raw.services[0];
    svc.command = svc.command.iter().chain(["cr\r\nlf\r"]).collect();
    svc.environment = svc.environment.iter().chain([("G", "\r\r\n")]).collect();
    models.push(raw);
    let mut jobs = 0;
    for model in &models {
        for p in model.view.processes() {
            let svc = &model.services[p.service];
            let escaped = Escaped::new(WaitScripts::new(model));
            let syntax = Xml {
                escaped: &escaped,
                targets: &[],
            };
            let exports = vec![("K".into(), "v'<".into())];
            let wait = Ready {
                script: Cow::Borrowed("echo '<&>' \"$x\""),
                hard: false,
            };
            for prelude in [
                Prelude::default(),
                Prelude {
                    exports,
                    waits: vec![wait],
                    environment_file: Some("/e f"),
                    ..Prelude::default()
                },
            ] {
                let job = job(svc, prelude, "io.x.y", p.instance.as_deref());
                assert_eq!(job.to_xml(&syntax), through_the_crate(&job), "{}", svc.name);
                jobs += 1;
            }
        }
    }
    assert!(jobs > 20, "{jobs}");
}
