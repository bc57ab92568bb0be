//! The text of the files: a header line, then YAML documents separated by `---`.

use anyhow::Context as _;
use serde::Serialize;

use super::objects::{self, Kustomization, RESOURCES, push_resource};
use super::plan::Plan;
use super::{DATA, KUSTOMIZATION, VOLUMES};
use crate::backend::kit::{HEADER, RenderContext, Rendered};
use crate::errors::Result;

/// The text of a file `NAME.yaml`: the workload, then its Service. Made in `scratch`, then
/// copied at its size: made in 8 KB of its own and shrunk, the texts handed on left holes
/// between them, and raised the heap's top by 380 KB at 10,000 services.
pub(super) fn file(
    scratch: &mut String,
    w: &objects::Workload<'_>,
    s: Option<objects::Service<'_>>,
) -> Result<String> {
    scratch.clear();
    push_header(scratch);
    documents(scratch, std::slice::from_ref(w))?;
    if let Some(s) = s {
        scratch.push_str("---\n");
        documents(scratch, &[s])?;
    }
    Ok(scratch.as_str().to_owned())
}

/// `kustomization.yaml`: the files written, in order (the workloads', then the claims'),
/// written a file at a time and handed on in parts (whole, it and the list of the files
/// took 400 KB at 10,000 services).
pub(super) fn kustomization(
    plan: &Plan<'_>,
    claims: bool,
    ctx: &RenderContext<'_>,
    out: &mut Rendered,
) -> Result<()> {
    let size = 256 + plan.object_names().map(|n| n.len() + 12).sum::<usize>();
    let mut file = ctx.file(KUSTOMIZATION, DATA.file_mode, size);
    let head = Kustomization {
        api_version: "kustomize.config.k8s.io/v1beta1",
        kind: "Kustomization",
    };
    push_header(file.text());
    documents(file.text(), &[head])?;
    file.text().push_str(RESOURCES);
    let mut name = String::new();
    for stem in plan.object_names() {
        name.clear();
        name.push_str(stem);
        name.push_str(".yaml");
        push_resource(file.text(), &name);
        file.part_done()?;
    }
    if claims {
        push_resource(file.text(), VOLUMES);
    }
    file.finish(out)
}

/// The first line of every file.
pub(super) fn header() -> String {
    let mut text = String::with_capacity(8192);
    push_header(&mut text);
    text
}

/// Append the first line of every file.
fn push_header(text: &mut String) {
    text.push_str("# ");
    text.push_str(HEADER);
    text.push('\n');
}

/// Append YAML documents separated by `---`.
pub(super) fn documents<T: Serialize>(out: &mut String, docs: &[T]) -> Result<()> {
    for (i, d) in docs.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        crate::escape::yaml::push_document(out, d).context("writing Kubernetes YAML")?;
    }
    Ok(())
}
