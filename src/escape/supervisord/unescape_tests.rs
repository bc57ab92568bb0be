//! The unescape functions read back what the escape functions write.

use super::*;

fn back(text: &str) -> Result<String, String> {
    interpolate(text, &|n| {
        (n == "process_num").then(|| "{instance}".to_owned())
    })
}

#[test]
fn commands_read_back() {
    let argv: Vec<String> = [
        "/bin/x", "", "a b", "it's", "x ;y", "50%", "%(here)s", "\\", "\"", "ü",
    ]
    .map(str::to_owned)
    .to_vec();
    assert_eq!(
        back(&command(&argv)).and_then(|t| shlex_split(&t)),
        Ok(argv)
    );
    assert_eq!(
        back(&command(&[mark_instance("w-{instance}")])).and_then(|t| shlex_split(&t)),
        Ok(vec!["w-{instance}".to_owned()])
    );
    assert!(shlex_split("a 'b").is_err());
    assert!(back("%(nope)s").is_err());
    assert!(back("50%").is_err());
}

#[test]
fn environments_read_back() {
    let pairs: Vec<(String, String)> = [
        ("A", "x, y=z"),
        ("B", "it's"),
        ("C", r#"say "hi" now"#),
        ("D", ""),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .to_vec();
    assert_eq!(
        back(&environment(&pairs)).and_then(|t| parse_environment(&t)),
        Ok(pairs)
    );
    assert_eq!(
        parse_environment("A=1,B=/x/y:z"),
        Ok(vec![
            ("A".into(), "1".into()),
            ("B".into(), "/x/y:z".into())
        ])
    );
    assert!(parse_environment("A=1,B").is_err());
}
