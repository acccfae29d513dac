//! Ids and cursors as the contract shows them: numeric ids as `ID`
//! strings, opaque Relay cursors over keyset pages.

use async_graphql::{
    ID,
    connection::{Connection, CursorType as _, Edge, OpaqueCursor},
};

use super::ApiError;
use crate::{
    error::ErrorCode,
    pagination::{Page, PageError},
};

/// A stored id as the contract's `ID`.
pub(crate) fn gid(id: i64) -> ID {
    ID(id.to_string())
}

/// Parses a numeric id; a malformed one names what it should have been.
pub(crate) fn parse_id(id: &ID, what: &str) -> Result<i64, ApiError> {
    id.parse::<i64>().map_err(|_| {
        ApiError::new(
            ErrorCode::BadUserInput,
            format!("`{}` is not {what} id", id.0),
        )
    })
}

/// Decodes an opaque Relay cursor into the key it wraps.
pub(crate) fn decode_cursor(cursor: Option<String>) -> Result<Option<i64>, ApiError> {
    cursor
        .map(|raw| {
            OpaqueCursor::<i64>::decode_cursor(&raw)
                .map(|c| c.0)
                .map_err(|_| PageError::Cursor.into())
        })
        .transpose()
}

/// A Relay connection over one page of keyset-paginated items.
pub(crate) fn connection<M, T: async_graphql::OutputType>(
    page: Page<M>,
    key: impl Fn(&M) -> i64,
    node: impl Fn(M) -> T,
) -> Connection<OpaqueCursor<i64>, T> {
    let mut connection = Connection::new(page.has_previous, page.has_next);
    connection.edges.extend(
        page.items
            .into_iter()
            .map(|item| Edge::new(OpaqueCursor(key(&item)), node(item))),
    );
    connection
}

/// Parses a brand id; a malformed id names the argument.
pub(crate) fn parse_brand_id(id: &ID) -> Result<i64, ApiError> {
    parse_id(id, "a brand")
}
