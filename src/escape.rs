//! Quoting for every target syntax, one submodule per syntax. Each function is the only
//! place its rule lives; the property tests feed hostile input through them and back
//! through the real parsers.

pub mod compose;
pub mod envdir;
pub mod openrc;
pub mod plist;
pub mod scan;
pub mod sh;
pub mod supervisord;
pub mod systemd;
pub mod yaml;
