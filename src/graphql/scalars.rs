//! The contract's own date scalars. chrono's scalars accept any year chrono
//! can hold (`-262143-01-01`), which overflowed date arithmetic into HTTP
//! 500s, and they fail only while executing, as an uncoded error naming a
//! Rust type. These check the value during validation (`is_valid`), so a
//! bad date is refused before anything runs, with the argument's path
//! (`input.schedule.startsAt`), and only years 1970 to 9999 are accepted.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::{Datelike as _, NaiveDate, NaiveDateTime};

/// Earliest and latest year a date input may name.
const YEARS: std::ops::RangeInclusive<i32> = 1970..=9999;

const DATE_FORMAT: &str = "%Y-%m-%d";
const LOCAL_FORMAT: &str = "%Y-%m-%dT%H:%M:%S";

/// A calendar day, `YYYY-MM-DD` (Asia/Shanghai where a business rule says
/// so), years 1970 to 9999.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Date(pub(crate) NaiveDate);

/// A wall-clock time in Asia/Shanghai, `YYYY-MM-DDTHH:MM:SS` (fractions of a
/// second allowed), years 1970 to 9999.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LocalDateTime(pub(crate) NaiveDateTime);

fn parse_date(value: &Value) -> Option<NaiveDate> {
    let Value::String(text) = value else {
        return None;
    };
    NaiveDate::parse_from_str(text, DATE_FORMAT)
        .ok()
        .filter(|day| YEARS.contains(&day.year()))
}

fn parse_local(value: &Value) -> Option<NaiveDateTime> {
    let Value::String(text) = value else {
        return None;
    };
    NaiveDateTime::parse_from_str(text, &format!("{LOCAL_FORMAT}%.f"))
        .ok()
        .filter(|at| YEARS.contains(&at.year()))
}

/// The message a client sees for a value that is not one of ours.
fn refused<T: ScalarType + async_graphql::InputType>(what: &str) -> InputValueError<T> {
    InputValueError::custom(format!(
        "expected {what} with a year from {} to {}",
        YEARS.start(),
        YEARS.end()
    ))
}

/// A calendar day, `YYYY-MM-DD` (Asia/Shanghai where a business rule says
/// so), years 1970 to 9999.
#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        parse_date(&value)
            .map(Self)
            .ok_or_else(|| refused("a date like 2026-11-20"))
    }

    fn is_valid(value: &Value) -> bool {
        parse_date(value).is_some()
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format(DATE_FORMAT).to_string())
    }
}

/// A wall-clock time in Asia/Shanghai, `YYYY-MM-DDTHH:MM:SS` (fractions of
/// a second allowed), years 1970 to 9999.
#[Scalar(name = "LocalDateTime")]
impl ScalarType for LocalDateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        parse_local(&value)
            .map(Self)
            .ok_or_else(|| refused("a Shanghai wall-clock time like 2026-12-01T10:00:00"))
    }

    fn is_valid(value: &Value) -> bool {
        parse_local(value).is_some()
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format(LOCAL_FORMAT).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Value {
        Value::String(s.to_owned())
    }

    #[test]
    fn dates_outside_the_supported_years_are_invalid() {
        assert!(Date::is_valid(&text("2026-11-20")));
        assert!(!Date::is_valid(&text("-262143-01-01")));
        assert!(!Date::is_valid(&text("1969-12-31")));
        assert!(!Date::is_valid(&text("2026-02-30")));
        assert!(!Date::is_valid(&Value::from(20261120)));
        assert_eq!(
            Date::parse(text("2026-11-20")).map(|d| d.to_value()).ok(),
            Some(text("2026-11-20"))
        );
    }

    #[test]
    fn local_times_round_trip_and_refuse_garbage() {
        assert!(LocalDateTime::is_valid(&text("2026-12-01T10:00:00")));
        assert!(LocalDateTime::is_valid(&text("2026-12-01T10:00:00.5")));
        assert!(!LocalDateTime::is_valid(&text("2026-12-01 10:00")));
        assert!(!LocalDateTime::is_valid(&text("99999-12-01T10:00:00")));
        assert_eq!(
            LocalDateTime::parse(text("2026-12-01T10:00:00"))
                .map(|d| d.to_value())
                .ok(),
            Some(text("2026-12-01T10:00:00"))
        );
    }
}
