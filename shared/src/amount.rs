//! `Amount`: a count of grains (1 OXC = 100,000,000 grains) with checked arithmetic and exact
//! decimal parsing and printing. Never a float.

use std::fmt;
use std::str::FromStr;

/// Grains in one OXC.
pub const GRAINS_PER_OXC: u64 = 100_000_000;

/// Decimal places of an OXC amount.
pub const DECIMALS: usize = 8;

/// A non-negative number of grains.
///
/// The field is private so that every sum and difference goes through `checked_*`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Amount(u64);

impl Amount {
    /// No grains.
    pub const ZERO: Self = Self(0);
    /// One grain, the smallest unit.
    pub const ONE_GRAIN: Self = Self(1);
    /// One OXC.
    pub const ONE_OXC: Self = Self(GRAINS_PER_OXC);
    /// The largest value a `u64` field can carry.
    pub const MAX: Self = Self(u64::MAX);
    /// Every coin that will ever exist: 50 OXC halving every 210,000 blocks sums to just under
    /// 21,000,000 OXC; this round figure bounds it from above.
    pub const MAX_SUPPLY: Self = Self(21_000_000 * GRAINS_PER_OXC);

    /// Makes an amount of `grains`.
    pub const fn from_grains(grains: u64) -> Self {
        Self(grains)
    }

    /// Returns the number of grains.
    pub const fn to_grains(self) -> u64 {
        self.0
    }

    /// Makes an amount of whole OXC, or `None` if it overflows.
    pub const fn from_oxc(oxc: u64) -> Option<Self> {
        match oxc.checked_mul(GRAINS_PER_OXC) {
            Some(grains) => Some(Self(grains)),
            None => None,
        }
    }

    /// Adds, or `None` on overflow.
    #[must_use]
    pub const fn checked_add(self, other: Self) -> Option<Self> {
        match self.0.checked_add(other.0) {
            Some(v) => Some(Self(v)),
            None => None,
        }
    }

    /// Subtracts, or `None` if `other` is larger.
    #[must_use]
    pub const fn checked_sub(self, other: Self) -> Option<Self> {
        match self.0.checked_sub(other.0) {
            Some(v) => Some(Self(v)),
            None => None,
        }
    }

    /// Multiplies by an integer, or `None` on overflow.
    #[must_use]
    pub const fn checked_mul(self, factor: u64) -> Option<Self> {
        match self.0.checked_mul(factor) {
            Some(v) => Some(Self(v)),
            None => None,
        }
    }

    /// Sums amounts, or `None` on overflow.
    pub fn checked_sum(amounts: impl IntoIterator<Item = Self>) -> Option<Self> {
        amounts.into_iter().try_fold(Self::ZERO, Self::checked_add)
    }
}

impl fmt::Display for Amount {
    /// Prints decimal OXC with trailing zeros dropped: `1.25`, `0.00000001`, `50`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.0 / GRAINS_PER_OXC;
        let frac = self.0 % GRAINS_PER_OXC;
        if frac == 0 {
            return f.pad(&whole.to_string());
        }
        let digits = format!("{frac:08}");
        f.pad(&format!("{whole}.{}", digits.trim_end_matches('0')))
    }
}

impl fmt::Debug for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self} OXC")
    }
}

/// Why a string is not an OXC amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseAmountError {
    /// Nothing to parse.
    #[error("amount is empty")]
    Empty,
    /// A leading minus sign.
    #[error("amount is negative")]
    Negative,
    /// A character other than digits and one decimal point.
    #[error("amount {0:?} is not a decimal number of OXC")]
    InvalidCharacter(String),
    /// More decimals than a grain can express.
    #[error("amount has more than {DECIMALS} decimals (1 grain = 0.00000001 OXC)")]
    TooManyDecimals,
    /// More than all the coins that will ever exist.
    #[error("amount is more than the total supply of 21,000,000 OXC")]
    ExceedsSupply,
}

impl FromStr for Amount {
    type Err = ParseAmountError;

    /// Parses decimal OXC (`1.25`, `.5`, `3.`) exactly, with at most 8 decimals.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() {
            return Err(ParseAmountError::Empty);
        }
        if s.starts_with('-') {
            return Err(ParseAmountError::Negative);
        }
        let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
        let invalid = || ParseAmountError::InvalidCharacter(s.to_owned());
        if (whole.is_empty() && frac.is_empty())
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(invalid());
        }
        if frac.len() > DECIMALS {
            return Err(ParseAmountError::TooManyDecimals);
        }
        // Leading zeros are harmless; strip them so a long run of them is not "too large".
        let whole = whole.trim_start_matches('0');
        // 21,000,000 has 8 digits: anything longer exceeds the supply without parsing.
        if whole.len() > 8 {
            return Err(ParseAmountError::ExceedsSupply);
        }
        let whole: u64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| invalid())? };
        let mut frac_grains: u64 = if frac.is_empty() { 0 } else { frac.parse().map_err(|_| invalid())? };
        for _ in frac.len()..DECIMALS {
            frac_grains *= 10;
        }
        let grains = whole
            .checked_mul(GRAINS_PER_OXC)
            .and_then(|g| g.checked_add(frac_grains))
            .ok_or(ParseAmountError::ExceedsSupply)?;
        let amount = Self(grains);
        if amount > Self::MAX_SUPPLY {
            return Err(ParseAmountError::ExceedsSupply);
        }
        Ok(amount)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[track_caller]
    fn parse(s: &str) -> Result<u64, ParseAmountError> {
        s.parse::<Amount>().map(Amount::to_grains)
    }

    #[test]
    fn parses_exact_decimals() {
        assert_eq!(parse("1.25"), Ok(125_000_000));
        assert_eq!(parse("0.00000001"), Ok(1));
        assert_eq!(parse(".5"), Ok(50_000_000));
        assert_eq!(parse("3."), Ok(300_000_000));
        assert_eq!(parse("007"), Ok(700_000_000));
        assert_eq!(parse("21000000"), Ok(Amount::MAX_SUPPLY.to_grains()));
        // 0.1 + 0.2 is exact here, as it never is in floating point.
        assert_eq!(parse("0.3"), Ok(parse("0.1").unwrap() + parse("0.2").unwrap()));
    }

    #[test]
    fn refuses_each_malformed_amount_with_its_reason() {
        assert_eq!(parse(""), Err(ParseAmountError::Empty));
        assert_eq!(parse("-1"), Err(ParseAmountError::Negative));
        assert_eq!(parse("0.000000001"), Err(ParseAmountError::TooManyDecimals));
        assert_eq!(parse("21000000.00000001"), Err(ParseAmountError::ExceedsSupply));
        assert_eq!(parse("99999999999999999999999"), Err(ParseAmountError::ExceedsSupply));
        for bad in ["ten", "1.2.3", ".", "1e5", "+1", "1,5", "0x10", "1 000", "١"] {
            assert!(matches!(parse(bad), Err(ParseAmountError::InvalidCharacter(_))), "{bad}");
        }
    }

    #[test]
    fn prints_without_trailing_zeros() {
        assert_eq!(Amount::from_grains(125_000_000).to_string(), "1.25");
        assert_eq!(Amount::from_grains(1).to_string(), "0.00000001");
        assert_eq!(Amount::from_oxc(50).unwrap().to_string(), "50");
        assert_eq!(Amount::ZERO.to_string(), "0");
        assert_eq!(format!("{:>6}", Amount::ONE_OXC), "     1");
    }

    #[test]
    fn arithmetic_is_checked() {
        assert_eq!(Amount::MAX.checked_add(Amount::ONE_GRAIN), None);
        assert_eq!(Amount::ZERO.checked_sub(Amount::ONE_GRAIN), None);
        assert_eq!(Amount::checked_sum([Amount::MAX, Amount::ONE_GRAIN]), None);
        assert_eq!(Amount::from_oxc(u64::MAX), None);
    }

    proptest! {
        #[test]
        fn print_then_parse_is_identity(grains in 0..=Amount::MAX_SUPPLY.to_grains()) {
            let amount = Amount::from_grains(grains);
            prop_assert_eq!(amount.to_string().parse::<Amount>(), Ok(amount));
        }

        #[test]
        fn parsing_any_string_never_panics(s in "\\PC{0,40}") {
            let _ = s.parse::<Amount>();
        }
    }
}
