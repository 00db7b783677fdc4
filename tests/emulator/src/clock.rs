//! The server clock (real time shifted by an offset) and the two time formats GitHub uses.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Converts real instants to what the emulated server reports.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clock {
    offset_secs: i64,
}

impl Clock {
    pub(crate) fn new(offset_secs: i64) -> Self {
        Clock { offset_secs }
    }

    /// The server's view of a real instant.
    fn shift(self, real: SystemTime) -> SystemTime {
        let offset = Duration::from_secs(self.offset_secs.unsigned_abs());
        if self.offset_secs >= 0 {
            real + offset
        } else {
            real.checked_sub(offset).unwrap_or(UNIX_EPOCH)
        }
    }

    /// Unix seconds on the server clock, rounded up so that a client waiting until this
    /// second is never early.
    pub(crate) fn unix_ceil(self, real: SystemTime) -> u64 {
        let since = self
            .shift(real)
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        since.as_secs() + u64::from(since.subsec_nanos() > 0)
    }

    /// An RFC 7231 date on the server clock, for the `Date` header.
    pub(crate) fn http_date(self, real: SystemTime) -> String {
        httpdate::fmt_http_date(self.shift(real))
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` for unix seconds, the format of GitHub's `created_at` fields.
pub(crate) fn iso8601(unix_secs: u64) -> String {
    let days = unix_secs / 86_400;
    let secs = unix_secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Gregorian date of a day count since 1970-01-01 (H. Hinnant's algorithm, for days >= 0).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_matches_known_dates() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(1_296_068_472), "2011-01-26T19:01:12Z");
        assert_eq!(iso8601(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(iso8601(1_709_251_199), "2024-02-29T23:59:59Z");
    }

    #[test]
    fn offsets_shift_unix_seconds_and_dates() {
        let real = UNIX_EPOCH + Duration::from_millis(1_000_000_500);
        assert_eq!(Clock::new(0).unix_ceil(real), 1_000_001);
        assert_eq!(Clock::new(3600).unix_ceil(real), 1_003_601);
        assert_eq!(Clock::new(-1_000_000).unix_ceil(real), 1);
        assert_eq!(Clock::new(-2_000_000).unix_ceil(real), 0);
        let exact = UNIX_EPOCH + Duration::from_secs(86_400);
        assert_eq!(
            Clock::new(0).http_date(exact),
            "Fri, 02 Jan 1970 00:00:00 GMT"
        );
        assert_eq!(
            Clock::new(-86_400).http_date(exact),
            "Thu, 01 Jan 1970 00:00:00 GMT"
        );
    }
}
