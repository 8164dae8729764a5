//! Formatting amounts of money for people to read.

/// Formats a number of cents as dollars with thousands separators:
/// `123456` becomes `"$1,234.56"`, `-5` becomes `"-$0.05"`.
#[tracing::instrument(level = "trace")]
pub fn format_cents(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    let dollars = (cents / 100).to_string();
    // Walk the digits from the right, inserting a comma every three of them.
    let mut grouped: Vec<char> = Vec::new();
    for (i, digit) in dollars.chars().rev().enumerate() {
        if i > 0 && i % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    let dollars: String = grouped.into_iter().rev().collect();
    format!("{sign}${dollars}.{:02}", cents % 100)
}
