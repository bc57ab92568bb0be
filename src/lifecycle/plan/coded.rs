//! A step as bytes, to wait in sorted runs (see `lifecycle::runs`) rather than in memory:
//! `generate --out` rewriting the 20,000 files of a 10,000-service s6 tree held a 144-byte
//! step for each (and its path) while rendering, when memory is at its peak.
//!
//! The bytes after the path: the action (a byte, then the conflict's), the desired state
//! (a byte: 1 when there is one, then its kind, mode and contents), the desired entry (a
//! byte, then the entry as the ledger's runs hold it), then what is on disk (a byte for
//! which, then its mode, contents, reason or entry).

use std::io;

use super::{Action, Conflict, Content, OnDisk, Step};
use crate::lifecycle::ledger::{Entry, Kind, put_entry, take_entry};
use crate::lifecycle::runs::bytes::{
    put_bytes, put_text, take_bytes, take_text, take_u8, take_u32,
};

impl Step {
    /// Append its bytes, but for its path, to `out`.
    pub fn encode_rest(&self, out: &mut Vec<u8>) {
        let (tag, conflict) = action_bytes(self.action);
        out.extend_from_slice(&[tag, conflict]);
        match &self.desired {
            None => out.push(0),
            Some(c) => {
                out.extend_from_slice(&[1, u8::from(c.kind == Kind::Symlink)]);
                out.extend_from_slice(&c.mode.to_le_bytes());
                put_text(out, &c.contents);
            }
        }
        put_entry_if(out, self.entry.as_ref());
        encode_found(out, &self.found);
    }

    /// The step at `path` whose other bytes [`Step::encode_rest`] wrote at the start of
    /// `from`.
    ///
    /// # Errors
    /// Bytes cut short or not a step's.
    pub fn decode(path: String, from: &mut &[u8]) -> io::Result<Self> {
        let action = action_of(take_u8(from)?, take_u8(from)?)?;
        let desired = if take_u8(from)? == 0 {
            None
        } else {
            let kind = if take_u8(from)? == 1 {
                Kind::Symlink
            } else {
                Kind::File
            };
            let mode = take_u32(from)?;
            let contents = take_text(from)?;
            Some(Content {
                kind,
                mode,
                contents,
            })
        };
        let entry = match take_u8(from)? {
            0 => None,
            _ => Some(take_entry(from)?),
        };
        Ok(Self {
            path: path.into(),
            action,
            desired,
            entry,
            found: decode_found(from)?,
        })
    }
}

fn put_entry_if(out: &mut Vec<u8>, entry: Option<&Entry>) {
    match entry {
        None => out.push(0),
        Some(e) => {
            out.push(1);
            put_entry(out, e);
        }
    }
}

fn action_bytes(action: Action) -> (u8, u8) {
    let conflict = |c| match c {
        Conflict::Foreign => 0,
        Conflict::Edited => 1,
        Conflict::Blocked => 2,
        Conflict::Twice => 3,
    };
    match action {
        Action::Create => (0, 0),
        Action::Update => (1, 0),
        Action::Keep => (2, 0),
        Action::Adopt => (3, 0),
        Action::Remove => (4, 0),
        Action::Forget => (5, 0),
        Action::KeepEdited => (6, 0),
        Action::Retain => (7, 0),
        Action::Force(c) => (8, conflict(c)),
        Action::Refuse(c) => (9, conflict(c)),
    }
}

fn action_of(tag: u8, conflict: u8) -> io::Result<Action> {
    let conflict = match conflict {
        0 => Conflict::Foreign,
        1 => Conflict::Edited,
        2 => Conflict::Blocked,
        3 => Conflict::Twice,
        _ => return Err(not_a_step()),
    };
    Ok(match tag {
        0 => Action::Create,
        1 => Action::Update,
        2 => Action::Keep,
        3 => Action::Adopt,
        4 => Action::Remove,
        5 => Action::Forget,
        6 => Action::KeepEdited,
        7 => Action::Retain,
        8 => Action::Force(conflict),
        9 => Action::Refuse(conflict),
        _ => return Err(not_a_step()),
    })
}

fn encode_found(out: &mut Vec<u8>, found: &OnDisk) {
    match found {
        OnDisk::Missing => out.push(0),
        OnDisk::File { mode, bytes } => {
            out.push(1);
            out.extend_from_slice(&mode.to_le_bytes());
            put_bytes(out, bytes);
        }
        OnDisk::Symlink { target } => {
            out.push(2);
            put_bytes(out, target);
        }
        OnDisk::Blocked(why) => {
            out.push(3);
            put_text(out, why);
        }
        OnDisk::Same(entry) => {
            out.push(4);
            put_entry(out, entry);
        }
        OnDisk::Known(entry) => {
            out.push(5);
            put_entry(out, entry);
        }
    }
}

fn decode_found(from: &mut &[u8]) -> io::Result<OnDisk> {
    Ok(match take_u8(from)? {
        0 => OnDisk::Missing,
        1 => OnDisk::File {
            mode: take_u32(from)?,
            bytes: take_bytes(from)?,
        },
        2 => OnDisk::Symlink {
            target: take_bytes(from)?,
        },
        3 => OnDisk::Blocked(take_text(from)?),
        4 => OnDisk::Same(take_entry(from)?),
        5 => OnDisk::Known(take_entry(from)?),
        _ => return Err(not_a_step()),
    })
}

fn not_a_step() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "not a step's bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(text: &str) -> Entry {
        Entry::of(Kind::File, 0o640, text.as_bytes())
    }

    #[test]
    fn every_kind_of_step_comes_back_as_it_went_in() {
        let found = [
            OnDisk::Missing,
            OnDisk::File {
                mode: 0o600,
                bytes: vec![0xff, 0, b'x'],
            },
            OnDisk::Symlink {
                target: b"../elsewhere".to_vec(),
            },
            OnDisk::Blocked("a directory".into()),
            OnDisk::Same(entry("same")),
            OnDisk::Known(entry("known")),
        ];
        let conflicts = [
            Conflict::Foreign,
            Conflict::Edited,
            Conflict::Blocked,
            Conflict::Twice,
        ];
        let mut actions = vec![
            Action::Create,
            Action::Update,
            Action::Keep,
            Action::Adopt,
            Action::Remove,
            Action::Forget,
            Action::KeepEdited,
            Action::Retain,
        ];
        actions.extend(
            conflicts
                .iter()
                .flat_map(|&c| [Action::Force(c), Action::Refuse(c)]),
        );
        for (i, action) in actions.into_iter().enumerate() {
            for (j, found) in found.iter().enumerate() {
                let desired = (i % 2 == 0).then(|| Content {
                    kind: if j % 2 == 0 {
                        Kind::File
                    } else {
                        Kind::Symlink
                    },
                    mode: 0o755,
                    contents: format!("text {i} {j}"),
                });
                let step = Step {
                    path: format!("svc-{i}/run").into(),
                    action,
                    desired,
                    entry: (j % 3 != 0).then(|| entry("want")),
                    found: found.clone(),
                };
                let mut bytes = Vec::new();
                step.encode_rest(&mut bytes);
                let mut from = bytes.as_slice();
                let back = Step::decode(step.path.to_string(), &mut from).expect("decoded");
                assert_eq!(back, step);
                // (a path of up to 24 bytes is held in the step: no block of its own each)
                assert!(!back.path.is_heap_allocated(), "{}", back.path);
                assert!(from.is_empty(), "every byte read");
                let cut = &mut &bytes[..bytes.len() - 1];
                assert!(Step::decode(step.path.to_string(), cut).is_err());
            }
        }
    }
}
