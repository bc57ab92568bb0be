//! Every value position refuses what no backend can write, naming the field.

use super::Model;

/// A valid manifest with `@` where each test puts its value, and the field it must name.
const POSITIONS: &[(&str, &str)] = &[
    ("description = \"@\"\n", "description"),
    (
        "[services.a]\ncommand = [\"/bin/a\", \"@\"]\n",
        "services.a.command[1]",
    ),
    (
        "[services.a]\ncommand = [\"/bin/a\"]\ndescription = \"@\"\n",
        "services.a.description",
    ),
    (
        "[services.a]\ncommand = [\"/bin/a\"]\nenvironment = { K = \"@\" }\n",
        "services.a.environment.K",
    ),
    (
        "[defaults]\nenvironment = { K = \"@\" }\n[services.a]\ncommand = [\"/bin/a\"]\n",
        "defaults.environment.K",
    ),
    (
        "[services.a]\ncommand = [\"/bin/a\"]\nworking_dir = \"/@\"\n",
        "services.a.working_dir",
    ),
    (
        "[defaults.container]\nenvironment = { K = \"@\" }\n[services.a]\ncommand = [\"/bin/a\"]\ncontainer = { environment = { L = \"x\" } }\n",
        "defaults.container.environment.K",
    ),
    (
        "[services.a]\ncommand = [\"/bin/a\"]\ncontainer = { environment = { K = \"@\" } }\n",
        "services.a.container.environment.K",
    ),
    (
        "[defaults]\nworking_dir = \"/@\"\n[services.a]\ncommand = [\"/bin/a\"]\n",
        "defaults.working_dir",
    ),
    (
        "[services.a]\ncommand = [\"/bin/a\"]\nenvironment_file = \"/@\"\n",
        "services.a.environment_file",
    ),
    (
        "[services.a]\ncommand = [\"/bin/a\"]\nuser = \"@\"\n",
        "services.a.user",
    ),
    (
        "[services.a]\ncommand = [\"/bin/a\"]\ngroup = \"@\"\n",
        "services.a.group",
    ),
    (
        "[services.a]\ncommand = [\"/bin/a\"]\nlogs = { stdout = \"/@\" }\n",
        "services.a.logs.stdout",
    ),
    (
        "[services.a]\ncommand = [\"/bin/a\"]\nlogs = { stdout = \"/x\", stderr = \"/@\" }\n",
        "services.a.logs.stderr",
    ),
    (
        "[services.a]\ncommand = [\"/bin/a\"]\npre_start = [[\"/bin/b\", \"@\"]]\n",
        "services.a.pre_start[0][1]",
    ),
    (
        "[services.a]\ncommand = [\"/bin/a\"]\nhealth = { http = \"http://h/@\" }\n",
        "services.a.health.http",
    ),
    (
        "[services.a]\ncommand = [\"/bin/a\"]\nhealth = { tcp = \"h@:1\" }\n",
        "services.a.health.tcp",
    ),
    (
        "[services.a]\ncommand = [\"/bin/a\"]\nhealth = { exec = [\"/bin/c\", \"@\"] }\n",
        "services.a.health.exec[1]",
    ),
    (
        "[services.a]\ncommand = [\"/bin/a\"]\ninstances = [\"@\"]\n",
        "services.a.instances[0]",
    ),
    (
        "[services.a]\ncommand = [\"/bin/a\"]\n[external.k]\ncheck = { exec = [\"/bin/c\", \"@\"] }\n",
        "external.k.check.exec[1]",
    ),
    (
        "[services.a]\ncommand = [\"/bin/a\"]\n[external.k]\ncheck = { http = \"http://h/@\" }\n",
        "external.k.check.http",
    ),
    (
        "[services.a]\ncommand = [\"/bin/a\"]\n[external.k]\ndescription = \"@\"\ncheck = { tcp = \"h:1\" }\n",
        "external.k.description",
    ),
    (
        "[services.a]\ncommand = [\"/bin/a\"]\n[groups.g]\ndescription = \"@\"\nservices = [\"a\"]\n",
        "groups.g.description",
    ),
    ("[services.\"@\"]\ncommand = [\"/bin/a\"]\n", "services.*"),
];

#[test]
fn every_value_position_refuses_unwritable_characters() {
    for bad in ["\\u0000", "\\n", "\\r", "\\u001b", "\\u007f"] {
        for (template, field) in POSITIONS {
            let text = format!(
                "name = \"x\"\n{}",
                template.replace('@', &format!("a{bad}b"))
            );
            let Err(errors) = Model::from_toml("t.toml", &text) else {
                panic!("accepted {bad} in {field}:\n{text}");
            };
            let named = errors.0.iter().any(|e| match field.strip_suffix('*') {
                Some(prefix) => e.field.starts_with(prefix),
                None => e.field == *field,
            });
            assert!(named, "{bad} in {field}: {errors}");
        }
    }
}

#[test]
fn tabs_and_unicode_are_fine_where_text_is_free() {
    let text = "name = \"x\"\ndescription = \"tab\\there, ünïcødé ✓\"\n[services.a]\n\
                command = [\"/bin/a\", \"\\t\", \"ü\"]\nenvironment = { K = \"é\\t\" }\n";
    assert!(Model::from_toml("t.toml", text).is_ok());
}

#[test]
fn a_services_container_environment_is_merged_variable_by_variable() {
    let text = "name = \"x\"\n[defaults.container]\nenvironment = { A = \"1\", B = \"1\" }\n\
                [services.a]\ncommand = [\"/bin/a\"]\ncontainer = { environment = { B = \"2\" } }\n";
    let m = Model::from_toml("t.toml", text).expect("valid");
    let env: Vec<(&str, &str)> = m.services[0]
        .container
        .environment
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(env, [("A", "1"), ("B", "2")]);
    let bad = "name = \"x\"\n[defaults.container]\ncommand = [\"/bin/x\"]\n[services.a]\ncommand = [\"/bin/a\"]\n";
    assert!(Model::from_toml("t.toml", bad).is_err());
}

/// What many services have in common is held once, whichever way the model is built
/// (`[defaults]` first: as it is read; last: from the parsed manifest): a description
/// not given is the name's own string, and the container from `[defaults.container]`
/// is one for every service that gives none. A description given, even empty, is kept.
#[test]
fn what_services_share_is_held_once() {
    use std::sync::Arc;
    let defaults = "[defaults]\nuser = \"u\"\nworking_dir = \"/w\"\nsuccess_exit_codes = [3]\n\
                    [defaults.container]\nimage = \"img:1\"\n";
    let services = r#"
[services.a]
command = ["/bin/a"]
[services.b]
command = ["/bin/b"]
description = ""
[services.c]
command = ["/bin/c"]
container = { ports = [80] }
user = "v"
success_exit_codes = [3]
"#;
    for text in [
        format!("name = \"s\"\n{defaults}{services}"),
        format!("name = \"s\"\n{services}{defaults}"),
    ] {
        let m = Model::from_toml("t.toml", &text).expect("valid");
        let [a, b, c] = &m.services[..] else {
            panic!("three services")
        };
        assert!(Arc::ptr_eq(&a.name, &a.description), "{text}");
        assert_eq!((&*b.name, &*b.description), ("b", ""));
        assert!(Arc::ptr_eq(&a.container, &b.container), "{text}");
        assert!(!Arc::ptr_eq(&a.container, &c.container));
        assert_eq!(c.container.image.as_deref(), Some("img:1"));
        assert_eq!(c.container.ports, [80]);
        // values from [defaults] (or equal to the last one) are held once
        let (au, bu) = (a.user.as_ref().expect("u"), b.user.as_ref().expect("u"));
        assert!(Arc::ptr_eq(au, bu), "{text}");
        assert_eq!(c.user.as_deref(), Some("v"));
        let wd = |s: &crate::model::Service| s.working_dir.clone().expect("/w");
        assert!(Arc::ptr_eq(&wd(a), &wd(c)) && &*wd(c) == "/w");
        assert!(Arc::ptr_eq(&a.success_exit_codes, &c.success_exit_codes));
        assert_eq!(*c.success_exit_codes, [3]);
        // a and b run alike: one policy; c runs as another user: its own
        assert!(Arc::ptr_eq(&a.policy, &b.policy), "{text}");
        assert!(!Arc::ptr_eq(&a.policy, &c.policy));
    }
}

/// Changing a service's policy through the service copies a shared policy first: the
/// services that shared it keep theirs.
#[test]
fn changing_a_shared_policy_changes_one_service() {
    use std::sync::Arc;
    let text = "name = \"s\"\n[defaults]\nuser = \"u\"\n\
                [services.a]\ncommand = [\"/bin/a\"]\n[services.b]\ncommand = [\"/bin/b\"]\n";
    let mut m = Model::from_toml("t.toml", text).expect("valid");
    assert!(Arc::ptr_eq(&m.services[0].policy, &m.services[1].policy));
    m.services[0].user = Some("root".into());
    assert_eq!(m.services[0].user.as_deref(), Some("root"));
    assert_eq!(m.services[1].user.as_deref(), Some("u"));
    assert!(!Arc::ptr_eq(&m.services[0].policy, &m.services[1].policy));
}

mod view {
    use crate::model::{DepKind, Model, Target};

    const STACK: &str = r#"
name = "t"
[external.db]
check = { tcp = "127.0.0.1:5432" }
wait_timeout = "5s"
[services.a]
command = ["/bin/a"]
requires = ["db"]
health = { tcp = "127.0.0.1:1", interval = "1s", timeout = "1s", retries = 1 }
[services.b]
command = ["/bin/b"]
requires = ["a"]
after = ["a"]
wants = ["db"]
instances = ["x", "y"]
[services.c]
command = ["/bin/c"]
wants = ["b"]
[services.d]
command = ["/bin/d"]
before = ["a"]
"#;

    #[test]
    fn one_expansion_typed_edges_and_memoized_budgets() {
        let m = Model::from_toml("t.toml", STACK).expect("valid");
        let names: Vec<String> = m
            .view
            .processes()
            .iter()
            .map(|p| p.joined(&m.services[p.service], "@"))
            .collect();
        assert_eq!(names, ["a", "b@x", "b@y", "c", "d"]);
        // requires beats after for the same target: one edge, the strongest kind
        let b = m.view.service_id("b").expect("b");
        let deps = m.view.dependencies(b);
        assert_eq!(deps.len(), 2);
        assert_eq!(
            (deps[0].target, deps[0].kind),
            (Target::Service(0), DepKind::Requires)
        );
        assert_eq!(deps[1].kind, DepKind::Wants);
        // a waits for db (5s) + its window (1s × 1 + 1s); d is ordered before a
        let w = m.waits(b);
        assert_eq!(w.waits[0].budget.millis(), 7_000);
        assert!(w.waits[0].hard() && !w.waits[1].hard());
        assert_eq!(m.view.ordered_before(0), [3]);
        let c = m.waits(2);
        assert!(c.waits.is_empty());
        assert_eq!(c.unwaitable, vec![(DepKind::Wants, b)]);
        let layers: Vec<usize> = (0..4).map(|i| m.view.layer(i)).collect();
        assert_eq!(layers, [1, 2, 3, 0]);
        assert_eq!(m.view.order(), [3, 0, 1, 2]);
        // the reverse edges: a is required by b; b is wanted by c; nothing names c or d
        let dependents = |s: usize| -> Vec<(usize, DepKind)> {
            m.view
                .dependents(s)
                .iter()
                .map(|d| (d.service, d.kind))
                .collect()
        };
        assert_eq!(dependents(0), [(b, DepKind::Requires)]);
        assert_eq!(dependents(b), [(2, DepKind::Wants)]);
        assert!(dependents(2).is_empty() && dependents(3).is_empty());
        // and exactly what a scan over every service finds
        for s in 0..4 {
            let scanned: Vec<(usize, DepKind)> = (0..4)
                .flat_map(|w| {
                    m.view
                        .dependencies(w)
                        .iter()
                        .filter(move |d| d.target == Target::Service(s))
                        .map(move |d| (w, d.kind))
                })
                .collect();
            assert_eq!(dependents(s), scanned);
        }
    }

    #[test]
    fn the_health_window_saturates() {
        let h = crate::model::Health {
            check: crate::model::Check::Http {
                url: "http://x".into(),
            },
            interval: crate::manifest::Duration(u64::MAX / 2),
            timeout: crate::manifest::Duration(u64::MAX),
            retries: 3,
        };
        assert_eq!(h.window().millis(), u64::MAX);
    }
}

#[test]
fn a_dependency_names_its_target_by_place_in_both_builds() {
    // forward and backward references, externals, defaults; the streamed build and the
    // usual one (a late `[defaults]`) must point at the same places
    let body = "[external.kafka]\ncheck = { tcp = \"127.0.0.1:9092\" }\n\
                [external.etcd]\ncheck = { tcp = \"127.0.0.1:2379\" }\n\
                [services.a]\ncommand = [\"/bin/a\"]\nrequires = [\"c\", \"kafka\"]\n\
                wants = [\"b\"]\nafter = [\"etcd\"]\n\
                [services.b]\ncommand = [\"/bin/b\"]\nbefore = [\"c\"]\n\
                [services.c]\ncommand = [\"/bin/c\"]\nrequires = [\"b\"]\n";
    let defaults = "[defaults]\nrequires = [\"etcd\"]\n";
    for text in [
        format!("name = \"x\"\n{defaults}{body}"),
        format!("name = \"x\"\n{body}{defaults}"),
    ] {
        let streamed = Model::from_toml("t.toml", &text).expect("valid");
        let parsed = crate::manifest::parse("t.toml", &text).expect("parsed");
        let m = super::build("t.toml", &text, parsed).expect("valid");
        assert_eq!(m, streamed);
        let names =
            |deps: &[super::Dep]| -> Vec<&str> { deps.iter().map(|d| m.dep_name(*d)).collect() };
        let [a, b, c] = [0, 1, 2].map(|i| &m.services[i]);
        assert_eq!(names(&a.requires), ["etcd", "c", "kafka"], "{text}");
        assert_eq!(names(&a.wants), ["b"]);
        assert_eq!(names(&a.after), ["etcd"]);
        assert_eq!(names(&b.requires), ["etcd"]);
        assert_eq!(&*b.before, ["c"]);
        assert_eq!(names(&c.requires), ["etcd", "b"]);
        assert!(matches!(a.requires[0], super::Dep::External(_)));
        assert!(matches!(a.requires[1], super::Dep::Service(2)));
    }
}

/// A big stack holds one [`Service`](super::Service) per service (10,000 in the scale
/// benchmark): its lists are one pointer each and its health check is boxed, so it keeps
/// within 128 bytes (it was 224 with the check inline and boxed slices).
#[test]
fn a_service_stays_small() {
    assert!(
        size_of::<super::Service>() <= 128,
        "{}",
        size_of::<super::Service>()
    );
    // no instances costs no more than the list's pointer
    assert_eq!(size_of::<Option<thin_vec::ThinVec<String>>>(), 8);
}
