//! The unescape functions read back what the escape functions write.

use super::*;

#[test]
fn exec_lines_read_back() {
    let argv: Vec<String> = ["/opt/$x/y", "a b", "$a", "50%", "", r#"q"\"#]
        .map(str::to_owned)
        .to_vec();
    let line = unspecify(&exec_line(&argv, false), &|c| Err(c.to_string()));
    let back = line.and_then(|l| parse_exec(&l));
    assert_eq!(back.as_ref().map(|e| &e.argv), Ok(&argv));
    assert_eq!(
        parse_exec(r"-/bin/x 'a\tb' \x41").map(|e| (e.ignore_failure, e.argv)),
        Ok((true, vec!["/bin/x".into(), "a\tb".into(), "A".into()]))
    );
    assert!(parse_exec("/bin/x $HOME").is_err());
    assert!(parse_exec("/bin/x \"a").is_err());
    let inst = unspecify("x-%i %%i", &|c| {
        if c == 'i' {
            Ok("{instance}".into())
        } else {
            Err(c.to_string())
        }
    });
    assert_eq!(inst.as_deref(), Ok("x-{instance} %i"));
}
