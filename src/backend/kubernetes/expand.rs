//! Kubernetes' `$(VAR)` expansion in `command`, `args`, `env[].value` and exec probes, and
//! its escaping. The kubelet replaces `$(NAME)` by the variable's value (left as written
//! when no such variable is defined), and `$$` by `$`; any other `$` stays with the next
//! *byte* — which it turns into a character of its own (Go's `string(byte)`), so `$é` comes
//! out as `$Ã` followed by a stray byte. A literal `$` is therefore doubled exactly when the
//! next character is `$`, `(` or not ASCII — `$(` becomes `$$(`, `$$` becomes `$$$` — and
//! nothing else changes (`$HOME` stays readable). [`expand`] is the kubelet's algorithm
//! (`third_party/forked/golang/expansion`), for tests and the checks.

use crate::model::INSTANCE_PLACEHOLDER;

/// The variable that carries a `StatefulSet` pod's index.
pub const POD_INDEX: &str = "POD_INDEX";

/// `$(POD_INDEX)`: what `{instance}` becomes in a `StatefulSet`.
pub const POD_INDEX_REF: &str = "$(POD_INDEX)";

/// `text` written so that the kubelet's expansion gives it back exactly.
#[must_use]
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    push_escaped(&mut out, text);
    out
}

/// Append [`escape`]`(text)` to `out`.
pub fn push_escaped(out: &mut String, text: &str) {
    let b = text.as_bytes();
    let mut start = 0;
    for i in memchr::memchr_iter(b'$', b) {
        if b.get(i + 1)
            .is_some_and(|&n| n == b'$' || n == b'(' || !n.is_ascii())
        {
            out.push_str(&text[start..=i]);
            out.push('$');
            start = i + 1;
        }
    }
    out.push_str(&text[start..]);
}

/// `text` escaped, with every `{instance}` turned into `$(POD_INDEX)` (`index`) or the
/// instance name (escaped like the rest).
#[must_use]
pub fn with_instance(text: &str, instance: Instance<'_>) -> String {
    match instance {
        Instance::Named(name) if text.contains(INSTANCE_PLACEHOLDER) => {
            escape(&text.replace(INSTANCE_PLACEHOLDER, name))
        }
        Instance::None | Instance::Named(_) => escape(text),
        Instance::Index => {
            let mut out = String::with_capacity(text.len() + 8);
            for (i, part) in text.split(INSTANCE_PLACEHOLDER).enumerate() {
                if i > 0 {
                    out.push_str(POD_INDEX_REF);
                }
                push_escaped(&mut out, part);
            }
            out
        }
    }
}

/// What `{instance}` stands for in one workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Instance<'a> {
    /// Not instanced.
    None,
    /// A Deployment of one named instance.
    Named(&'a str),
    /// A `StatefulSet`: the pod's index, at run time.
    Index,
}

/// The kubelet's expansion of `input`: `$(NAME)` → `lookup(NAME)` (kept as written when it
/// gives `None`), `$$` → `$`, any other `$` kept with the next byte read as a character
/// (invalid UTF-8 that results is shown as U+FFFD).
#[must_use]
pub fn expand(input: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
    let b = input.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut checkpoint = 0;
    let mut cursor = 0;
    while cursor < b.len() {
        if b[cursor] == b'$' && cursor + 1 < b.len() {
            out.extend_from_slice(&b[checkpoint..cursor]);
            let rest = &b[cursor + 1..];
            let advance = match rest[0] {
                b'$' => {
                    out.push(b'$');
                    1
                }
                b'(' => {
                    if let Some(close) = rest.iter().position(|&c| c == b')') {
                        let name = String::from_utf8_lossy(&rest[1..close]);
                        let value = lookup(&name).unwrap_or_else(|| format!("$({name})"));
                        out.extend_from_slice(value.as_bytes());
                        close + 1
                    } else {
                        out.extend_from_slice(b"$(");
                        1
                    }
                }
                byte => {
                    out.push(b'$');
                    let mut buf = [0; 4];
                    out.extend_from_slice(char::from(byte).encode_utf8(&mut buf).as_bytes());
                    1
                }
            };
            cursor += advance;
            checkpoint = cursor + 1;
        }
        cursor += 1;
    }
    out.extend_from_slice(&b[checkpoint.min(b.len())..]);
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: &str) -> Option<String> {
        None
    }

    fn defined(name: &str) -> Option<String> {
        (name == "A" || name == POD_INDEX).then(|| format!("<{name}>"))
    }

    #[test]
    fn expansion_is_the_kubelets() {
        assert_eq!(expand("$(A)-$(B)", defined), "<A>-$(B)");
        assert_eq!(expand("$$(A)", defined), "$(A)");
        assert_eq!(expand("$$$(A)", defined), "$<A>");
        assert_eq!(expand("$HOME $", none), "$HOME $");
        assert_eq!(expand("$(unclosed", defined), "$(unclosed");
        // the byte after `$` becomes a character of its own: Go's string(byte)
        assert_eq!(expand("$é$(A)", defined), "$\u{c3}\u{fffd}<A>");
        assert_eq!(expand("$$é", defined), "$é");
    }

    #[test]
    fn escaped_text_expands_to_itself() {
        for s in [
            "$(A)",
            "$$(A)",
            "$$",
            "$",
            "a$",
            "$(",
            "$$$((A))",
            "${PATH} $HOME",
            "(A)$",
            "é$(é)$",
            "$é $😀",
            "",
        ] {
            let e = escape(s);
            assert_eq!(expand(&e, defined), s, "{s:?} escaped as {e:?}");
        }
        assert_eq!(escape("$HOME $(A)"), "$HOME $$(A)");
        assert_eq!(escape("$$é$(a$"), "$$$$é$$(a$");
    }

    /// The first [`escape`]: a character at a time.
    fn escape_chars(text: &str) -> String {
        let mut out = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            out.push(c);
            if c == '$'
                && chars
                    .peek()
                    .is_some_and(|&n| n == '$' || n == '(' || !n.is_ascii())
            {
                out.push('$');
            }
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn escaping_runs_escapes_as_a_character_at_a_time(s in "(\\$|\\(|a|\\{instance\\}|é|😀|\\{)*") {
            proptest::prop_assert_eq!(escape(&s), escape_chars(&s));
            let index = with_instance(&s, Instance::Index);
            let split: Vec<String> = s.split(INSTANCE_PLACEHOLDER).map(escape_chars).collect();
            proptest::prop_assert_eq!(index, split.join(POD_INDEX_REF));
        }
    }

    #[test]
    fn the_instance_becomes_the_pod_index_and_nothing_else_expands() {
        let t = with_instance("-i={instance} $(A) {instance}", Instance::Index);
        assert_eq!(t, "-i=$(POD_INDEX) $$(A) $(POD_INDEX)");
        assert_eq!(
            expand(&t, defined),
            "-i=<POD_INDEX> $(A) <POD_INDEX>".to_owned()
        );
        let named = with_instance("w-{instance}$(", Instance::Named("eu-1"));
        assert_eq!(expand(&named, defined), "w-eu-1$(");
    }
}
