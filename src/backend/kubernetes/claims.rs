//! The claims of named volumes: one `PersistentVolumeClaim` per volume name, in
//! [`super::VOLUMES`].

use indexmap::IndexMap;

use super::CLAIM_SIZE;
use super::names;
use super::objects::{Claim, ClaimResources, ClaimSpec, Meta, V1};
use crate::errors::{Refusal, Result};

/// The named volumes of `volumes` added to `claims` (claim name → volume), refusing two
/// volumes whose claim names are the same.
///
/// # Errors
/// Two volumes map to the same claim name.
pub fn add_claims(
    claims: &mut IndexMap<String, String>,
    field: &str,
    volumes: &[crate::model::Volume],
) -> Result<()> {
    for v in volumes.iter().filter(|v| !v.is_host_path()) {
        let name = names::object_name(&format!("{field}.container.volumes"), &v.source)?;
        match claims.get(&name) {
            Some(other) if *other != v.source => {
                return Err(Refusal::new(
                    format!("{field}.container.volumes"),
                    format!(
                        "volumes `{other}` and `{}` would be the same claim `{name}`",
                        v.source
                    ),
                )
                .hint("rename one of them")
                .into());
            }
            _ => {
                claims.insert(name, v.source.clone());
            }
        }
    }
    Ok(())
}

/// The claim `name` of `stack`.
#[must_use]
pub fn claim<'a>(stack: &'a str, name: &'a str) -> Claim<'a> {
    let labels = names::Labels(vec![
        (names::PART_OF, names::stack_label(stack).into()),
        (names::MANAGED_BY, "openim-init".into()),
    ]);
    let mut requests = IndexMap::new();
    requests.insert("storage", CLAIM_SIZE.to_owned());
    Claim {
        api_version: V1,
        kind: "PersistentVolumeClaim",
        metadata: Meta {
            name: Some(name.into()),
            labels,
            annotations: names::Labels::default(),
        },
        spec: ClaimSpec {
            access_modes: vec!["ReadWriteOnce"],
            resources: ClaimResources { requests },
        },
    }
}
