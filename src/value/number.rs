//! Exact cty numbers: an i64, a finite f64, or a decimal string kept exactly as sent.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use thiserror::Error;

/// A number as Terraform sends it, kept without loss.
///
/// Equality and hashing compare the exact numeric value, so `80`, `80.0` and `"8e1"` are equal,
/// and an integer-valued float equals the same integer at every magnitude (the f64
/// 4.907443349995629e17 is exactly 490744334999562880). A float is the exact binary value it
/// holds: `Number::from_f64(0.1)` is 0.1000000000000000055511151231257827..., not the decimal
/// `"0.1"`, which is why Terraform sends such numbers as strings, never as floats. Display
/// uses the shortest form that reads back to the same float.
#[derive(Debug, Clone)]
pub struct Number(Repr);

#[derive(Debug, Clone)]
pub(crate) enum Repr {
    Int(i64),
    Float(f64),
    /// Validated by [`parse_decimal`]; kept as sent.
    Decimal(String),
}

/// A string that is not a decimal number.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{reason}: {text:?}")]
pub struct ParseNumberError {
    text: String,
    reason: &'static str,
}

/// The value of a number as sign, digits and exponent: `(-1)^neg * digits * 10^exp`.
///
/// `digits` has no leading or trailing zeros; zero is empty digits, not negative, exponent 0.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Canonical {
    neg: bool,
    digits: String,
    exp: i64,
}

impl Number {
    /// A whole number.
    pub fn from_i64(n: i64) -> Self {
        Number(Repr::Int(n))
    }

    /// A whole non-negative number; above `i64::MAX` it is kept as a decimal string.
    pub fn from_u64(n: u64) -> Self {
        match i64::try_from(n) {
            Ok(i) => Number(Repr::Int(i)),
            Err(_) => Number(Repr::Decimal(n.to_string())),
        }
    }

    /// A float; `None` for NaN and infinities, which cty numbers cannot hold.
    pub fn from_f64(f: f64) -> Option<Self> {
        if f.is_finite() {
            // Normalise -0.0 so it behaves like 0 everywhere.
            Some(Number(Repr::Float(if f == 0.0 { 0.0 } else { f })))
        } else {
            None
        }
    }

    /// Parses a decimal such as `"0.1"`, `"-12"`, `"1e3"` or `"80.0"`, keeping the text as given.
    ///
    /// Accepted: an optional sign, digits with an optional fraction (at least one digit), and an
    /// optional exponent `e`/`E` with optional sign and at least one digit.
    pub fn parse(s: &str) -> Result<Number, ParseNumberError> {
        let err = |reason| ParseNumberError { text: s.chars().take(64).collect(), reason };
        parse_decimal(s).map_err(err)?;
        // Every kept decimal must have a canonical form, so comparisons never give up.
        canonical_of_decimal(s).ok_or_else(|| err("exponent out of range"))?;
        Ok(Number(Repr::Decimal(s.to_owned())))
    }

    /// The value as an i64 when it is exactly a whole number within the i64 range.
    ///
    /// `80`, `80.0`, `"80"` and `"8e1"` give `Some(80)`; `"0.5"` and `2^63` give `None`.
    pub fn as_i64(&self) -> Option<i64> {
        match &self.0 {
            Repr::Int(i) => Some(*i),
            Repr::Float(f) => float_to_i64(*f),
            Repr::Decimal(s) => canonical_of_decimal(s).and_then(|c| c.to_i64()),
        }
    }

    /// The value as the nearest f64 (infinite when a decimal is beyond the f64 range).
    pub fn as_f64(&self) -> f64 {
        match &self.0 {
            Repr::Int(i) => *i as f64,
            Repr::Float(f) => *f,
            Repr::Decimal(s) => s.parse::<f64>().unwrap_or_else(|_| {
                canonical_of_decimal(s).and_then(|c| c.to_sci_string().parse::<f64>().ok()).unwrap_or(0.0)
            }),
        }
    }

    /// Whether the number is a whole number (of any size).
    pub fn is_integer(&self) -> bool {
        self.exact().is_some_and(|c| c.exp >= 0)
    }

    pub(crate) fn repr(&self) -> &Repr {
        &self.0
    }

    /// The form used for display: for a float, the shortest decimal that reads back to it.
    fn canonical(&self) -> Option<Canonical> {
        match &self.0 {
            // `{:e}` is the shortest form that reads back to the same f64.
            Repr::Float(f) => canonical_of_decimal(&format!("{f:e}")),
            _ => self.exact(),
        }
    }

    /// The exact value, used for equality and hashing.
    fn exact(&self) -> Option<Canonical> {
        match &self.0 {
            Repr::Int(i) => canonical_of_decimal(&i.to_string()),
            Repr::Float(f) => canonical_of_decimal(&exact_decimal(*f)),
            Repr::Decimal(s) => canonical_of_decimal(s),
        }
    }
}

impl From<i64> for Number {
    fn from(n: i64) -> Self {
        Number::from_i64(n)
    }
}

impl PartialEq for Number {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (Repr::Int(a), Repr::Int(b)) => a == b,
            (Repr::Float(a), Repr::Float(b)) => a == b,
            (Repr::Int(i), Repr::Float(f)) | (Repr::Float(f), Repr::Int(i)) => float_equals_int(*f, *i),
            _ => self.exact() == other.exact(),
        }
    }
}

impl Eq for Number {}

impl Hash for Number {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.exact().hash(state);
    }
}

/// Whether a float is exactly the integer `i`: whole floats below 2^64 in magnitude convert to
/// i128 without loss, and a float beyond that range equals no i64.
fn float_equals_int(f: f64, i: i64) -> bool {
    const LIMIT: f64 = 18_446_744_073_709_551_616.0; // 2^64
    f.fract() == 0.0 && f.abs() < LIMIT && f as i128 == i128::from(i)
}

/// The exact decimal value of a finite float, as `digits` or `digits e-k`.
///
/// A float is `mantissa * 2^exp`. For `exp >= 0` that is an integer; for `exp < 0` it is
/// `mantissa * 5^k / 10^k` with `k = -exp`, so the digits are `mantissa * 5^k`. Both products are
/// computed on base-10^9 limbs: at most 1,074 small multiplications, and only for floats that
/// meet a decimal in a comparison.
fn exact_decimal(f: f64) -> String {
    const BASE: u64 = 1_000_000_000;
    let bits = f.to_bits();
    let neg = bits >> 63 == 1;
    let biased = ((bits >> 52) & 0x7ff) as i64;
    let fraction = bits & ((1 << 52) - 1);
    let (mut mantissa, mut exp) = if biased == 0 { (fraction, -1074) } else { (fraction | (1 << 52), biased - 1075) };
    if mantissa == 0 {
        return "0".into();
    }
    while mantissa % 2 == 0 && exp < 0 {
        mantissa /= 2;
        exp += 1;
    }
    // Little-endian limbs of the integer being built.
    let mut limbs: Vec<u64> = vec![mantissa % BASE, mantissa / BASE % BASE, mantissa / BASE / BASE];
    let multiply = |limbs: &mut Vec<u64>, by: u64| {
        let mut carry = 0;
        for limb in limbs.iter_mut() {
            let v = *limb * by + carry;
            *limb = v % BASE;
            carry = v / BASE;
        }
        while carry > 0 {
            limbs.push(carry % BASE);
            carry /= BASE;
        }
    };
    let (factor, chunk, mut count) = if exp >= 0 { (2u64, 1u64 << 29, exp) } else { (5u64, 1_220_703_125, -exp) };
    let per_chunk = if exp >= 0 { 29 } else { 13 };
    while count >= per_chunk {
        multiply(&mut limbs, chunk);
        count -= per_chunk;
    }
    for _ in 0..count {
        multiply(&mut limbs, factor);
    }
    while limbs.len() > 1 && limbs.last() == Some(&0) {
        limbs.pop();
    }
    let mut digits = String::with_capacity(limbs.len() * 9 + 8);
    if neg {
        digits.push('-');
    }
    let mut iter = limbs.iter().rev();
    if let Some(top) = iter.next() {
        digits.push_str(&top.to_string());
    }
    for limb in iter {
        digits.push_str(&format!("{limb:09}"));
    }
    if exp < 0 {
        digits.push_str(&format!("e{exp}"));
    }
    digits
}

impl fmt::Display for Number {
    /// Plain decimal for ordinary magnitudes (`80`, `0.1`, `-12.5`, whole numbers up to 40
    /// digits), scientific beyond them (`1e400`, `1.5e-20`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.0, self.canonical()) {
            (Repr::Int(i), _) => write!(f, "{i}"),
            (_, Some(c)) => f.write_str(&c.to_display_string()),
            (Repr::Float(x), None) => write!(f, "{x}"),
            (Repr::Decimal(s), None) => f.write_str(s),
        }
    }
}

fn float_to_i64(f: f64) -> Option<i64> {
    // 2^63 is exactly representable; every whole f64 in [-2^63, 2^63) fits an i64.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if f.fract() == 0.0 && (-LIMIT..LIMIT).contains(&f) { Some(f as i64) } else { None }
}

/// The parts of a decimal string, or why it is not one.
struct Parts<'a> {
    neg: bool,
    int: &'a str,
    frac: &'a str,
    exp: i64,
}

fn parse_decimal(s: &str) -> Result<Parts<'_>, &'static str> {
    let (neg, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        Some(_) => (false, s),
        None => return Err("empty number"),
    };
    let mantissa_end = rest.find(['e', 'E']).unwrap_or(rest.len());
    let (mantissa, exp_part) = rest.split_at(mantissa_end);
    let (int, frac) = match mantissa.find('.') {
        Some(dot) => (&mantissa[..dot], &mantissa[dot + 1..]),
        None => (mantissa, ""),
    };
    let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int) || !all_digits(frac) {
        return Err("not a decimal number");
    }
    if int.is_empty() && frac.is_empty() {
        return Err("number has no digits");
    }
    let exp = if exp_part.is_empty() {
        0
    } else {
        let digits = &exp_part[1..];
        let (eneg, edigits) = match digits.as_bytes().first() {
            Some(b'-') => (true, &digits[1..]),
            Some(b'+') => (false, &digits[1..]),
            _ => (false, digits),
        };
        if edigits.is_empty() || !all_digits(edigits) {
            return Err("invalid exponent");
        }
        let magnitude: i64 = edigits.parse().map_err(|_| "exponent out of range")?;
        if eneg { -magnitude } else { magnitude }
    };
    Ok(Parts { neg, int, frac, exp })
}

fn canonical_of_decimal(s: &str) -> Option<Canonical> {
    let p = parse_decimal(s).ok()?;
    let mut digits = String::with_capacity(p.int.len() + p.frac.len());
    digits.push_str(p.int);
    digits.push_str(p.frac);
    let frac_len = i64::try_from(p.frac.len()).ok()?;
    let mut exp = p.exp.checked_sub(frac_len)?;
    let trimmed_end = digits.trim_end_matches('0').len();
    let trailing = i64::try_from(digits.len() - trimmed_end).ok()?;
    digits.truncate(trimmed_end);
    exp = exp.checked_add(trailing)?;
    let leading = digits.len() - digits.trim_start_matches('0').len();
    digits.drain(..leading);
    if digits.is_empty() {
        return Some(Canonical { neg: false, digits, exp: 0 });
    }
    Some(Canonical { neg: p.neg, digits, exp })
}

impl Canonical {
    fn to_i64(&self) -> Option<i64> {
        if self.digits.is_empty() {
            return Some(0);
        }
        if self.exp < 0 || (self.digits.len() as i64).saturating_add(self.exp) > 19 {
            return None;
        }
        let mut n: i128 = self.digits.parse().ok()?;
        for _ in 0..self.exp {
            n = n.checked_mul(10)?;
        }
        if self.neg {
            n = -n;
        }
        i64::try_from(n).ok()
    }

    fn to_sci_string(&self) -> String {
        if self.digits.is_empty() {
            return "0".into();
        }
        format!("{}{}e{}", if self.neg { "-" } else { "" }, self.digits, self.exp)
    }

    fn to_display_string(&self) -> String {
        if self.digits.is_empty() {
            return "0".into();
        }
        let mut out = String::new();
        if self.neg {
            out.push('-');
        }
        let len = self.digits.len() as i64;
        // Position of the decimal point counted from the first digit.
        let point = len.saturating_add(self.exp);
        match (self.exp.cmp(&0), point) {
            (Ordering::Equal | Ordering::Greater, p) if p <= 40 => {
                out.push_str(&self.digits);
                out.extend(std::iter::repeat_n('0', self.exp as usize));
            }
            (Ordering::Less, p) if p > 0 => {
                let (a, b) = self.digits.split_at(p as usize);
                out.push_str(a);
                out.push('.');
                out.push_str(b);
            }
            (Ordering::Less, p) if p > -7 => {
                out.push_str("0.");
                out.extend(std::iter::repeat_n('0', p.unsigned_abs() as usize));
                out.push_str(&self.digits);
            }
            (_, p) => {
                let (first, rest) = self.digits.split_at(1);
                out.push_str(first);
                if !rest.is_empty() {
                    out.push('.');
                    out.push_str(rest);
                }
                out.push('e');
                out.push_str(&(p as i128 - 1).to_string());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Number {
        Number::parse(s).unwrap()
    }

    #[test]
    fn as_i64_exact_whole_numbers_only() {
        assert_eq!(Number::from_i64(80).as_i64(), Some(80));
        assert_eq!(Number::from_f64(80.0).unwrap().as_i64(), Some(80));
        assert_eq!(p("80").as_i64(), Some(80));
        assert_eq!(p("8e1").as_i64(), Some(80));
        assert_eq!(p("80.0").as_i64(), Some(80));
        assert_eq!(p("800e-1").as_i64(), Some(80));
        assert_eq!(p("-0").as_i64(), Some(0));
        assert_eq!(p("0.5").as_i64(), None);
        assert_eq!(p("1e-1").as_i64(), None);
        assert_eq!(Number::from_f64(0.5).unwrap().as_i64(), None);
        assert_eq!(p("9223372036854775807").as_i64(), Some(i64::MAX));
        assert_eq!(p("-9223372036854775808").as_i64(), Some(i64::MIN));
        assert_eq!(p("9223372036854775808").as_i64(), None);
        assert_eq!(Number::from_u64(u64::MAX).as_i64(), None);
        assert_eq!(Number::from_f64(2f64.powi(63)).unwrap().as_i64(), None);
        assert_eq!(p("1e400").as_i64(), None);
        assert_eq!(p("1e-400").as_i64(), None);
    }

    #[test]
    fn parse_rejects_non_numbers() {
        for bad in [
            "",
            "-",
            ".",
            "e3",
            "1e",
            "1e+",
            "0x10",
            "1.2.3",
            "inf",
            "NaN",
            " 1",
            "1 ",
            "١",
            "1e99999999999999999999",
            "0.01e-9223372036854775807",
        ] {
            assert!(Number::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        for good in ["0", "-12", "+3", "0.1", ".5", "5.", "1E3", "1e-3", "00012"] {
            assert!(Number::parse(good).is_ok(), "{good:?} should be accepted");
        }
    }

    #[test]
    fn equality_is_numeric() {
        assert_eq!(p("80.0"), Number::from_i64(80));
        assert_eq!(p("8e1"), Number::from_f64(80.0).unwrap());
        assert_ne!(p("0.1"), Number::from_f64(0.1).unwrap(), "the float 0.1 is not exactly 0.1");
        assert_eq!(p("0.1000000000000000055511151231257827021181583404541015625"), Number::from_f64(0.1).unwrap());
        assert_eq!(p("0.5"), Number::from_f64(0.5).unwrap());
        assert_ne!(p("0.1"), p("0.10000000000000001"));
        assert_ne!(Number::from_i64(1), Number::from_i64(-1));
        assert_eq!(Number::from_f64(-0.0).unwrap(), Number::from_i64(0));
        assert!(Number::from_f64(f64::NAN).is_none());
        assert!(Number::from_f64(f64::INFINITY).is_none());
    }

    /// The input a random seed found: a float that is a whole number above 2^53.
    #[test]
    fn large_whole_floats_equal_their_integer() {
        let f = Number::from_f64(4.907443349995629e17).unwrap();
        let i = Number::from_i64(490_744_334_999_562_880);
        assert_eq!(f, i);
        assert_eq!(hash(&f), hash(&i));
        assert_eq!(f, p("490744334999562880"));
        assert_eq!(hash(&f), hash(&p("490744334999562880")));
        assert_ne!(f, Number::from_i64(490_744_334_999_562_881));
    }

    fn hash(n: &Number) -> u64 {
        use std::collections::hash_map::DefaultHasher;
        let mut h = DefaultHasher::new();
        n.hash(&mut h);
        h.finish()
    }

    #[test]
    fn boundaries_compare_exactly() {
        let two53 = 9_007_199_254_740_992i64;
        assert_eq!(Number::from_f64(two53 as f64).unwrap(), Number::from_i64(two53));
        assert_ne!(Number::from_f64(two53 as f64).unwrap(), Number::from_i64(two53 + 1));
        // i64::MAX is not a float; the nearest float is 2^63, which is beyond i64.
        assert_ne!(Number::from_f64(i64::MAX as f64).unwrap(), Number::from_i64(i64::MAX));
        assert_eq!(Number::from_f64(i64::MAX as f64).unwrap(), p("9223372036854775808"));
        assert_eq!(Number::from_f64(i64::MIN as f64).unwrap(), Number::from_i64(i64::MIN));
        assert_eq!(Number::from_f64(u64::MAX as f64).unwrap(), p("18446744073709551616"));
        assert_eq!(Number::from_u64(u64::MAX), p("18446744073709551615"));
        // 1e300 as a float is a 301-digit integer close to, but not exactly, 10^300.
        let big = Number::from_f64(1e300).unwrap();
        assert!(big.is_integer());
        assert_ne!(big, p("1e300"));
        assert_eq!(big, p(&exact_decimal(1e300)));
        assert_eq!(exact_decimal(1e300).len(), 301);
        assert!(!Number::from_f64(f64::MIN_POSITIVE).unwrap().is_integer());
        assert_eq!(Number::from_f64(5e-324).unwrap(), p(&exact_decimal(5e-324)));
        assert_eq!(Number::from_f64(-2.5).unwrap(), p("-2.5"));
    }

    #[test]
    fn display_is_human() {
        assert_eq!(Number::from_i64(80).to_string(), "80");
        assert_eq!(Number::from_f64(80.0).unwrap().to_string(), "80");
        assert_eq!(p("0.1").to_string(), "0.1");
        assert_eq!(p("80.0").to_string(), "80");
        assert_eq!(p("-12.50").to_string(), "-12.5");
        assert_eq!(p("0.00012").to_string(), "0.00012");
        assert_eq!(p("1e3").to_string(), "1000");
        assert_eq!(p("1e400").to_string(), "1e400");
        assert_eq!(p("1e39").to_string(), format!("1{}", "0".repeat(39)));
        assert_eq!(p("1e40").to_string(), "1e40");
        assert_eq!(p("1.5e-20").to_string(), "1.5e-20");
        assert_eq!(Number::from_u64(u64::MAX).to_string(), "18446744073709551615");
    }

    #[test]
    fn as_f64_and_integer() {
        assert_eq!(p("0.1").as_f64(), 0.1);
        assert_eq!(p("-1e3").as_f64(), -1000.0);
        assert_eq!(Number::from_i64(7).as_f64(), 7.0);
        assert!(p("1e400").as_f64().is_infinite());
        assert!(p("1e400").is_integer());
        assert!(!p("0.5").is_integer());
    }
}
