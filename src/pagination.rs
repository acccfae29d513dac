//! Keyset pagination over an ascending integer key: the domain half of
//! Relay connections. The GraphQL layer turns cursors into keys and back.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter as _,
    QueryOrder as _, QuerySelect as _, Select,
};

use crate::error::{CodedError, ErrorCode};

/// Most items one page may hold.
pub const MAX_PAGE_SIZE: u64 = 100;

/// A validated page request: a direction, a size and an optional bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageRequest {
    /// The first `size` items after the key (exclusive), ascending.
    Forward {
        /// Page size, 1..=[`MAX_PAGE_SIZE`].
        size: u64,
        /// Exclusive lower bound.
        after: Option<i64>,
    },
    /// The last `size` items before the key (exclusive), ascending.
    Backward {
        /// Page size, 1..=[`MAX_PAGE_SIZE`].
        size: u64,
        /// Exclusive upper bound.
        before: Option<i64>,
    },
}

/// Why a page request is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    /// Neither or both of `first` and `last`.
    #[error("pass exactly one of `first` or `last`")]
    Direction,
    /// Size outside 1..=100.
    #[error("`{0}` must be between 1 and {MAX_PAGE_SIZE}")]
    Size(&'static str),
    /// `after` with `last`, or `before` with `first`.
    #[error("use `after` with `first` and `before` with `last`")]
    MixedBounds,
    /// A cursor this server did not produce.
    #[error("invalid cursor")]
    Cursor,
}

impl CodedError for PageError {
    fn code(&self) -> ErrorCode {
        ErrorCode::BadUserInput
    }
}

impl PageRequest {
    /// Validates Relay arguments (cursors already decoded to keys).
    pub fn new(
        first: Option<i32>,
        after: Option<i64>,
        last: Option<i32>,
        before: Option<i64>,
    ) -> Result<Self, PageError> {
        let size = |n: i32, name| {
            u64::try_from(n)
                .ok()
                .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
                .ok_or(PageError::Size(name))
        };
        match (first, last) {
            (Some(first), None) if before.is_none() => Ok(Self::Forward {
                size: size(first, "first")?,
                after,
            }),
            (None, Some(last)) if after.is_none() => Ok(Self::Backward {
                size: size(last, "last")?,
                before,
            }),
            (Some(_), None) | (None, Some(_)) => Err(PageError::MixedBounds),
            _ => Err(PageError::Direction),
        }
    }
}

/// One page of items in ascending key order.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// More items follow the last one.
    pub has_next: bool,
    /// More items precede the first one.
    pub has_previous: bool,
}

/// Runs `select` for one page, ordered by `key` ascending. Reads one extra
/// row to know whether another page exists, so no count query is needed.
pub async fn fetch_page<E, C>(
    db: &impl ConnectionTrait,
    select: Select<E>,
    key: C,
    request: PageRequest,
) -> Result<Page<E::Model>, DbErr>
where
    E: EntityTrait,
    E::Model: FromQueryResult + Sized + Send + Sync,
    C: ColumnTrait,
{
    match request {
        PageRequest::Forward { size, after } => {
            let select = match after {
                Some(after) => select.filter(key.gt(after)),
                None => select,
            };
            let mut items = select.order_by_asc(key).limit(size + 1).all(db).await?;
            let has_next = items.len() as u64 > size;
            items.truncate(size as usize);
            Ok(Page {
                items,
                has_next,
                has_previous: after.is_some(),
            })
        }
        PageRequest::Backward { size, before } => {
            let select = match before {
                Some(before) => select.filter(key.lt(before)),
                None => select,
            };
            let mut items = select.order_by_desc(key).limit(size + 1).all(db).await?;
            let has_previous = items.len() as u64 > size;
            items.truncate(size as usize);
            items.reverse();
            Ok(Page {
                items,
                has_next: before.is_some(),
                has_previous,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_requests_need_one_direction_within_bounds() {
        assert_eq!(
            PageRequest::new(None, None, None, None),
            Err(PageError::Direction)
        );
        assert_eq!(
            PageRequest::new(Some(1), None, Some(1), None),
            Err(PageError::Direction)
        );
        assert_eq!(
            PageRequest::new(Some(0), None, None, None),
            Err(PageError::Size("first"))
        );
        assert_eq!(
            PageRequest::new(None, None, Some(101), None),
            Err(PageError::Size("last"))
        );
        assert_eq!(
            PageRequest::new(Some(5), None, None, Some(3)),
            Err(PageError::MixedBounds)
        );
        assert_eq!(
            PageRequest::new(Some(100), Some(7), None, None),
            Ok(PageRequest::Forward {
                size: 100,
                after: Some(7)
            })
        );
    }
}
