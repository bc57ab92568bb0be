//! The programs and process names of each service, their start priorities, and the check
//! that no two services end up with the same name.

use std::borrow::Cow;
use std::collections::HashMap;

use super::DATA;
use super::program::Instance;
use crate::errors::{Refusal, Result};
use crate::model::{Model, Service};

/// Each service's `priority`: its place in the start order.
pub(super) fn priorities(model: &Model) -> Vec<u32> {
    let d = &DATA.program;
    let mut priority = vec![999u32; model.services.len()];
    for (&s, i) in model.view.order().iter().zip(0u32..) {
        priority[s] = d
            .priority_base
            .saturating_add(d.priority_step.saturating_mul(i));
    }
    priority
}

/// A service's programs, named: itself (also as `numprocs` for the instances 0..N-1), or
/// one per named instance.
pub(super) fn program_names(svc: &Service) -> impl Iterator<Item = (Cow<'_, str>, Instance<'_>)> {
    let (single, named): (Option<Instance<'_>>, &[String]) = match &svc.instances {
        None => (Some(Instance::Single), &[]),
        Some(_) if svc.instances_are_indices() => (Some(Instance::Numprocs), &[]),
        Some(list) => (None, list),
    };
    single
        .map(|i| (Cow::Borrowed(&*svc.name), i))
        .into_iter()
        .chain(named.iter().map(move |i| {
            (
                Cow::Owned(format!("{}_{i}", svc.name)),
                Instance::Named(i.as_str()),
            )
        }))
}

/// The process names supervisorctl shows for a service: `NAME`, or `NAME_INSTANCE` each.
pub(super) fn processes(svc: &Service) -> impl Iterator<Item = Cow<'_, str>> {
    let single = svc.instances.is_none().then_some(Cow::Borrowed(&*svc.name));
    single.into_iter().chain(
        svc.instances
            .iter()
            .flatten()
            .map(move |i| Cow::Owned(format!("{}_{i}", svc.name))),
    )
}

/// Refuse two services whose programs or processes get the same name (instances are named
/// `SERVICE_INSTANCE`, which another service may be called). Without instances the names
/// are the service names, distinct already.
pub(super) fn check_names(model: &Model) -> Result<()> {
    if model.services.iter().all(|s| s.instances.is_none()) {
        return Ok(());
    }
    let mut seen: HashMap<Cow<'_, str>, usize> =
        HashMap::with_capacity(model.view.processes().len() + model.services.len());
    for (s, svc) in model.services.iter().enumerate() {
        let names = program_names(svc).map(|(n, _)| n).chain(processes(svc));
        for name in names {
            let first = *seen.entry(name.clone()).or_insert(s);
            if first != s {
                let other = &model.services[first].name;
                return Err(Refusal::new(
                    format!("services.{}", svc.name),
                    format!("supervisord names `{name}` twice (services `{other}` and `{}`): instances are named SERVICE_INSTANCE", svc.name),
                )
                .hint("rename one of the services")
                .into());
            }
        }
    }
    Ok(())
}
