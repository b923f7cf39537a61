//! Output helpers: amounts in OXC, UTC times, shortened ids, tables, and the `--json` document.

use comfy_table::{ContentArrangement, LineStyle, Table, presets};
use oxcoin::Amount;
use serde::Serialize;

/// Prints `value` as one pretty JSON document on stdout.
///
/// # Errors
/// Serialization failure (not expected for the wallet's types).
pub fn print_json(value: &impl Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Formats grains as decimal OXC with the unit: `12.5 OXC`.
pub fn oxc(grains: u64) -> String {
    format!("{} OXC", Amount::from_grains(grains))
}

/// Formats Unix seconds as `YYYY-MM-DD HH:MM` in UTC.
pub fn utc_minute(unix: u64) -> String {
    let days = unix / 86_400;
    let seconds = unix % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}", seconds / 3600, seconds % 3600 / 60)
}

/// Howard Hinnant's days-to-civil algorithm, for days since 1970-01-01 (never negative here).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// Shortens a long id to its first and last `keep` characters: `3f1c2a…9e0b11`.
pub fn shorten(text: &str, keep: usize) -> String {
    if text.len() <= 2 * keep + 1 || !text.is_ascii() {
        return text.to_owned();
    }
    format!("{}…{}", &text[..keep], &text[text.len() - keep..])
}

/// A table with a header, light borders and no wrapping (stable output for scripts and tests).
pub fn table(header: &[&str]) -> Table {
    let mut table = Table::new();
    // Only a rule under the header: easy to read, easy to grep.
    let style = presets::NOTHING.header_separator(LineStyle::none().fill('─').junction('─'));
    table.load_style(style).set_content_arrangement(ContentArrangement::Disabled);
    table.set_header(header.iter().copied());
    table
}

/// Renders a table without the padding comfy-table leaves at the end of each line.
pub fn render(table: &Table) -> String {
    table.lines().map(|line| line.trim_end().to_owned()).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_minutes() {
        assert_eq!(utc_minute(0), "1970-01-01 00:00");
        assert_eq!(utc_minute(951_782_400), "2000-02-29 00:00");
        assert_eq!(utc_minute(1_798_761_599), "2026-12-31 23:59");
        assert_eq!(utc_minute(4_107_542_400), "2100-03-01 00:00");
    }

    #[test]
    fn shortens_ids_and_formats_amounts() {
        assert_eq!(shorten("0123456789abcdef", 4), "0123…cdef");
        assert_eq!(shorten("short", 4), "short");
        assert_eq!(oxc(125_000_000), "1.25 OXC");
        assert_eq!(oxc(0), "0 OXC");
    }
}
