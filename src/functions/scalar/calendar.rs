//! Calendar arithmetic for the date/time functions: civil dates from day counts and back,
//! date/time fields and the start and index of periods (weeks, months, centuries, ...).
//!
//! The calendar is proleptic Gregorian with astronomical years (year 0 is 1 BC); weeks are ISO
//! weeks starting on Monday. Days are counted from 1970-01-01, instants in microseconds.

use arrow::datatypes::IntervalMonthDayNano;

use crate::error::{Error, Result};

/// Microseconds per day.
pub const US_PER_DAY: i64 = 86_400_000_000;

/// Days since 1970-01-01 of a proleptic Gregorian date (any `i64` year that keeps the result in
/// range; months 1..=12).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let (era, yoe) = (y.div_euclid(400), y.rem_euclid(400));
    let m = i64::from(m);
    let doy = (153 * if m > 2 { m - 3 } else { m + 9 } + 2) / 5 + i64::from(d) - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

/// Year, month and day of a count of days since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let (era, doe) = (z.div_euclid(146_097), z.rem_euclid(146_097));
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (era * 400 + yoe + i64::from(m <= 2), m, d)
}

/// Number of days in month `m` of year `y`.
pub fn days_in_month(y: i64, m: u32) -> u32 {
    let next = if m == 12 {
        days_from_civil(y + 1, 1, 1)
    } else {
        days_from_civil(y, m + 1, 1)
    };
    (next - days_from_civil(y, m, 1)) as u32
}

/// A date/time field (for `date_part`) or unit (for `date_trunc` and `date_diff`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Nanoseconds; as a field, the seconds of the minute in nanoseconds (timestamps have
    /// microsecond precision, so truncating to nanoseconds changes nothing).
    Nanosecond,
    /// Microseconds; as a field, the seconds of the minute in microseconds.
    Microsecond,
    /// Milliseconds; as a field, the seconds of the minute in milliseconds.
    Millisecond,
    /// Seconds (whole seconds as a field).
    Second,
    /// Minutes.
    Minute,
    /// Hours.
    Hour,
    /// Days (day of the month as a field).
    Day,
    /// ISO weeks starting on Monday (ISO week number as a field).
    Week,
    /// Months.
    Month,
    /// Quarters (1..=4).
    Quarter,
    /// Years.
    Year,
    /// Decades (year / 10).
    Decade,
    /// Centuries (the 21st century starts with 2001).
    Century,
    /// Millennia (the 3rd millennium starts with 2001).
    Millennium,
    /// Day of the week, Sunday = 0 (field only).
    Dow,
    /// Day of the week, Monday = 1 .. Sunday = 7 (field only).
    Isodow,
    /// Day of the year, 1-based (field only).
    Doy,
    /// ISO 8601 week-numbering year (field only).
    Isoyear,
    /// Seconds since 1970-01-01 00:00:00 (field only).
    Epoch,
}

/// Spellings of each part; the first is the canonical name.
pub const PART_NAMES: &[(Part, &[&str])] = &[
    (
        Part::Nanosecond,
        &["nanosecond", "nanoseconds", "ns", "nsec", "nsecs"],
    ),
    (
        Part::Microsecond,
        &["microsecond", "microseconds", "us", "usec", "usecs"],
    ),
    (
        Part::Millisecond,
        &["millisecond", "milliseconds", "ms", "msec", "msecs"],
    ),
    (Part::Second, &["second", "seconds", "s", "sec", "secs"]),
    (Part::Minute, &["minute", "minutes", "m", "min", "mins"]),
    (Part::Hour, &["hour", "hours", "h", "hr", "hrs"]),
    (Part::Day, &["day", "days", "d", "dayofmonth"]),
    (Part::Week, &["week", "weeks", "w", "weekofyear"]),
    (Part::Month, &["month", "months", "mon", "mons"]),
    (Part::Quarter, &["quarter", "quarters"]),
    (Part::Year, &["year", "years", "y", "yr", "yrs"]),
    (Part::Decade, &["decade", "decades"]),
    (Part::Century, &["century", "centuries"]),
    (
        Part::Millennium,
        &["millennium", "millennia", "millenniums"],
    ),
    (Part::Dow, &["dow", "dayofweek", "weekday"]),
    (Part::Isodow, &["isodow"]),
    (Part::Doy, &["doy", "dayofyear"]),
    (Part::Isoyear, &["isoyear"]),
    (Part::Epoch, &["epoch"]),
];

impl Part {
    /// The canonical name of this part.
    pub fn name(self) -> &'static str {
        PART_NAMES
            .iter()
            .find(|(p, _)| *p == self)
            .and_then(|(_, names)| names.first().copied())
            .unwrap_or("?")
    }

    /// The part named `s` (case-insensitive, several spellings).
    pub fn parse(s: &str) -> Option<Part> {
        let s = s.trim().to_ascii_lowercase();
        PART_NAMES
            .iter()
            .find(|(_, names)| names.contains(&s.as_str()))
            .map(|(p, _)| *p)
    }

    /// Whether `date_trunc` and `date_diff` accept this part as a unit.
    pub fn is_unit(self) -> bool {
        !matches!(
            self,
            Part::Dow | Part::Isodow | Part::Doy | Part::Isoyear | Part::Epoch
        )
    }

    /// Microseconds in one unit of this part, for units of fixed length.
    pub fn fixed_micros(self) -> Option<i64> {
        Some(match self {
            Part::Nanosecond | Part::Microsecond => 1,
            Part::Millisecond => 1_000,
            Part::Second => 1_000_000,
            Part::Minute => 60_000_000,
            Part::Hour => 3_600_000_000,
            Part::Day => US_PER_DAY,
            _ => return None,
        })
    }
}

/// Day of the week with Monday = 1 .. Sunday = 7 (1970-01-01 was a Thursday).
pub fn isodow(days: i64) -> i64 {
    (days + 3).rem_euclid(7) + 1
}

/// ISO week-numbering year and week of a day.
pub fn iso_week(days: i64) -> (i64, i64) {
    let thursday = days - isodow(days) + 4;
    let (year, _, _) = civil_from_days(thursday);
    (year, (thursday - days_from_civil(year, 1, 1)) / 7 + 1)
}

/// Century or millennium (`span` years) of year `y`, counted as PostgreSQL does (no year 0).
pub fn era_number(y: i64, span: i64) -> i64 {
    if y > 0 {
        (y - 1) / span + 1
    } else {
        -((-y) / span + 1)
    }
}

/// Field `part` of the instant `days` + `tod` (microseconds into the day).
pub fn extract(part: Part, days: i64, tod: i64) -> i64 {
    let year = || civil_from_days(days).0;
    match part {
        Part::Nanosecond => tod % 60_000_000 * 1_000,
        Part::Microsecond => tod % 60_000_000,
        Part::Millisecond => tod % 60_000_000 / 1_000,
        Part::Second => tod / 1_000_000 % 60,
        Part::Minute => tod / 60_000_000 % 60,
        Part::Hour => tod / 3_600_000_000,
        Part::Day => i64::from(civil_from_days(days).2),
        Part::Week => iso_week(days).1,
        Part::Month => i64::from(civil_from_days(days).1),
        Part::Quarter => i64::from((civil_from_days(days).1 - 1) / 3 + 1),
        Part::Year => year(),
        Part::Decade => year().div_euclid(10),
        Part::Century => era_number(year(), 100),
        Part::Millennium => era_number(year(), 1000),
        Part::Dow => isodow(days) % 7,
        Part::Isodow => isodow(days),
        Part::Doy => days - days_from_civil(year(), 1, 1) + 1,
        Part::Isoyear => iso_week(days).0,
        Part::Epoch => days * 86_400 + tod / 1_000_000,
    }
}

/// The first day of the `unit` period that contains `days` (units of a day or less: `days`).
pub fn trunc_days(unit: Part, days: i64) -> i64 {
    let (y, m, _) = civil_from_days(days);
    let (y, m) = match unit {
        Part::Week => return days - isodow(days) + 1,
        Part::Month => (y, m),
        Part::Quarter => (y, (m - 1) / 3 * 3 + 1),
        Part::Year => (y, 1),
        Part::Decade => (y.div_euclid(10) * 10, 1),
        Part::Century => ((y - 1).div_euclid(100) * 100 + 1, 1),
        Part::Millennium => ((y - 1).div_euclid(1000) * 1000 + 1, 1),
        _ => return days,
    };
    days_from_civil(y, m, 1)
}

pub fn out_of_range(name: &str) -> Error {
    Error::execution(format!("{name}: date/time value out of range"))
}

/// The start of the `unit` period containing the timestamp `us`.
pub fn trunc_us(unit: Part, us: i64) -> Result<i64> {
    let result = match unit.fixed_micros() {
        Some(step) => us.checked_sub(us.rem_euclid(step)),
        None => trunc_days(unit, us.div_euclid(US_PER_DAY)).checked_mul(US_PER_DAY),
    };
    result.ok_or_else(|| out_of_range("date_trunc"))
}

/// The index of the `unit` period containing the timestamp `us` (for `date_diff`).
pub fn ordinal(unit: Part, us: i64) -> i128 {
    if unit == Part::Nanosecond {
        return i128::from(us) * 1_000;
    }
    if let Some(step) = unit.fixed_micros() {
        return i128::from(us.div_euclid(step));
    }
    let days = us.div_euclid(US_PER_DAY);
    let (y, m, _) = civil_from_days(days);
    i128::from(match unit {
        Part::Week => (days + 3).div_euclid(7),
        Part::Month => y * 12 + i64::from(m) - 1,
        Part::Quarter => y * 4 + i64::from(m - 1) / 3,
        Part::Decade => y.div_euclid(10),
        Part::Century => (y - 1).div_euclid(100),
        Part::Millennium => (y - 1).div_euclid(1000),
        _ => y,
    })
}

/// Seconds in an interval, counting a month as 30 days and a year as 365.25 days (PostgreSQL).
pub fn interval_seconds(iv: IntervalMonthDayNano) -> f64 {
    let (years, months) = (iv.months / 12, iv.months % 12);
    let days = f64::from(years) * 365.25 + f64::from(months) * 30.0 + f64::from(iv.days);
    days * 86_400.0 + iv.nanoseconds as f64 / 1e9
}

/// Field `part` of an interval (fields are not normalized: `hour` of `'25 hours'` is 25), or
/// `None` for fields that make no sense for intervals (`dow`, `week`, ...).
pub fn interval_field(part: Part, iv: IntervalMonthDayNano) -> Option<i64> {
    const NS_PER_MINUTE: i64 = 60_000_000_000;
    let (months, ns) = (i64::from(iv.months), iv.nanoseconds);
    Some(match part {
        Part::Nanosecond => ns % NS_PER_MINUTE,
        Part::Microsecond => ns % NS_PER_MINUTE / 1_000,
        Part::Millisecond => ns % NS_PER_MINUTE / 1_000_000,
        Part::Second => ns / 1_000_000_000 % 60,
        Part::Minute => ns / NS_PER_MINUTE % 60,
        Part::Hour => ns / (60 * NS_PER_MINUTE),
        Part::Day => i64::from(iv.days),
        Part::Month => months % 12,
        Part::Quarter => months % 12 / 3 + 1,
        Part::Year => months / 12,
        Part::Decade => months / 120,
        Part::Century => months / 1_200,
        Part::Millennium => months / 12_000,
        Part::Epoch => interval_seconds(iv).floor() as i64,
        Part::Week | Part::Dow | Part::Isodow | Part::Doy | Part::Isoyear => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_calendar_round_trips() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(i64::from(i32::MIN)).0, -5_877_641);
        assert_eq!(
            (
                days_in_month(2000, 2),
                days_in_month(1900, 2),
                days_in_month(2024, 12)
            ),
            (29, 28, 31)
        );
    }
}
