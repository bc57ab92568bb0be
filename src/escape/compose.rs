//! docker compose: every string value of a compose file is interpolated (`$VAR`, `${VAR}`,
//! `${VAR:-default}`), so a literal `$` is written `$$`. Nothing else needs escaping: the
//! YAML serializer quotes the rest.

/// `text` with every `$` doubled, so compose passes it on literally.
#[must_use]
pub fn dollar(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 4);
    super::scan::push_escaped(&mut out, text, b"$", |_| "$$");
    out
}

/// Undo [`dollar`] (what compose does when it reads the value).
#[must_use]
pub fn undollar(text: &str) -> String {
    text.replace("$$", "$")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollars_double_and_come_back() {
        for s in ["", "$", "$$", "${A:-b}", "a$b$", "€$x"] {
            assert_eq!(undollar(&dollar(s)), s);
        }
        assert_eq!(dollar("${HOME}"), "$${HOME}");
    }
}
