//! Cases with something an init system cannot carry however it is written (systemd: a
//! Unicode noncharacter anywhere, a quote, backslash or tab in a program path): `generate`
//! must refuse them with exit code 2 and name one of the offending fields; the rest of the
//! case still goes through the round trip with the offending characters dropped.

use super::cases::Case;
use super::{Batch, Lab, RoundTrip};

/// The manifest fields of `case` (as service `c0`) that `rt` cannot carry.
fn offending(rt: &dyn RoundTrip, case: &Case) -> Vec<String> {
    let bad = |text: &str| text.chars().any(|c| rt.uncarried(c));
    let program = format!("/x/{}/probe", case.exe_dir);
    let bad_program = bad(&program) || rt.program_problem(&program).is_some();
    let mut fields = Vec::new();
    let mut argv = |field: String, args: &[String]| {
        if bad_program {
            fields.push(format!("{field}[0]"));
        }
        for (i, a) in args.iter().enumerate() {
            if bad(a) {
                fields.push(format!("{field}[{}]", i + 1));
            }
        }
    };
    argv("command".into(), &case.args);
    for (j, pre) in case.pre.iter().enumerate() {
        argv(format!("pre_start[{j}]"), pre);
    }
    for (k, v) in &case.env {
        if bad(v) {
            fields.push(format!("environment.{k}"));
        }
    }
    fields
        .into_iter()
        .map(|f| format!("services.{}.{f}", Batch::service(0)))
        .collect()
}

/// `case` as far as `rt` can carry it, and whether it had to be cut; Err when `generate`
/// did not refuse the original the way it must.
pub fn carried(rt: &dyn RoundTrip, lab: &Lab, case: &Case) -> Result<(Case, bool), String> {
    let fields = offending(rt, case);
    if fields.is_empty() {
        return Ok((case.clone(), false));
    }
    let batch = Batch::new(lab, std::slice::from_ref(case));
    match batch.generate(rt.name(), &[]) {
        Err(e) if e.contains("exited with 2") && fields.iter().any(|f| e.contains(f.as_str())) => {}
        other => {
            return Err(format!(
                "{} cannot carry {fields:?}, so generate must exit 2 naming one of them; it gave {other:?}",
                rt.name()
            ));
        }
    }
    let keep = |text: &str| -> String { text.chars().filter(|c| !rt.uncarried(*c)).collect() };
    let mut dir: String = keep(&case.exe_dir)
        .chars()
        .filter(|c| rt.program_problem(&format!("/x/{c}/probe")).is_none())
        .collect();
    if dir.is_empty() || dir == "." || dir == ".." {
        dir = "x".into();
    }
    let words = |v: &[String]| v.iter().map(|a| keep(a)).collect::<Vec<_>>();
    Ok((
        Case {
            exe_dir: dir,
            odd_path: case.odd_path,
            args: words(&case.args),
            env: case.env.iter().map(|(k, v)| (k.clone(), keep(v))).collect(),
            pre: case.pre.iter().map(|p| words(p)).collect(),
            variant: case.variant,
        },
        true,
    ))
}
