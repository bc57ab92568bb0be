//! Locating fields: by path, by offset, and in a section alone.

use super::*;

const DOC: &str =
    "name = \"x\"\n[services.a]\ncommand = [\"/bin/a\", \"b\"]\nrequires = [\"kafka\"]\n";

#[test]
fn finds_spans_by_path() {
    let loc = Locator::new(DOC);
    let span = loc.span(&FieldPath::keys(&["services", "a", "command"]).index(1));
    assert_eq!(&DOC[span.clone()], "\"b\"");
    assert_eq!(loc.line_col(span.start), (3, 22));
    // a missing leaf falls back to the nearest existing ancestor
    let span = loc.span(&FieldPath::keys(&["services", "a", "requires"]).index(7));
    assert_eq!(&DOC[span], "[\"kafka\"]");
}

#[test]
fn indexed_line_col_agrees_with_the_scan() {
    let text = "a = 1\n\né = \"ü\"\r\n[x]\nlast";
    let loc = Locator::new(text);
    for offset in 0..=text.len() + 2 {
        assert_eq!(
            loc.line_col(offset),
            line_col(text, offset),
            "offset {offset}"
        );
    }
}

#[test]
fn finds_path_by_offset() {
    let loc = Locator::new(DOC);
    let off = DOC.find("kafka").unwrap_or_default();
    assert_eq!(loc.path_at(off).to_string(), "services.a.requires[0]");
}

/// Every path of `root`, depth first.
fn paths(v: &DeValue<'_>, path: &mut FieldPath, out: &mut Vec<FieldPath>) {
    match v {
        DeValue::Table(t) => {
            for (k, v) in t {
                path.0.push(Seg::Key(k.get_ref().to_string()));
                out.push(path.clone());
                paths(v.get_ref(), path, out);
                path.0.pop();
            }
        }
        DeValue::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                path.0.push(Seg::Index(i));
                out.push(path.clone());
                paths(v.get_ref(), path, out);
                path.0.pop();
            }
        }
        _ => {}
    }
}

/// A field found in its section alone is where the whole document puts it: every
/// path of the built-in manifest and of a document in odd shapes, and one key past
/// each (not found: the nearest ancestor).
#[test]
fn a_section_locates_as_the_whole_document_does() {
    let odd = "name = \"x\" # [not.a.header]\nservices.z.command = [\"/z\"]\n\
        [services.a]\ncommand = [\n  [\"/a\"],\n]\nenvironment = { A = \"[b]\", B.C = 1 }\n\
        pre_start = \'\'\'\n[services.b]\n\'\'\'\n\
        \t[ services . \"q.r\" ]\ncommand = [\"/q\"]\nlogs.stdout = \"/l\"\n\
        [services.a.health]\ntcp = \"h:1\"\n[groups]\ng = { services = [\"a\"] }\n";
    for text in [include_str!("../openim.toml"), odd] {
        let whole = DeTable::parse(text).expect("valid");
        let mut all = Vec::new();
        let mut root = FieldPath::default();
        paths(
            &DeValue::Table(whole.get_ref().clone()),
            &mut root,
            &mut all,
        );
        assert!(all.len() > 20, "{}", all.len());
        for path in all.iter().flat_map(|p| [p.clone(), p.key("nope")]) {
            let loc = Locator::new(text);
            let (key, value, whole) = walk_tree(&whole, &path);
            let section = loc.walk_section(&path);
            // what is there is found in its section, where the whole document has it
            assert_eq!(section.is_some(), whole, "{path}");
            if let Some(found) = section {
                assert_eq!(found, (key.clone(), value.clone()), "{path}");
            }
            assert_eq!(loc.walk(&path), (key, value), "{path}");
        }
    }
}

#[test]
fn displays_odd_keys_quoted() {
    let p = FieldPath::keys(&["services", "a.b"]).index(2);
    assert_eq!(p.to_string(), "services.\"a.b\"[2]");
}
