//! Calendar arithmetic for UTC timestamps (log lines, signing dates) without a date-time crate.

/// Splits seconds since the Unix epoch into `((year, month, day), (hour, minute, second))`.
pub(crate) fn utc(secs: u64) -> ((i64, u32, u32), (u32, u32, u32)) {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let time = ((rem / 3600) as u32, ((rem % 3600) / 60) as u32, (rem % 60) as u32);
    (civil_from_days(days), time)
}

/// Converts a day count since 1970-01-01 into a proleptic Gregorian date (Howard Hinnant's
/// well-known era-based algorithm, re-derived here).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::utc;

    #[test]
    fn known_instants() {
        assert_eq!(utc(0), ((1970, 1, 1), (0, 0, 0)));
        assert_eq!(utc(951_782_400), ((2000, 2, 29), (0, 0, 0)));
        assert_eq!(utc(1_700_000_000), ((2023, 11, 14), (22, 13, 20)));
        assert_eq!(utc(4_102_444_799), ((2099, 12, 31), (23, 59, 59)));
    }
}
