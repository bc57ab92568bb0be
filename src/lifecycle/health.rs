//! Health measured by openim-init itself, now, with the manifest's check and timeout: a TCP
//! connect, an HTTP GET (a 2xx or 3xx answer), or a command that exits 0.

use std::io::{Read as _, Write as _};
use std::net::{TcpStream, ToSocketAddrs as _};
use std::time::{Duration, Instant};

use super::runner::{ProcessRunner, Runner as _, Setup};
use crate::model::{Check, substitute};

/// Whether `check` (with `{instance}` filled in) passes within `timeout`.
#[must_use]
pub fn probe(check: &Check, instance: Option<&str>, timeout: Duration) -> bool {
    match check {
        Check::Tcp { host, port } => connect(&substitute(host, instance), *port, timeout).is_some(),
        Check::Http { url } => http_get(&substitute(url, instance), timeout),
        Check::Exec { argv } => {
            let argv: Vec<String> = argv.iter().map(|a| substitute(a, instance)).collect();
            let runner = ProcessRunner::new(Setup {
                timeout: Some(timeout),
                ..Setup::default()
            });
            runner.run(&argv).is_ok_and(|o| o.success())
        }
    }
}

fn connect(host: &str, port: u16, timeout: Duration) -> Option<TcpStream> {
    let deadline = Instant::now() + timeout;
    let addrs = (host, port).to_socket_addrs().ok()?;
    for addr in addrs {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return None;
        }
        if let Ok(s) = TcpStream::connect_timeout(&addr, left) {
            return Some(s);
        }
    }
    None
}

/// `http://HOST[:PORT]/PATH` → (host, port, path); other schemes are not probed.
fn split_url(url: &str) -> Option<(String, u16, String)> {
    let rest = url.strip_prefix("http://")?;
    let (authority, path) = rest.find('/').map_or((rest, "/"), |i| rest.split_at(i));
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => (h, p.parse().ok()?),
        _ => (authority, 80),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Some((host.to_owned(), port, path.to_owned()))
}

fn http_get(url: &str, timeout: Duration) -> bool {
    let Some((host, port, path)) = split_url(url) else {
        return false;
    };
    let deadline = Instant::now() + timeout;
    let Some(mut s) = connect(&host, port, timeout) else {
        return false;
    };
    let left = deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(1));
    let _ = s.set_read_timeout(Some(left));
    let _ = s.set_write_timeout(Some(left));
    let request = format!("GET {path} HTTP/1.0\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    if s.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    if s.read_exact(&mut head).is_err() {
        return false;
    }
    let line = String::from_utf8_lossy(&head);
    line.starts_with("HTTP/") && matches!(line.as_bytes().get(9), Some(b'2' | b'3'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn urls_split_into_host_port_and_path() {
        assert_eq!(
            split_url("http://127.0.0.1:8080/health"),
            Some(("127.0.0.1".into(), 8080, "/health".into()))
        );
        assert_eq!(split_url("http://h"), Some(("h".into(), 80, "/".into())));
        assert_eq!(
            split_url("http://[::1]:9/x"),
            Some(("::1".into(), 9, "/x".into()))
        );
        assert_eq!(split_url("https://h/"), None);
    }

    #[test]
    fn tcp_http_and_exec_checks_are_measured() {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        let t = Duration::from_secs(2);
        let tcp = Check::Tcp {
            host: "127.0.0.1".into(),
            port,
        };
        assert!(probe(&tcp, None, t));
        // the TCP probe's connection is the first in the backlog, the GET the second
        let server = std::thread::spawn(move || {
            for _ in 0..2 {
                let (mut c, _) = l.accept().expect("accept");
                let mut buf = [0u8; 256];
                let _ = c.read(&mut buf);
                let _ = c.write_all(b"HTTP/1.0 204 No Content\r\n\r\n");
            }
        });
        let http = Check::Http {
            url: format!("http://127.0.0.1:{port}/h"),
        };
        assert!(probe(&http, None, t));
        server.join().expect("server");
        drop(tcp);
        let closed = Check::Tcp {
            host: "127.0.0.1".into(),
            port: 1,
        };
        assert!(!probe(&closed, None, t));
        let exec = |code: &str| Check::Exec {
            argv: vec!["/bin/sh".into(), "-c".into(), format!("exit {code}")],
        };
        assert!(probe(&exec("0"), None, t));
        assert!(!probe(&exec("1"), None, t));
    }
}
