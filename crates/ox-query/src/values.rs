//! Literals → the values bound for them, by the kind of field they are compared with:
//! numbers or text for params, seconds for `duration`, UTC ISO text for times.

use crate::ast::{Literal, Value};
use crate::error::QueryError;
use crate::lexer::Number;
use crate::sql::SqlValue;

/// How a literal is compared with a field.
pub(crate) enum Typed {
    Num(SqlValue),
    Text(String),
}

/// The text a literal compares as against a text field: strings as they are, numbers as
/// written, booleans as `true`/`false` (how the catalog stores boolean params).
pub(crate) fn text_of(lit: &Literal) -> String {
    match &lit.value {
        Value::Str(s) => s.clone(),
        Value::Num { text, .. } => text.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
    }
}

pub(crate) fn param_typed(lit: &Literal) -> Typed {
    match &lit.value {
        Value::Num { value, .. } => Typed::Num(number_value(*value)),
        _ => Typed::Text(text_of(lit)),
    }
}

pub(crate) fn number_value(n: Number) -> SqlValue {
    match n {
        Number::Int(i) => SqlValue::Integer(i),
        Number::Float(f) => SqlValue::Real(f),
    }
}

pub(crate) fn duration_value(lit: &Literal) -> Result<SqlValue, QueryError> {
    match &lit.value {
        Value::Num { value, .. } => Ok(number_value(*value)),
        Value::Str(s) => parse_duration(s).map(SqlValue::Real).ok_or_else(|| {
            QueryError::new(format!("not a duration: '{s}'"), lit.span)
                .with_hint("durations are seconds (90) or like '90s', '10m', '2h', '1h30m', '1d'")
        }),
        _ => Err(QueryError::new("duration is a number of seconds", lit.span)),
    }
}

pub(crate) fn exit_code_value(lit: &Literal) -> Result<SqlValue, QueryError> {
    match &lit.value {
        Value::Num {
            value: Number::Int(i),
            ..
        } => Ok(SqlValue::Integer(*i)),
        Value::Str(s) if s.trim().parse::<i64>().is_ok() => Ok(SqlValue::Integer(
            s.trim().parse::<i64>().unwrap_or_default(),
        )),
        _ => Err(QueryError::new("exit_code is a whole number", lit.span)),
    }
}

/// The text a text run field (`id`, `name`, `study`, `status`, `host`) is compared with: a
/// quoted string. A number or boolean there is a type mismatch (`name > 5` would compare
/// text with text and match by accident), reported at the literal.
pub(crate) fn text_value(field: &str, lit: &Literal) -> Result<SqlValue, QueryError> {
    match &lit.value {
        Value::Str(s) => Ok(SqlValue::Text(s.clone())),
        _ => Err(QueryError::new(
            format!("{field} is text, but this is not a quoted string"),
            lit.span,
        )
        .with_hint(format!(
            "quote it to compare text, e.g. {field} = '{}'",
            text_of(lit)
        ))),
    }
}

/// A time field's comparison value (see [`iso_time`]): a quoted date or date-time that is a
/// real one; `'2026-13-45'`, `'yesterday'` or a number are errors at the literal.
pub(crate) fn time_value(field: &str, lit: &Literal) -> Result<SqlValue, QueryError> {
    const HINT: &str = "times are quoted ISO dates in UTC: '2026-01-02', '2026-01', '2026-01-02 10:30', '2026-01-02T10:30:00Z', '2026-01-02T12:30:00+02:00'";
    match &lit.value {
        Value::Str(s) => match checked_time(s) {
            Some(t) => Ok(SqlValue::Text(t)),
            None => {
                Err(QueryError::new(format!("not a date or time: '{s}'"), lit.span).with_hint(HINT))
            }
        },
        _ => Err(QueryError::new(
            format!("{field} is a time, compare it with a quoted date"),
            lit.span,
        )
        .with_hint(HINT)),
    }
}

/// [`iso_time`] of `s` when `s` is a valid date or date-time (a year, year-month, date, or
/// date with hours and minutes, seconds and fraction optional; with an offset it must be a
/// full RFC 3339 time).
fn checked_time(s: &str) -> Option<String> {
    use chrono::{NaiveDate, NaiveDateTime};
    let t = iso_time(s);
    if chrono::DateTime::parse_from_rfc3339(&t).is_ok() {
        return Some(t);
    }
    let plain = t.strip_suffix('Z').unwrap_or(&t);
    let ok = match plain.len() {
        4 => NaiveDate::parse_from_str(&format!("{plain}-01-01"), "%Y-%m-%d").is_ok(),
        7 => NaiveDate::parse_from_str(&format!("{plain}-01"), "%Y-%m-%d").is_ok(),
        10 => NaiveDate::parse_from_str(plain, "%Y-%m-%d").is_ok(),
        13 => NaiveDateTime::parse_from_str(&format!("{plain}:00"), "%Y-%m-%dT%H:%M").is_ok(),
        16 => NaiveDateTime::parse_from_str(plain, "%Y-%m-%dT%H:%M").is_ok(),
        _ => NaiveDateTime::parse_from_str(plain, "%Y-%m-%dT%H:%M:%S%.f").is_ok(),
    };
    (ok && plain.bytes().next().is_some_and(|b| b.is_ascii_digit())).then_some(t)
}

/// Seconds in `90`, `90s`, `250ms`, `10m`, `2h`, `1d`, `1h30m`, `1.5h` (units ms, s, m, h,
/// d — the units tables print durations in).
pub fn parse_duration(s: &str) -> Option<f64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(secs) = s.parse::<f64>() {
        return secs.is_finite().then_some(secs);
    }
    let mut total = 0.0;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (num, tail) = rest.split_at(digits);
        let n: f64 = num.parse().ok()?;
        if let Some(after) = tail.strip_prefix("ms") {
            total += n / 1000.0;
            rest = after.trim_start();
            continue;
        }
        let mut chars = tail.chars();
        let unit = match chars.next()? {
            's' => 1.0,
            'm' => 60.0,
            'h' => 3600.0,
            'd' => 86400.0,
            _ => return None,
        };
        total += n * unit;
        rest = chars.as_str().trim_start();
    }
    total.is_finite().then_some(total)
}

/// A time written the way the catalog writes times (RFC 3339 in UTC with microseconds and
/// `Z`, `2026-01-02T10:00:00.000000Z`: a fixed width, so text order is time order), so that text comparison is time comparison: `2026-01-02 10:00`
/// gets its `T`, and a full time with an offset (`2026-01-02T12:00:00+02:00`) is converted
/// to UTC. A prefix such as `2026-01-02` compares as the start of that day (UTC).
pub(crate) fn iso_time(s: &str) -> String {
    let mut t = s.trim().to_string();
    if t.len() > 10 && t.as_bytes().get(10) == Some(&b' ') {
        t.replace_range(10..11, "T");
    }
    match chrono::DateTime::parse_from_rfc3339(&t) {
        Ok(time) => time
            .with_timezone(&chrono::Utc)
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        Err(_) => t,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_the_units_tables_print() {
        assert_eq!(parse_duration("248ms"), Some(0.248));
        assert_eq!(parse_duration("1m30s"), Some(90.0));
        assert_eq!(parse_duration("1s500ms"), Some(1.5));
        assert_eq!(parse_duration("10x"), None);
    }

    #[test]
    fn only_real_dates_are_times() {
        for ok in [
            "2026",
            "2026-01",
            "2026-01-02",
            "2026-01-02 10:30",
            "2026-01-02T10",
            "2026-01-02T10:30:00Z",
            "2026-01-02T10:30:00.5",
            "2026-01-02T12:00:00+02:00",
        ] {
            assert!(checked_time(ok).is_some(), "{ok}");
        }
        for bad in [
            "2026-13-45",
            "yesterday",
            "2026-02-30",
            "26-01-02",
            "",
            "2026-01-02 25:00",
        ] {
            assert!(checked_time(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn times_get_their_t() {
        assert_eq!(iso_time("2026-01-02 10:00"), "2026-01-02T10:00");
        assert_eq!(iso_time(" 2026-01-02 "), "2026-01-02");
        assert_eq!(
            iso_time("2026-01-02 12:00:00+02:00"),
            "2026-01-02T10:00:00.000000Z"
        );
        assert_eq!(
            iso_time("2026-01-02T10:00:00.5Z"),
            "2026-01-02T10:00:00.500000Z"
        );
        assert_eq!(iso_time("é"), "é");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s"), Some(90.0));
        assert_eq!(parse_duration("10m"), Some(600.0));
        assert_eq!(parse_duration("2h"), Some(7200.0));
        assert_eq!(parse_duration("1h30m"), Some(5400.0));
        assert_eq!(parse_duration("1.5h"), Some(5400.0));
        assert_eq!(parse_duration("12"), Some(12.0));
        assert_eq!(parse_duration("2x"), None);
        assert_eq!(parse_duration("h"), None);
        assert_eq!(parse_duration(""), None);
    }
}
