//! What rendering keeps and builds: names borrowed where they can be, scripts at their exact
//! size, the meta-services' long lines written natively as tera writes them.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::index::Names;
use crate::backend::kit::{Body, RenderContext};
use crate::backend::{self, BackendKind, Flags};
use crate::model::Model;

/// `n` services in `layers` start layers (each after the first service of the layer before),
/// every seventh with two instances; groups of every third and of the instanced.
fn stack(n: usize, layers: usize) -> Model {
    let mut text = String::from("name = \"st\"\n");
    for i in 0..n {
        let _ = write!(
            text,
            "[services.service-with-a-long-name-{i}]\ncommand = [\"/bin/s\"]\n"
        );
        if i % 7 == 0 {
            text.push_str("instances = [\"eu\", \"us\"]\n");
        }
        let block = n / layers;
        if i >= block {
            let first = (i / block - 1) * block;
            let _ = writeln!(text, "after = [\"service-with-a-long-name-{first}\"]");
        }
    }
    let members = |f: &dyn Fn(usize) -> bool| {
        (0..n)
            .filter(|&i| f(i))
            .map(|i| format!("\"service-with-a-long-name-{i}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = write!(
        text,
        "[groups.thirds]\nservices = [{}]\n[groups.instanced]\nservices = [{}]\n",
        members(&|i| i % 3 == 0),
        members(&|i| i % 7 == 0)
    );
    Model::from_toml("st.toml", &text).expect("valid")
}

#[test]
fn a_stack_without_instances_builds_no_names() {
    let plain = Model::from_toml(
        "p.toml",
        "name = \"p\"\n[services.a]\ncommand = [\"/bin/a\"]\n[services.b]\ncommand = [\"/bin/b\"]\n",
    )
    .expect("valid");
    let names = Names::new(&plain);
    assert_eq!(names.built(), 0);
    assert_eq!(names.of(1).collect::<Vec<_>>(), ["b"]);

    let model = stack(30, 3);
    let names = Names::new(&model);
    // five instanced services (0, 7, 14, 21, 28) of two processes each
    assert_eq!(names.built(), 10);
    let of = |s: usize| names.of(s).collect::<Vec<_>>();
    assert_eq!(
        of(7),
        [
            "service-with-a-long-name-7.eu",
            "service-with-a-long-name-7.us"
        ]
    );
    assert_eq!(of(8), ["service-with-a-long-name-8"]);
    assert_eq!(
        names.of(28).rev().collect::<Vec<_>>(),
        [
            "service-with-a-long-name-28.us",
            "service-with-a-long-name-28.eu"
        ]
    );
    assert_eq!(names.of(28).len(), 2);
}

#[test]
fn long_meta_services_are_written_natively_as_tera_writes_them() {
    // lines far longer than one list line: `want`/`after` cut, `_stop_members` continued
    let model = stack(900, 3);
    let flags = Flags::default();
    let native = backend::templates(&BTreeMap::new()).expect("templates");
    let tera = backend::templates(&BTreeMap::new())
        .expect("templates")
        .through_tera();
    let render = |t| {
        backend::render(BackendKind::Openrc, &model, &RenderContext::new(t, &flags))
            .expect("renders")
    };
    let (a, b) = (render(&native), render(&tera));
    assert_eq!(a.artifacts, b.artifacts);
    let stack = a
        .artifacts
        .iter()
        .find(|a| a.path == "init.d/st")
        .expect("stack meta-service");
    let text = stack.contents();
    assert!(text.contains(" \\\n\t\t"), "a layer continued");
    assert_eq!(text.matches("\n\t_stop_members ").count(), 3 + 1);
    assert!(text.matches("\n\twant ").count() > 2);
}

#[test]
fn service_scripts_take_no_more_memory_than_their_text() {
    let model = stack(40, 4);
    let r =
        backend::render_embedded(BackendKind::Openrc, &model, &Flags::default()).expect("renders");
    let mut scripts = 0;
    for a in &r.artifacts {
        if let Body::File { contents, .. } = &a.body
            && a.path.contains("service-with")
        {
            scripts += 1;
            assert_eq!(contents.capacity(), contents.len(), "{}", a.path);
        }
    }
    assert_eq!(scripts, 40);
}

#[test]
fn a_group_named_as_an_instance_link_is_refused() {
    // names without a dot are not kept (`claim`): a dotted group still meets the link
    let model = Model::from_toml(
        "g.toml",
        "name = \"g\"\n[services.w]\ncommand = [\"/bin/w\"]\ninstances = [\"eu\"]\n\
         [groups.\"w.eu\"]\nservices = [\"w\"]\n",
    )
    .expect("valid");
    let Err(err) = backend::render_embedded(BackendKind::Openrc, &model, &Flags::default()) else {
        panic!("rendered");
    };
    assert!(
        err.to_string()
            .contains("`init.d/w.eu` would be written twice"),
        "{err}"
    );
}
