//! `grant-verify ROLE`: on a PostgreSQL store, the least privilege a host that only verifies
//! needs (`vbx_tokens::pg::schema::grant_verify`).

use super::Context;
use crate::error::{Error, Result};
use crate::outcome::Outcome;
use crate::output::Printer;
use crate::store::OpenMode;
use vbx_tokens::location::Location;

/// The longest role name PostgreSQL keeps (`NAMEDATALEN` - 1 bytes); a longer one it would
/// cut, and the grant would go to another name.
const MAX_ROLE: usize = 63;

/// Lets `role` verify tokens of the store (and count their uses), and nothing else, and logs
/// it (`granted_verify`).
///
/// # Errors
/// [`Error::Usage`] on a directory store, or for a role name PostgreSQL would not keep as
/// typed; [`Error::NoStore`] when the database has no store yet; the server's refusal (a role
/// that does not exist, a caller who may not grant) as an exit 6.
pub fn verify(ctx: &Context, role: &str, p: &mut Printer) -> Result<Outcome> {
    let Location::Postgres(target) = &ctx.location else {
        return Err(Error::usage(format!(
            "grant-verify gives a PostgreSQL role the right to verify; the store at {} is a directory, which has no roles (make it readable to the user who verifies instead)",
            ctx.location.shown()
        )));
    };
    if role.is_empty() || role.len() > MAX_ROLE || role.chars().any(char::is_control) {
        return Err(Error::usage(format!(
            "the role must be 1 to {MAX_ROLE} bytes with no control characters"
        )));
    }
    let store = vbx_tokens::pg::store::Store::open(target, OpenMode::Existing)?;
    store.grant_verify(role)?;
    drop(store);
    p.granted_verify(role, &target.shown());
    Ok(Outcome::Success)
}
