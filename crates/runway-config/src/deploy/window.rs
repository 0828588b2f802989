//! `[environments.<name>.window]`: when deploys may happen. Day names,
//! hours, time zone and freeze dates are parsed here, so a typo fails at
//! load time with its position instead of refusing a deploy later.

use serde::{Deserialize, Deserializer, de::Error as _};

/// How a week span is written, for the messages that refuse one.
const SPAN_SHAPE: &str = "write it as `Tue 10:00-16:00`, `Mon-Fri 09:00-17:00` or `Fri`";

/// Why a week span ([`WeekSpan::parse`]) or a freeze ([`Freeze::parse`])
/// was refused; each names the text as written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    #[error("`{text}` has an unknown day: {}", SPAN_SHAPE)]
    UnknownDay { text: String },
    #[error("`{text}` needs hours as `HH:MM-HH:MM`: {}", SPAN_SHAPE)]
    NoHours { text: String },
    #[error(
        "`{text}` has a bad time (use 24-hour `HH:MM`, up to `24:00`): {}",
        SPAN_SHAPE
    )]
    BadTime { text: String },
    #[error("`{text}`: the window must end after it starts on the same day")]
    EndsBeforeStart { text: String },
    #[error("`{text}` is not a date: write `2026-12-24` or a range `2026-12-20..2027-01-02`")]
    NotADate { text: String },
    #[error("`{text}`: the range ends before it starts")]
    BackwardsRange { text: String },
}

/// A day of the week, Monday first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Day {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Day {
    pub const ALL: [Day; 7] = [
        Day::Mon,
        Day::Tue,
        Day::Wed,
        Day::Thu,
        Day::Fri,
        Day::Sat,
        Day::Sun,
    ];

    /// 0 for Monday ... 6 for Sunday.
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn as_str(self) -> &'static str {
        ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][self.index()]
    }

    fn parse(s: &str) -> Option<Day> {
        let l = s.trim().to_ascii_lowercase();
        let full = [
            "monday",
            "tuesday",
            "wednesday",
            "thursday",
            "friday",
            "saturday",
            "sunday",
        ];
        Day::ALL
            .into_iter()
            .zip(full)
            .find(|(d, f)| l == d.as_str().to_ascii_lowercase() || l == *f)
            .map(|(d, _)| d)
    }
}

/// Days and hours of the week, local to the window's time zone: `Tue 10:00-16:00`,
/// `Mon-Fri 09:00-17:30`, `Fri` (the whole day).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeekSpan {
    /// The days it covers, Monday first.
    pub days: Vec<Day>,
    /// Minutes after midnight, inclusive.
    pub start_minute: u16,
    /// Minutes after midnight, exclusive (1440 = the end of the day).
    pub end_minute: u16,
    /// As written, for messages and the record.
    pub text: String,
}

impl WeekSpan {
    pub fn parse(text: &str) -> Result<WeekSpan, WindowError> {
        let t = text.trim();
        let (days_part, hours_part) = match t.split_once(char::is_whitespace) {
            Some((d, h)) => (d, Some(h.trim())),
            None => (t, None),
        };
        let days = match days_part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (Day::parse(a), Day::parse(b));
                let (Some(a), Some(b)) = (a, b) else {
                    return Err(WindowError::UnknownDay { text: text.into() });
                };
                // A range may wrap the week: `Sat-Sun`, `Fri-Mon`.
                let mut v = Vec::new();
                let mut i = a.index();
                loop {
                    v.push(Day::ALL[i]);
                    if i == b.index() {
                        break;
                    }
                    i = (i + 1) % 7;
                }
                v
            }
            None => match Day::parse(days_part) {
                Some(d) => vec![d],
                None => return Err(WindowError::UnknownDay { text: text.into() }),
            },
        };
        let (start_minute, end_minute) = match hours_part {
            None => (0, 1440),
            Some(h) => {
                let Some((a, b)) = h.split_once('-') else {
                    return Err(WindowError::NoHours { text: text.into() });
                };
                let (Some(a), Some(b)) = (minute_of_day(a), minute_of_day(b)) else {
                    return Err(WindowError::BadTime { text: text.into() });
                };
                if a >= b {
                    return Err(WindowError::EndsBeforeStart { text: text.into() });
                }
                (a, b)
            }
        };
        Ok(WeekSpan {
            days,
            start_minute,
            end_minute,
            text: t.to_owned(),
        })
    }

    /// Whether `day` at `minute` after midnight falls in this span.
    pub fn contains(&self, day: Day, minute: u16) -> bool {
        self.days.contains(&day) && minute >= self.start_minute && minute < self.end_minute
    }
}

fn minute_of_day(s: &str) -> Option<u16> {
    let (h, m) = s.trim().split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    if m >= 60 || h > 24 || (h == 24 && m != 0) {
        return None;
    }
    Some(h * 60 + m)
}

impl<'de> Deserialize<'de> for WeekSpan {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        WeekSpan::parse(&s).map_err(D::Error::custom)
    }
}

/// A freeze: one date or an inclusive range, in the window's time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Freeze {
    pub from: jiff::civil::Date,
    pub to: jiff::civil::Date,
    pub text: String,
}

impl Freeze {
    pub fn parse(text: &str) -> Result<Freeze, WindowError> {
        let t = text.trim();
        let date = |s: &str| {
            s.trim()
                .parse::<jiff::civil::Date>()
                .map_err(|_| WindowError::NotADate { text: text.into() })
        };
        let (from, to) = match t.split_once("..") {
            Some((a, b)) => (date(a)?, date(b)?),
            None => (date(t)?, date(t)?),
        };
        if to < from {
            return Err(WindowError::BackwardsRange { text: text.into() });
        }
        Ok(Freeze {
            from,
            to,
            text: t.to_owned(),
        })
    }

    pub fn contains(&self, date: jiff::civil::Date) -> bool {
        date >= self.from && date <= self.to
    }
}

impl<'de> Deserialize<'de> for Freeze {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Freeze::parse(&s).map_err(D::Error::custom)
    }
}

/// An IANA time zone name that was found in the time zone database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeZoneName(pub String);

impl TimeZoneName {
    pub fn time_zone(&self) -> jiff::tz::TimeZone {
        // Validated on load; UTC only if the database changed under us.
        jiff::tz::TimeZone::get(&self.0).unwrap_or(jiff::tz::TimeZone::UTC)
    }
}

impl Default for TimeZoneName {
    fn default() -> Self {
        TimeZoneName("UTC".into())
    }
}

impl<'de> Deserialize<'de> for TimeZoneName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match jiff::tz::TimeZone::get(s.trim()) {
            Ok(_) => Ok(TimeZoneName(s.trim().to_owned())),
            Err(_) => Err(D::Error::custom(format!(
                "`{s}` is not an IANA time zone (e.g. `UTC`, `Europe/London`, `Australia/Sydney`)"
            ))),
        }
    }
}

/// What a deploy outside every `allow` span (and not blocked) gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outside {
    /// Refused, unless `--emergency` (the default).
    #[default]
    Refuse,
    /// Allowed, with a warning in the plan and the record.
    Warn,
}

fn default_allow() -> Vec<WeekSpan> {
    ["Tue 10:00-16:00", "Wed 10:00-16:00"]
        .into_iter()
        .map(|s| WeekSpan::parse(s).expect("the default window parses"))
        .collect()
}

fn default_block() -> Vec<WeekSpan> {
    ["Fri", "Sat", "Sun"]
        .into_iter()
        .map(|s| WeekSpan::parse(s).expect("the default block parses"))
        .collect()
}

/// `[environments.<name>.window]`: when deploys may happen. Defaults are the
/// Tabcorp runbook's: Tue and Wed 10:00-16:00 UTC, never Friday or the weekend.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowConfig {
    /// IANA name (default `UTC`).
    #[serde(default)]
    pub timezone: TimeZoneName,
    /// When deploys are preferred.
    #[serde(default = "default_allow")]
    pub allow: Vec<WeekSpan>,
    /// When deploys are refused even inside `allow` (default Fri, Sat, Sun).
    #[serde(default = "default_block")]
    pub block: Vec<WeekSpan>,
    /// Dates (or `from..to` ranges) with no deploys.
    #[serde(default)]
    pub freeze: Vec<Freeze>,
    /// `refuse` (default) or `warn` outside `allow`.
    #[serde(default)]
    pub outside: Outside,
}

impl Default for WindowConfig {
    fn default() -> Self {
        WindowConfig {
            timezone: TimeZoneName::default(),
            allow: default_allow(),
            block: default_block(),
            freeze: Vec::new(),
            outside: Outside::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn week_spans_cover_ranges_and_whole_days() {
        let s = WeekSpan::parse("Fri-Mon").unwrap();
        assert_eq!(s.days, vec![Day::Fri, Day::Sat, Day::Sun, Day::Mon]);
        assert_eq!((s.start_minute, s.end_minute), (0, 1440));
        let s = WeekSpan::parse("monday-wednesday 09:30-24:00").unwrap();
        assert_eq!(s.days, vec![Day::Mon, Day::Tue, Day::Wed]);
        assert!(s.contains(Day::Tue, 23 * 60 + 59));
        assert!(!s.contains(Day::Tue, 9 * 60 + 29));
        assert!(WeekSpan::parse("Tue 10-16").is_err());
        let f = Freeze::parse("2026-12-20..2027-01-02").unwrap();
        assert!(f.contains(jiff::civil::date(2027, 1, 1)));
        assert!(!f.contains(jiff::civil::date(2027, 1, 3)));
        assert!(Freeze::parse("2027-01-02..2026-12-20").is_err());
    }
}
