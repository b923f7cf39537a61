//! What the benchmark programs share: the machine-readable `BENCH {…}` summary line that
//! `bench/all.sh` collects (one per figure), percentiles, and plain-text tables.

use serde_json::{Map, Value, json};

/// The prefix of a summary line on stdout.
pub const PREFIX: &str = "BENCH ";

/// One figure of a benchmark, beside the reference measured in the same run.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchLine {
    /// What was measured, e.g. "nonce search, 2 threads".
    pub figure: String,
    /// The measured value.
    pub value: f64,
    /// Its unit, e.g. "MH/s", "ms", "transfers/s".
    pub unit: String,
    /// What it is read against, with its value in the same unit.
    pub reference: Option<(String, f64)>,
    /// The ratio the goal is judged on (by default value ÷ reference value).
    pub ratio: Option<f64>,
    /// The goal, as text: ">= 0.9 per core", "< 100 ms".
    pub goal: Option<String>,
    /// Whether the goal was met (`None`: no goal).
    pub met: Option<bool>,
    /// More fields, printed after the standard ones.
    pub extra: Map<String, Value>,
}

impl BenchLine {
    /// A figure without reference or goal yet.
    pub fn new(figure: impl Into<String>, value: f64, unit: impl Into<String>) -> Self {
        Self {
            figure: figure.into(),
            value,
            unit: unit.into(),
            reference: None,
            ratio: None,
            goal: None,
            met: None,
            extra: Map::new(),
        }
    }

    /// Adds the reference and the ratio value ÷ reference.
    #[must_use]
    pub fn reference(mut self, name: impl Into<String>, value: f64) -> Self {
        self.ratio = Some(self.value / value);
        self.reference = Some((name.into(), value));
        self
    }

    /// Replaces the ratio (when the goal's ratio is not value ÷ reference, e.g. a median of pairs).
    #[must_use]
    pub fn ratio(mut self, ratio: f64) -> Self {
        self.ratio = Some(ratio);
        self
    }

    /// Adds the goal and whether it was met.
    #[must_use]
    pub fn goal(mut self, goal: impl Into<String>, met: bool) -> Self {
        self.goal = Some(goal.into());
        self.met = Some(met);
        self
    }

    /// Adds a field of its own.
    #[must_use]
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(key.to_owned(), value.into());
        self
    }

    /// The line: `BENCH ` and one JSON object, the standard fields first in their order,
    /// numbers rounded to 4 significant digits.
    pub fn to_line(&self) -> String {
        let (name, value) = self.reference.as_ref().map_or((Value::Null, Value::Null), |(n, v)| (json!(n), number(*v)));
        let mut fields = vec![
            ("figure".to_owned(), json!(self.figure)),
            ("value".to_owned(), number(self.value)),
            ("unit".to_owned(), json!(self.unit)),
            ("reference".to_owned(), name),
            ("reference_value".to_owned(), value),
            ("ratio".to_owned(), self.ratio.map_or(Value::Null, number)),
            ("goal".to_owned(), self.goal.as_ref().map_or(Value::Null, |g| json!(g))),
            ("met".to_owned(), self.met.map_or(Value::Null, Value::Bool)),
        ];
        fields.extend(self.extra.iter().map(|(k, v)| (k.clone(), v.clone())));
        format!("{PREFIX}{}", ordered_object(&fields))
    }

    /// Prints [`to_line`](Self::to_line) on stdout.
    pub fn print(&self) {
        println!("{}", self.to_line());
    }
}

/// A JSON object with its fields in the given order (`serde_json`'s maps sort their keys).
pub fn ordered_object(fields: &[(String, Value)]) -> String {
    let fields: Vec<String> =
        fields.iter().map(|(key, value)| format!("{}:{value}", Value::from(key.as_str()))).collect();
    format!("{{{}}}", fields.join(","))
}

/// Parses a `BENCH {…}` line back into its JSON object (`None` for any other line).
pub fn parse_line(line: &str) -> Option<Map<String, Value>> {
    match serde_json::from_str(line.trim_end().strip_prefix(PREFIX)?) {
        Ok(Value::Object(object)) => Some(object),
        _ => None,
    }
}

/// Rounds to 4 significant digits (JSON `null` for NaN or infinity).
fn number(x: f64) -> Value {
    if !x.is_finite() {
        return Value::Null;
    }
    if x == 0.0 {
        return json!(0.0);
    }
    let scale = 10f64.powi(3 - x.abs().log10().floor() as i32);
    json!((x * scale).round() / scale)
}

/// A small xorshift generator, so the benchmarks ask the same queries in every run and at
/// every chain length without a dependency.
pub struct Rng(u64);

impl Rng {
    /// The generator every benchmark starts from.
    pub fn new() -> Self {
        Self(0x9E37_79B9_7F4A_7C15)
    }

    /// The next number below `n` (0 for `n` = 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

impl Default for Rng {
    fn default() -> Self {
        Self::new()
    }
}

/// The `p`-th percentile (0–100) of sorted values by the nearest-rank method; NaN when empty.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Lays out rows under a header, each column as wide as its widest cell: the first column
/// left-aligned, the others right-aligned, two spaces apart.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (cell, &w))| if i == 0 { format!("{cell:<w$}") } else { format!("{cell:>w$}") })
            .collect();
        padded.join("  ").trim_end().to_owned()
    };
    let mut out = line(header.to_vec());
    out.push('\n');
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_repeats_itself_and_stays_below_its_bound() {
        let draw = || {
            let mut rng = Rng::new();
            (0..1000).map(|i| rng.below(i % 17)).collect::<Vec<_>>()
        };
        let first = draw();
        assert_eq!(first, draw(), "the same sequence in every run");
        assert!(first.iter().enumerate().all(|(i, x)| *x < (i as u64 % 17).max(1)));
        assert!(first.iter().any(|x| *x > 0));
    }

    #[test]
    fn a_line_holds_the_standard_fields_in_order() {
        let line = BenchLine::new("nonce search, 2 threads", 17.123_456, "MH/s")
            .reference("4-way SHA-NI loop, 2 threads", 13.9)
            .goal(">= 0.9 per core", true)
            .with("threads", 2)
            .to_line();
        assert_eq!(
            line,
            r#"BENCH {"figure":"nonce search, 2 threads","value":17.12,"unit":"MH/s","reference":"4-way SHA-NI loop, 2 threads","reference_value":13.9,"ratio":1.232,"goal":">= 0.9 per core","met":true,"threads":2}"#
        );
        let parsed = parse_line(&line).expect("a BENCH line");
        assert_eq!(parsed["ratio"], json!(1.232));
        assert_eq!(ordered_object(&[("b".into(), json!(1)), ("a".into(), json!("x"))]), r#"{"b":1,"a":"x"}"#);
    }

    #[test]
    fn missing_parts_are_null() {
        let line = BenchLine::new("RSS", 74.0, "MB").to_line();
        let parsed = parse_line(&line).expect("a BENCH line");
        for key in ["reference", "reference_value", "ratio", "goal", "met"] {
            assert_eq!(parsed[key], Value::Null, "{key}");
        }
        assert_eq!(parse_line(&BenchLine::new("x", f64::NAN, "s").to_line()).expect("a line")["value"], Value::Null);
    }

    #[test]
    fn other_lines_are_not_bench_lines() {
        assert_eq!(parse_line("run 1: ready 12 ms"), None);
        assert_eq!(parse_line("BENCH not json"), None);
        assert_eq!(parse_line("BENCH [1, 2]"), None);
    }

    #[test]
    fn numbers_keep_four_significant_digits() {
        assert_eq!(number(123_456.0), json!(123_500.0));
        assert_eq!(number(0.000_123_456), json!(0.000_123_5));
        assert_eq!(number(-2.5), json!(-2.5));
        assert_eq!(number(0.0), json!(0.0));
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let sorted: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&sorted, 50.0), 50.0);
        assert_eq!(percentile(&sorted, 99.0), 99.0);
        assert_eq!(percentile(&sorted, 100.0), 100.0);
        assert_eq!(percentile(&sorted, 0.0), 1.0);
        assert_eq!(percentile(&[7.0], 99.0), 7.0);
        assert!(percentile(&[], 50.0).is_nan());
    }

    #[test]
    fn tables_align_their_columns() {
        let rows = vec![vec!["1,000".to_owned(), "1.0".to_owned()], vec!["100,000".to_owned(), "12.25".to_owned()]];
        let text = table(&["blocks", "ms"], &rows);
        assert_eq!(text, "blocks      ms\n1,000      1.0\n100,000  12.25\n");
    }
}
