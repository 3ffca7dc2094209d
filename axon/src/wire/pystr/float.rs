//! Python's float text, in the two styles a synapse meets.
//!
//! Both start from the shortest digits that round-trip (Python's `repr` algorithm, which
//! ryu computes too) and differ only in layout:
//!
//! | value     | [`FloatStyle::Repr`] (`str()`, `json.dumps`) | [`FloatStyle::Pydantic`] (`model_dump_json`) |
//! |-----------|-----------------------|------------------------|
//! | `1e-05`   | `1e-05`               | `0.00001`              |
//! | `1e-06`   | `1e-06`               | `1e-6`                 |
//! | `1e16`    | `1e+16`               | `1e+16`                |
//! | `1.0`     | `1.0`                 | `1.0`                  |

/// Which Python layout to use for a float.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FloatStyle {
    /// `repr(float)`: fixed notation for decimal exponents -4..=15, else `d.ddde±XX`.
    Repr,
    /// pydantic-core's JSON: fixed notation for decimal exponents -5..=15, else `d.ddde±X`.
    Pydantic,
}

/// The shortest round-trip digits of a finite float: `0.DIGITS × 10^decpt`.
struct Shortest {
    negative: bool,
    digits: [u8; 24],
    len: usize,
    decpt: i32,
}

impl Shortest {
    fn of(value: f64) -> Self {
        let mut ryu_buf = ryu::Buffer::new();
        let text = ryu_buf.format_finite(value).as_bytes();
        let (negative, text) = match text.split_first() {
            Some((b'-', rest)) => (true, rest),
            _ => (false, text),
        };
        let (mantissa, exp) = match text.iter().position(|&c| c == b'e') {
            Some(i) => (&text[..i], parse_exp(&text[i + 1..])),
            None => (text, 0),
        };
        let mut digits = [0u8; 24];
        let mut len = 0;
        let mut point = None;
        for &c in mantissa {
            if c == b'.' {
                point = Some(len);
            } else {
                digits[len] = c;
                len += 1;
            }
        }
        let point = point.unwrap_or(len) as i32;
        let lead = digits[..len].iter().take_while(|&&c| c == b'0').count();
        if lead == len {
            digits[0] = b'0';
            return Shortest {
                negative,
                digits,
                len: 1,
                decpt: 1,
            };
        }
        digits.copy_within(lead..len, 0);
        len -= lead;
        while digits[len - 1] == b'0' {
            len -= 1;
        }
        Shortest {
            negative,
            digits,
            len,
            decpt: point - lead as i32 + exp,
        }
    }
}

fn parse_exp(text: &[u8]) -> i32 {
    let (sign, digits) = match text.split_first() {
        Some((b'-', rest)) => (-1, rest),
        _ => (1, text),
    };
    sign * digits
        .iter()
        .fold(0i32, |acc, &d| acc * 10 + i32::from(d - b'0'))
}

/// Appends `value` to `out` in the given style. Non-finite values are written as Python's
/// `repr` does (`inf`, `-inf`, `nan`); JSON callers never pass them (JSON writes `null`).
pub(crate) fn write_float(out: &mut String, value: f64, style: FloatStyle) {
    if value.is_nan() {
        out.push_str("nan");
        return;
    }
    if value.is_infinite() {
        out.push_str(if value < 0.0 { "-inf" } else { "inf" });
        return;
    }
    let s = Shortest::of(value);
    let digits = &s.digits[..s.len];
    // Everything below is ASCII digits, '.', 'e', '+' and '-'.
    let digit_str = std::str::from_utf8(digits).unwrap_or("0");
    if s.negative {
        out.push('-');
    }
    let exp = s.decpt - 1;
    let lowest_fixed = match style {
        FloatStyle::Repr => -4,
        FloatStyle::Pydantic => -5,
    };
    if (lowest_fixed..16).contains(&exp) {
        if s.decpt <= 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-s.decpt) as usize));
            out.push_str(digit_str);
        } else if (s.decpt as usize) < s.len {
            let (int, frac) = digit_str.split_at(s.decpt as usize);
            out.push_str(int);
            out.push('.');
            out.push_str(frac);
        } else {
            out.push_str(digit_str);
            out.extend(std::iter::repeat_n('0', s.decpt as usize - s.len));
            out.push_str(".0");
        }
    } else {
        out.push_str(&digit_str[..1]);
        if s.len > 1 {
            out.push('.');
            out.push_str(&digit_str[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let abs = exp.unsigned_abs();
        if style == FloatStyle::Repr && abs < 10 {
            out.push('0');
        }
        out.push_str(itoa_u32(abs, &mut [0u8; 10]));
    }
}

fn itoa_u32(mut n: u32, buf: &mut [u8; 10]) -> &str {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[i..]).unwrap_or("0")
}

/// The `f64` a Python peer sees for an `f32`: the float whose shortest text equals the
/// `f32`'s shortest text (JSON carries `0.1`, not `0.10000000149011612`).
pub(crate) fn widen_f32(value: f32) -> f64 {
    if !value.is_finite() {
        return f64::from(value);
    }
    let mut buf = ryu::Buffer::new();
    buf.format_finite(value).parse().unwrap_or(f64::from(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(v: f64, style: FloatStyle) -> String {
        let mut s = String::new();
        write_float(&mut s, v, style);
        s
    }

    #[test]
    fn repr_layout_follows_python() {
        let cases = [
            (0.1, "0.1"),
            (1.0, "1.0"),
            (-0.0, "-0.0"),
            (0.0001, "0.0001"),
            (1e-5, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.5e300, "1.5e+300"),
            (5e-324, "5e-324"),
            (123.456, "123.456"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
        ];
        for (v, want) in cases {
            assert_eq!(render(v, FloatStyle::Repr), want, "repr of {v:e}");
        }
    }

    #[test]
    fn pydantic_layout_moves_the_low_threshold() {
        assert_eq!(render(1e-5, FloatStyle::Pydantic), "0.00001");
        assert_eq!(render(1e-6, FloatStyle::Pydantic), "1e-6");
        assert_eq!(render(1e16, FloatStyle::Pydantic), "1e+16");
        assert_eq!(render(1.2345e-5, FloatStyle::Pydantic), "0.000012345");
    }

    #[test]
    fn f32_widens_to_its_shortest_decimal() {
        assert_eq!(widen_f32(0.1), 0.1f64);
        assert_eq!(widen_f32(f32::MAX), 3.4028235e38f64);
    }
}
