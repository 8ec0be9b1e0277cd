//! Which page layout the simulator serves. `classic` is the contract's
//! (`shared/portal-contract.md`); `alt` is a redesigned portal with the same
//! data and rules but other paths, ids, texts and export columns, a
//! paginated orders list, a ticket shown only as text and an export built
//! on demand. It exists so the worker's profile options are tested against
//! a portal that is not the contract's. `/_sim/` is the same for both.

use std::fmt;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Layout {
    /// The contract's pages, exactly.
    #[default]
    Classic,
    /// The redesigned portal (see `crates/portal-sim/README.md`).
    Alt,
}

impl Layout {
    /// Where a request without a live session is sent.
    pub fn login_path(self) -> &'static str {
        match self {
            Layout::Classic => "/login",
            Layout::Alt => crate::alt::LOGIN_PATH,
        }
    }
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Layout::Classic => "classic",
            Layout::Alt => "alt",
        })
    }
}
